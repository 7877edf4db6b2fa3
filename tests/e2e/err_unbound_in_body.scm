;; An unbound name is a static error (status 2) even inside a procedure
;; that is never called: reported before anything runs.
(display "not printed")
(define (f) (undefined-helper 1))
(display "not printed either")
