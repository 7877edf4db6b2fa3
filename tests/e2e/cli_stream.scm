;; --stream: each answer of a top-level run on its own line as it is
;; released (written with write); a run with no answers writes nothing.
(display "start") (newline)
(defrel (anyo g) (conde [g] [(anyo g)]))
(run* (q) (conde [(== q 1)] [(== q "two")] [(== q '(three #t))]))
(run* (x y) (== x 'a) (conde [(== y 1)] [(== y 2)]))
(run* (q) fail)
(run 3 (q) (anyo (conde [(== q 'x)] [(== q 'y)])))
(run* (q) (=/= q 1))
(define kept (run* (q) (conde [(== q 'not)] [(== q 'streamed)])))
(write kept) (newline)
(display "end") (newline)
