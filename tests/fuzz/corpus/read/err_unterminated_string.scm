;; A string that never ends.
(display "not printed")
(display "never closed)
(newline)
