;; Deliberately wrong rules: `pkanren verify` must reject them (tests/CMakeLists.txt).

;; Non-centring that drops the scale: N(mu, s) -> mu + N(0, 1), NAME kept.
(define (drop_scale a b)
  (fresh (mu s size rng name)
    (== a `(NormalRV ,mu ,s ,size ,rng ,name))
    (=/= s 1.0)
    (== b `(add ,mu (NormalRV 0.0 1.0 ,size ,rng ,name)))))

;; Normal-Normal conjugate update with a wrong sign: the posterior mean
;; (m0/s0^2 - y/sd^2)/prec instead of (m0/s0^2 + y/sd^2)/prec.
(define (bad_conjugate a b)
  (fresh (y m0 s0 sd size rng name lsize lrng lname prec)
    (== a `(observed ,y (NormalRV (NormalRV ,m0 ,s0 ,size ,rng ,name) ,sd ,lsize ,lrng ,lname)))
    (== prec `(add (reciprocal (sqr ,s0)) (reciprocal (sqr ,sd))))
    (== b `(NormalRV (true_div (sub (true_div ,m0 (sqr ,s0)) (true_div ,y (sqr ,sd))) ,prec)
                     (sqrt (reciprocal ,prec)) ,size ,rng ,name))))

;; The same update with the right sign (the control).
(define (good_conjugate a b)
  (fresh (y m0 s0 sd size rng name lsize lrng lname prec)
    (== a `(observed ,y (NormalRV (NormalRV ,m0 ,s0 ,size ,rng ,name) ,sd ,lsize ,lrng ,lname)))
    (== prec `(add (reciprocal (sqr ,s0)) (reciprocal (sqr ,sd))))
    (== b `(NormalRV (true_div (add (true_div ,m0 (sqr ,s0)) (true_div ,y (sqr ,sd))) ,prec)
                     (sqrt (reciprocal ,prec)) ,size ,rng ,name))))
