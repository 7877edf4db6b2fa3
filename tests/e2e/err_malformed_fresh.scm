;; fresh needs a list of variables: a static error.
(display "not printed")
(run* (q) (fresh x (== x q)))
