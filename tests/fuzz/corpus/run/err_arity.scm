;; Wrong number of arguments to a relation: a runtime error (status 3),
;; reported when reached (output before it is kept).
(display "before")
(newline)
(defrel (foo x) (== x 1))
(run* (q) (foo q))
(run* (q) (foo q 2))
(display "not reached")
