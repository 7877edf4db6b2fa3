;; scale_loc_transform: each location-scale family, the skip cases
;; (location numerically 0, scale numerically 1, as numbers or literal
;; tensors), backwards, and with non_obs_walko.
(load "../../relations/stats.scm")
(define (step a) (run* (q) (scale_loc_transform a q)))
(define (rewrite o) (run 1 (q) (reduceo (lambda (a b) (walko scale_loc_transform a b)) o q)))
(test "normal" (step '(NormalRV m s () rng "x")) '((add m (mul s (NormalRV 0.0 1.0 () rng "x_offset")))))
(test "cauchy" (step '(CauchyRV m s (3) rng "x")) '((add m (mul s (CauchyRV 0.0 1.0 (3) rng "x_offset")))))
(test "laplace" (step '(LaplaceRV m b () r2 "x")) '((add m (mul b (LaplaceRV 0.0 1.0 () r2 "x_offset")))))
(test "logistic" (step '(LogisticRV 2.0 3.0 () rng "x")) '((add 2.0 (mul 3.0 (LogisticRV 0.0 1.0 () rng "x_offset")))))
(test "studentt keeps nu" (step '(StudentTRV 4.0 m s () rng "t"))
      '((add m (mul s (StudentTRV 4.0 0.0 1.0 () rng "t_offset")))))
(test "location-scale parameters are terms"
      (step '(NormalRV (add a b) (exp c) (2) rng "x"))
      '((add (add a b) (mul (exp c) (NormalRV 0.0 1.0 (2) rng "x_offset")))))
;; skipped: numerically 0 location, numerically 1 scale
(test "location 0.0" (step '(NormalRV 0.0 s () rng "x")) '())
(test "location 0" (step '(CauchyRV 0 s () rng "x")) '())
(test "location #[0.0 0]" (step '(NormalRV #[0.0 0] s (2) rng "x")) '())
(test "location #[0.0 1.0] is not 0" (length (step '(NormalRV #[0.0 1.0] s (2) rng "x"))) 1)
(test "scale 1" (step '(LaplaceRV m 1 () rng "x")) '())
(test "scale 1.0" (step '(StudentTRV 3.0 m 1.0 () rng "x")) '())
(test "scale #[[1.0 1] [1.0 1.0]]" (step '(NormalRV m #[[1.0 1] [1.0 1.0]] (2 2) rng "x")) '())
(test "scale 2.0 is not 1" (length (step '(NormalRV m 2.0 () rng "x"))) 1)
;; not location-scale families here, or not a distribution
(test "half-cauchy" (step '(HalfCauchyRV m s () rng "x")) '())
(test "gamma" (step '(GammaRV m s () rng "x")) '())
(test "user operator" (step '(foo m s () rng "x")) '())
(test "name not a string" (step '(NormalRV m s () rng x)) '())
(test "wrong arity" (step '(NormalRV m s () rng)) '())
;; the offset is not rewritten again: the fixed point is one step
(test "fixed point" (rewrite '(NormalRV m s () rng "x")) '((add m (mul s (NormalRV 0.0 1.0 () rng "x_offset")))))
;; nested: the outer first (walko's order), the prior in the next pass
(test "nested: one step" (run 1 (q) (walko scale_loc_transform '(NormalRV (NormalRV m0 s0 () rng "mu") s () rng "x") q))
      '((add (NormalRV m0 s0 () rng "mu") (mul s (NormalRV 0.0 1.0 () rng "x_offset")))))
(test "nested: fixed point"
      (rewrite '(NormalRV (NormalRV m0 s0 () rng "mu") s () rng "x"))
      '((add (add m0 (mul s0 (NormalRV 0.0 1.0 () rng "mu_offset"))) (mul s (NormalRV 0.0 1.0 () rng "x_offset")))))
(test "no redex: no answer" (rewrite '(NormalRV 0.0 1.0 () rng "z")) '())
;; backwards
(test "backwards normal" (run* (q) (scale_loc_transform q '(add m (mul s (NormalRV 0.0 1.0 () rng "x_offset")))))
      '((NormalRV m s () rng "x")))
(test "backwards studentt" (run* (q) (scale_loc_transform q '(add m (mul s (StudentTRV 5.0 0.0 1.0 () rng "t_offset")))))
      '((StudentTRV 5.0 m s () rng "t")))
(test "backwards: no _offset suffix" (run* (q) (scale_loc_transform q '(add m (mul s (NormalRV 0.0 1.0 () rng "x"))))) '())
(test "backwards: 0 location" (run* (q) (scale_loc_transform q '(add 0.0 (mul s (NormalRV 0.0 1.0 () rng "x_offset"))))) '())
;; non_obs_walko: the observed variable stays, its parameters are rewritten
(test "non_obs_walko"
      (run 1 (q) (reduceo (lambda (a b) (non_obs_walko scale_loc_transform a b))
                          '(observed #[1.0] (CauchyRV (LaplaceRV m b () rng "l") 2.0 () rng "y")) q))
      '((observed #[1.0] (CauchyRV (add m (mul b (LaplaceRV 0.0 1.0 () rng "l_offset"))) 2.0 () rng "y"))))
(test "non_obs_walko: observed variable alone"
      (run 1 (q) (reduceo (lambda (a b) (non_obs_walko scale_loc_transform a b))
                          '(observed #[1.0] (NormalRV m s () rng "y")) q))
      '())
