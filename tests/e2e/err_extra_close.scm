;; An extra close parenthesis is a reader error.
(display "not printed")
(car (quote (1 2))))
