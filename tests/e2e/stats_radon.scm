;; examples/radon.model non-centred by scale_loc_transform under
;; non_obs_walko (the relational definition): a and b become mu + sigma *
;; N(0, 1) offsets "a_offset" and "b_offset"; mu_a, mu_b (literal 0 mean),
;; the half-Cauchy scales, eps and the observed likelihood are unchanged —
;; the first answer symbolic-pymc/kanren give (reference models.sexp).
(load "../../relations/stats.scm")
(define m (car (read-models "../../examples/radon.model")))
(define o (car (model-outputs m)))
(define r (run 1 (q) (reduceo (lambda (a b) (non_obs_walko scale_loc_transform a b)) o q)))
(write-model (stats-with-outputs m r))
(define (list-head-inputs m) (filter (lambda (d) (and (pair? d) (eq? (car d) (quote input)))) m))
(define mu_a '(NormalRV 0.0 10000.0 () rng "mu_a"))
(define sigma_a '(HalfCauchyRV 0.0 5.0 () rng "sigma_a"))
(define mu_b '(NormalRV 0.0 10000.0 () rng "mu_b"))
(define sigma_b '(HalfCauchyRV 0.0 5.0 () rng "sigma_b"))
(define eps '(HalfCauchyRV 0.0 5.0 () rng "eps"))
(define expected
  `(observed log_radon
     (NormalRV (add (index (add ,mu_a (mul ,sigma_a (NormalRV 0.0 1.0 (85) rng "a_offset"))) county_idx)
                    (mul (index (add ,mu_b (mul ,sigma_b (NormalRV 0.0 1.0 (85) rng "b_offset"))) county_idx) floor))
               ,eps () rng "radon_like")))
(test "radon non-centred as symbolic-pymc" r (list expected))
(test "the non-centred model is a fixed point"
      (run* (q) (non_obs_walko scale_loc_transform expected q)) '())
;; The inputs and their test values are untouched.
(test "inputs kept" (list-head-inputs (stats-with-outputs m r)) (list-head-inputs m))
;; walko instead of non_obs_walko also non-centres the observed variable
;; (why the radon rewrite uses non_obs_walko).
(test "walko rewrites the likelihood too"
      (run 1 (q) (reduceo (lambda (a b) (walko scale_loc_transform a b)) o q))
      (list `(observed log_radon (add ,(car (cdaddr expected)) (mul ,eps (NormalRV 0.0 1.0 () rng "radon_like_offset"))))))
;; Nothing in radon is conjugate in the library's sense (the observation's
;; mean is not a prior): no answer, the model unchanged.
(test "radon has no conjugate" (run 1 (q) (reduceo (lambda (a b) (walko conjugate a b)) o q)) '())
(test "radon unchanged by conjugate" (stats-rewrite-model walko conjugate m) (stats-with-outputs m (list o)))
