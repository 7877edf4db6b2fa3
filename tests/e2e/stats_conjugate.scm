;; conjugate, pair by pair: the posterior form, then the same canonicalised
;; (literal data folded), and the cases that must not match.
(load "../../relations/stats.scm")
(define (rewrite rel o) (run 1 (q) (reduceo (lambda (a b) (walko rel a b)) o q)))
(define (post o) (rewrite conjugate o))
(define (posterior-value o) (rewrite canonicalize (car (post o))))

;; Normal-Normal, known scale 2.0, three observations.
(define nn '(observed #[1.0 2.0 3.0] (NormalRV (NormalRV m0 s0 () rng "mu") 2.0 (3) rng "y")))
(test "normal-normal vector" (post nn)
      '((NormalRV (true_div (add (true_div m0 (sqr s0)) (true_div (sum #[1.0 2.0 3.0]) (sqr 2.0)))
                            (add (true_div 1.0 (sqr s0)) (true_div (size #[1.0 2.0 3.0]) (sqr 2.0))))
                  (sqrt (true_div 1.0 (add (true_div 1.0 (sqr s0)) (true_div (size #[1.0 2.0 3.0]) (sqr 2.0)))))
                  () rng "mu")))
(test "normal-normal folded" (posterior-value nn)
      '((NormalRV (true_div (add (true_div m0 (sqr s0)) 1.5) (add (true_div 1.0 (sqr s0)) 0.75))
                  (sqrt (true_div 1.0 (add (true_div 1.0 (sqr s0)) 0.75))) () rng "mu")))
(test "normal-normal literal prior"
      (posterior-value '(observed #[1.0 3.0] (NormalRV (NormalRV 0.0 1.0 () rng "mu") 1.0 (2) rng "y")))
      '((NormalRV 1.3333333333333333 0.5773502691896257 () rng "mu")))

;; Gamma-Poisson.
(define gp '(observed #[1 0 3] (PoissonRV (GammaRV 2.0 1.0 () rng "lam") (3) rng "y")))
(test "gamma-poisson" (post gp) '((GammaRV (add 2.0 (sum #[1 0 3])) (add 1.0 (size #[1 0 3])) () rng "lam")))
(test "gamma-poisson folded" (posterior-value gp) '((GammaRV 6.0 4.0 () rng "lam")))
(test "gamma-poisson symbolic data"
      (post '(observed y (PoissonRV (GammaRV alpha beta () rng "lam") (N) rng "y")))
      '((GammaRV (add alpha (sum y)) (add beta (size y)) () rng "lam")))

;; Beta-Binomial, 10 trials each.
(define bb '(observed #[3 5] (BinomialRV 10 (BetaRV 1.0 1.0 () rng "p") (2) rng "y")))
(test "beta-binomial" (post bb) '((BetaRV (add 1.0 (sum #[3 5])) (add 1.0 (sum (sub 10 #[3 5]))) () rng "p")))
(test "beta-binomial folded" (posterior-value bb) '((BetaRV 9.0 13.0 () rng "p")))
(test "beta-binomial trials per observation"
      (posterior-value '(observed #[3 5] (BinomialRV #[4 10] (BetaRV 1.0 1.0 () rng "p") (2) rng "y")))
      '((BetaRV 9.0 7.0 () rng "p")))

;; Beta-Bernoulli.
(define bern '(observed #[1 0 1 1] (BernoulliRV (BetaRV 2.0 2.0 () rng "p") (4) rng "y")))
(test "beta-bernoulli" (post bern)
      '((BetaRV (add 2.0 (sum #[1 0 1 1])) (add 2.0 (sub (size #[1 0 1 1]) (sum #[1 0 1 1]))) () rng "p")))
(test "beta-bernoulli folded" (posterior-value bern) '((BetaRV 5.0 3.0 () rng "p")))

;; Beta-NegBinomial: failures before the 3rd success.
(define nb '(observed #[2 4] (NegBinomialRV 3 (BetaRV 1.0 1.0 () rng "p") (2) rng "y")))
(test "beta-negbinomial" (post nb)
      '((BetaRV (add 1.0 (sum (mul 3 (ones_like #[2 4])))) (add 1.0 (sum #[2 4])) () rng "p")))
(test "beta-negbinomial folded" (posterior-value nb) '((BetaRV 7.0 7.0 () rng "p")))

;; Dirichlet-Categorical: category counts.
(define dc '(observed #[0 2 2 1 2] (CategoricalRV (DirichletRV #[1.0 1.0 1.0] () rng "p") (5) rng "y")))
(test "dirichlet-categorical" (post dc)
      '((DirichletRV (add #[1.0 1.0 1.0] (bincount #[0 2 2 1 2] (size #[1.0 1.0 1.0]))) () rng "p")))
(test "dirichlet-categorical folded" (posterior-value dc) '((DirichletRV #[2.0 2.0 4.0] () rng "p")))

;; Dirichlet-Multinomial: one count vector.
(define dm '(observed #[2 1 0] (MultinomialRV 3 (DirichletRV alpha () rng "p") () rng "y")))
(test "dirichlet-multinomial" (post dm) '((DirichletRV (add alpha #[2 1 0]) () rng "p")))

;; Backwards: the observation of a posterior (the likelihood's SIZE, RNG
;; and NAME are not in the posterior).
(test "gamma-poisson backwards"
      (run* (q) (conjugate q '(GammaRV (add 2.0 (sum y)) (add 1.0 (size y)) () rng "lam")))
      '((observed y (PoissonRV (GammaRV 2.0 1.0 () rng "lam") _.0 _.1 _.2))))
(test "beta-bernoulli backwards"
      (run* (q) (conjugate q '(BetaRV (add a (sum y)) (add b (sub (size y) (sum y))) () rng "p")))
      '((observed y (BernoulliRV (BetaRV a b () rng "p") _.0 _.1 _.2))))

;; ---- no match: no answer, no error ----
(define (none o) (rewrite conjugate o))
(test "prior also the scale" (none '(observed #[1.0] (NormalRV (NormalRV m s () rng "mu") (NormalRV m s () rng "mu") () rng "y"))) '())
(test "prior also the data" (none '(observed (GammaRV 1.0 1.0 () rng "l") (PoissonRV (GammaRV 1.0 1.0 () rng "l") () rng "y"))) '())
(test "vector prior (SIZE)" (none '(observed #[1 2 3] (PoissonRV (GammaRV 2.0 1.0 (3) rng "lam") (3) rng "y"))) '())
(test "vector prior (literal parameter)" (none '(observed #[1 2] (PoissonRV (GammaRV #[2.0 3.0] 1.0 () rng "lam") (2) rng "y"))) '())
(test "normal prior, vector scale" (none '(observed #[1.0 2.0] (NormalRV (NormalRV 0.0 1.0 () rng "mu") #[1.0 2.0] (2) rng "y"))) '())
(test "mvnormal, several draws" (none '(observed y (MvNormalRV (dot F (MvNormalRV a R () rng "b")) V (5) rng "Y"))) '())
(test "mvnormal, beta on the left" (none '(observed y (MvNormalRV (dot (MvNormalRV a R () rng "b") F) V () rng "Y"))) '())
(test "multinomial, several draws" (none '(observed y (MultinomialRV 3 (DirichletRV alpha () rng "p") (4) rng "y"))) '())
(test "not conjugate" (none '(observed #[1 2] (PoissonRV (ExponentialRV 1.0 () rng "lam") (2) rng "y"))) '())
(test "not observed" (none '(PoissonRV (GammaRV 2.0 1.0 () rng "lam") (3) rng "y")) '())

;; ---- a prior shared by two outputs ----
(define shared (car (read-models "models/stats_shared.model")))
(define outs (model-outputs shared))
(test "shared prior: no answer given the other output"
      (run 1 (q) (reduceo (lambda (a b) (walko (stats-conjugate-given (cdr outs)) a b)) (car outs) q)) '())
(test "shared prior: the model unchanged" (stats-rewrite-model walko conjugate shared) shared)
(test "shared prior seen alone (stats-other-outputs empty) matches"
      (length (run 1 (q) (reduceo (lambda (a b) (walko conjugate a b)) (car outs) q))) 1)
;; Two priors, one per output: both outputs rewritten.
(define two (cadr (read-models "models/stats_shared.model")))
(write-model (stats-rewrite-model walko conjugate two))
;; The occurrence check visits each shared node once: a term of 2^60 paths.
(define big (let loop ((i 0) (t 'x)) (if (= i 60) t (loop (+ i 1) (list 'add t t)))))
(define lam '(GammaRV 1.0 1.0 () rng "l"))
(test "shared term, prior absent" (length (run* (q) (conjugate `(observed ,(list 'add big big) (PoissonRV ,lam () rng "y")) q))) 1)
(test "shared term, prior in the data" (run* (q) (conjugate `(observed ,(list 'add big lam) (PoissonRV ,lam () rng "y")) q)) '())
(test "shared term, prior in another output"
      (run* (q) ((stats-conjugate-given (list (list 'add big lam))) `(observed #[1] (PoissonRV ,lam () rng "y")) q)) '())
