;; The statistical relations of relations/stats.scm on the seed's models:
;; the MvNormal regression rewritten to beta's closed-form posterior
;; (conjugate), and the radon model non-centred (scale_loc_transform under
;; non_obs_walko, so the observed likelihood stays as it is).
;;   pkanren run examples/stats_demo.scm
(load "../relations/stats.scm")

;; A model without the test values of its inputs (the radon data are three
;; 919-element tensors), for a short listing.
(define (without-values m)
  (map (lambda (d) (if (and (pair? d) (eq? (car d) 'input)) (list 'input (cadr d) (caddr d)) d)) m))

(define (show title m)
  (display title)
  (newline)
  (write-model (without-values m))
  (newline))

(define regression (car (read-models "regression.model")))
(define radon (car (read-models "radon.model")))

(show ";; regression.model" regression)
(show ";; after conjugate: the observation is beta's posterior" (stats-rewrite-model walko conjugate regression))
(show ";; radon.model (data inputs shown without their values)" radon)
(show ";; after scale_loc_transform with non_obs_walko: a and b non-centred"
      (stats-rewrite-model non_obs_walko scale_loc_transform radon))
