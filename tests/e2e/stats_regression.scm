;; examples/regression.model rewritten by `conjugate` through the relational
;; definition: the observation becomes beta's closed-form posterior, SPEC
;; §5's form with Q and A, beta's SIZE, RNG and NAME.
(load "../../relations/stats.scm")
(define m (car (read-models "../../examples/regression.model")))
(define o (car (model-outputs m)))
(define r (run 1 (q) (reduceo (lambda (a b) (walko conjugate a b)) o q)))
(write-model (stats-with-outputs m r))
;; The same term written out by hand from SPEC.
(define Q '(add V (dot F (dot R (transpose F)))))
(define A `(dot (dot R (transpose F)) (matrix_inverse ,Q)))
(define spec `(MvNormalRV (add a (dot ,A (sub #[-3.0] (dot F a)))) (sub R (dot (dot ,A ,Q) (transpose ,A))) () rng "beta"))
(test "regression posterior is SPEC's form" r (list spec))
;; One step is the whole rewrite: the posterior has no redex left.
(test "one step" (run* (q) (walko conjugate o q)) (list spec))
(test "posterior is a normal form" (run* (q) (walko conjugate spec q)) '())
;; The library's model rewrite (what a driver does) gives the same model.
(test "stats-rewrite-model" (stats-rewrite-model walko conjugate m) (stats-with-outputs m r))
;; Backwards: from the posterior and the observed value, the observation.
(test "backwards"
      (run 1 (q) (fresh (lik) (== q `(observed #[-3.0] ,lik)) (conjugate q spec)))
      '((observed #[-3.0] (MvNormalRV (dot F (MvNormalRV a R () rng "beta")) V () _.0 _.1))))
