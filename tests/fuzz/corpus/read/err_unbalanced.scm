;; A missing close parenthesis: a reader error (status 2), reported
;; before anything runs, so nothing is printed.
(display "not printed")
(define (f x)
  (+ x 1)
