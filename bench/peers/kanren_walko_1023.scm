;; walko-1023 (bench/rewrites/walko-1023.bench): reduceo(walko) as programs
;; call it, 1,000 times (bench/peers/walko_1023.scm).
(define which 'reduceo)
(define reps 1000)
(load "walko_1023.scm")
