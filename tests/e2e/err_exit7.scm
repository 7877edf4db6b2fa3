;; (exit 7) ends the program with status 7; output before it is kept.
(display "before")
(newline)
(exit 7)
(display "not reached")
