;; examples/normal_normal.model through scale_loc_transform (non_obs_walko)
;; and through conjugate (walko), then the posterior canonicalised.
(load "../../relations/stats.scm")
(define m (car (read-models "../../examples/normal_normal.model")))
(define o (car (model-outputs m)))
(define (rewrite walker rel o) (run 1 (q) (reduceo (lambda (a b) (walker rel a b)) o q)))
(define nc (rewrite non_obs_walko scale_loc_transform o))
(write-model (stats-with-outputs m nc))
(test "non-centred as symbolic-pymc" nc
      '((observed 1.5 (NormalRV (add m0 (mul s0 (NormalRV 0.0 1.0 () rng "mu_offset"))) 1.0 () rng "y"))))
(define post (rewrite walko conjugate o))
(write-model (stats-with-outputs m post))
(define P '(add (true_div 1.0 (sqr s0)) (true_div (size 1.5) (sqr 1.0))))
(test "posterior" post
      `((NormalRV (true_div (add (true_div m0 (sqr s0)) (true_div (sum 1.5) (sqr 1.0))) ,P)
                  (sqrt (true_div 1.0 ,P)) () rng "mu")))
(define simple (rewrite walko canonicalize (car post)))
(write-model (stats-with-outputs m simple))
(test "posterior canonicalised" simple
      '((NormalRV (true_div (add (true_div m0 (sqr s0)) 1.5) (add (true_div 1.0 (sqr s0)) 1.0))
                  (sqrt (true_div 1.0 (add (true_div 1.0 (sqr s0)) 1.0))) () rng "mu")))
;; The non-centred model has no conjugate pair left (mu is now a sum), and
;; the posterior is not non-centred again by non_obs_walko (not observed).
(test "no conjugate after non-centring" (rewrite walko conjugate (car nc)) '())
(test "non_obs_walko needs an observation" (rewrite non_obs_walko scale_loc_transform (car post)) '())
