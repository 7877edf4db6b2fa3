;; bench/unitlaw.scm — the six unit laws as one conde relation of == clauses
;; (the rules of the unit-law rewriting benchmark, SPEC §8):
;;   pkanren rewrite --rules bench/unitlaw.scm --relation unit-law --stats M.model
(define (unit-law a b)
  (fresh (x)
    (conde
     ((== a `(mul ,x 1)) (== b x))
     ((== a `(mul 1 ,x)) (== b x))
     ((== a `(add ,x 0)) (== b x))
     ((== a `(add 0 ,x)) (== b x))
     ((== a `(mul ,x 0)) (== b 0))
     ((== a `(mul 0 ,x)) (== b 0)))))
