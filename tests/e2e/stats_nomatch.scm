;; Every relation of relations/stats.scm, with walko and with
;; non_obs_walko, on models it does not fit: no answer, no error, every
;; model unchanged.
(load "../../relations/stats.scm")
(define models (read-models "models/stats_nomatch.model"))
(define relations (list (cons 'conjugate conjugate) (cons 'scale_loc_transform scale_loc_transform)
                        (cons 'scale_mixture scale_mixture) (cons 'canonicalize canonicalize)))
(for-each
 (lambda (m)
   (for-each
    (lambda (r)
      (for-each
       (lambda (w)
         (printf "~a ~a ~a: ~a~%" (cadr m) (car r) (car w)
                 (if (equal? (stats-rewrite-model (cdr w) (cdr r) m) m) "unchanged" "CHANGED")))
       (list (cons 'walko walko) (cons 'non_obs_walko non_obs_walko))))
    relations))
 models)
