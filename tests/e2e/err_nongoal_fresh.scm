;; A non-goal inside fresh, in a relation body.
(defrel (bad x) (fresh (y) (== x y) 'sym))
(display "before")
(newline)
(run* (q) (bad q))
