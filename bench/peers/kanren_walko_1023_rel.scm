;; walko-1023-relational (bench/rewrites/walko-1023-relational.bench):
;; reduceo's relational definition alone, 5 times (bench/peers/walko_1023.scm).
(define which 'relational)
(define reps 5)
(load "walko_1023.scm")
