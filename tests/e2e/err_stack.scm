;; Runaway recursion exhausts the Scheme recursion budget (--stack 8M):
;; a runtime error that names the budget, not a crash.
(display "before")
(newline)
(define (f n) (+ 1 (f n)))
(f 1)
(display "not reached")
