;; A bad model file: a static error (status 2) with file:line:col.
(display "before")
(newline)
(read-models "models/empty.model")
(display "not reached")
