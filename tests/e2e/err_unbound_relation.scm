;; A call of an unknown relation is a static error (status 2) reported
;; before anything runs: the display before it prints nothing.
(display "not printed")
(newline)
(defrel (foo x) (== x 1))
(run* (q) (fooo q))
