;; A malformed special form is a static error reported before anything runs.
(display "not printed")
(newline)
(define (f x)
  (let ((y)) y))
