;; conjugate and scale_loc_transform decide a known node by a shortcut:
;; conjugate, at (observed y lik), runs only the pair lik's head selects;
;; scale_loc_transform, at a ground list, computes the answer from the
;; elements.  Here each against the relation it shortcuts, on
;; every combination of the parts below (ground, with a variable inside
;; an element, a variable as an element or a head): all answers, in
;; order, equal.
(load "../../relations/stats.scm")

;; ground? on projected terms: a variable, a list holding one, a list
;; holding a bound one
(printf "ground?: ~a~%" (run 1 (q) (fresh (x y) (== y 1) (project (x y) (== q (list (ground? x) (ground? (list 1 (list x))) (ground? (list 1 (list y)))))))))

(define cases 0)
(define answered 0)
(define (same what a got want)
  (set! cases (+ cases 1))
  (if (pair? want) (set! answered (+ answered 1)))
  (if (not (equal? got want)) (printf "MISMATCH ~a ~s:~%  got  ~s~%  want ~s~%" what a got want)))

;; Each element of l, then each element of l with q for the marker 'Q
;; (a logic variable inside the term).
(define (subst-q t q) (cond ((eq? t 'Q) q) ((pair? t) (cons (subst-q (car t) q) (subst-q (cdr t) q))) (else t)))

;; ---- scale_loc_transform ----
(define locs '(0 0.0 1 1.0 #[0.0 0.0] #[1.0 0.0] m (add m 1.0) (add Q 1.0) Q))
(define names '("x" x "y_offset" 3 Q))
(define (slt-check a)
  (same 'scale_loc_transform a
        (run* (b) (fresh (q) (scale_loc_transform (subst-q a q) b)))
        (run* (b) (fresh (q) (stats-scale-loc (subst-q a q) b)))))
(for-each
 (lambda (op)
   (for-each
    (lambda (mu)
      (for-each
       (lambda (s)
         (for-each
          (lambda (name)
            (slt-check `(,op ,mu ,s () rng ,name))
            (slt-check `(,op 5.0 ,mu ,s (3) rng ,name))
            (slt-check `(,op ,mu ,s () ,name)))
          names))
       locs))
    locs))
 '(NormalRV CauchyRV LaplaceRV LogisticRV StudentTRV HalfCauchyRV Q))
(printf "scale_loc_transform: ~a cases, ~a with answers~%" cases answered)

;; ---- conjugate ----
(set! cases 0)
(set! answered 0)
(define priors
  '((NormalRV 0.0 1.0 () rng "mu") (NormalRV #[0.0 0.0] 1.0 () rng "mu") (NormalRV Q 1.0 () rng "mu")
    (MvNormalRV a R () rng "b") (GammaRV 2.0 1.0 () rng "l") (GammaRV 2.0 1.0 (3) rng "l")
    (BetaRV 1.0 1.0 () rng "p") (DirichletRV #[1.0 1.0] () rng "d") (StudentTRV 3.0 0.0 1.0 () rng "t") Q))
(define (liks prior)
  `((NormalRV ,prior 2.0 (2) rng "y") (NormalRV ,prior #[1.0 2.0] (2) rng "y")
    (MvNormalRV (dot F ,prior) V () rng "y") (MvNormalRV (dot F ,prior) V (2) rng "y")
    (PoissonRV ,prior (2) rng "y") (BinomialRV 10 ,prior (2) rng "y") (BernoulliRV ,prior (2) rng "y")
    (NegBinomialRV 3 ,prior (2) rng "y") (CategoricalRV ,prior (2) rng "y") (MultinomialRV 3 ,prior () rng "y")
    (StudentTRV 3.0 ,prior 1.0 () rng "y") (Q ,prior 2.0 (2) rng "y") Q))
(define (conj-check a others)
  (set! stats-other-outputs others)
  (same 'conjugate (list a others)
        (run* (b) (fresh (q) (conjugate (subst-q a q) b)))
        (run* (b) (fresh (q) ((stats-conjugate-given (stats-others)) (subst-q a q) b)))))
(for-each
 (lambda (prior)
   (for-each
    (lambda (lik)
      (for-each
       (lambda (y)
         (conj-check `(observed ,y ,lik) '())
         (conj-check `(observed ,y ,lik) (list `(add ,prior 1.0)))
         (conj-check `(Q ,y ,lik) '())
         (conj-check `(observed ,y ,lik extra) '()))
       (list '#[1.0 2.0] 'y prior 'Q)))
    (liks prior)))
 priors)
(set! stats-other-outputs '())
(printf "conjugate: ~a cases, ~a with answers~%" cases answered)
