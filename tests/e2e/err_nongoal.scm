;; A value that is not a goal where a goal belongs: runtime error.
(display "before")
(newline)
(run* (q) (conde [(== q 1)] [7]))
