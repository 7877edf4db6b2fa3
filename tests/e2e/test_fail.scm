;; A failing test prints Failed/Expected/Computed, the program goes on, and
;; the exit status is 1 at the end.
(load "test-check.scm")
(defrel (membero x l)
  (fresh (a d)
    (== `(,a . ,d) l)
    (conde [(== a x)] [(membero x d)])))
(test "passes" (run* (q) (membero q '(1 2))) '(1 2))
(test "fails" (run* (q) (membero q '(1 2))) '(2 1))
(test 'fails-too (list "s" #\c 'sym (* 6 7)) '("s" #\c sym 41))
(test "quote in expr" (car '(a b)) 'b)
(display "still running") (newline)
(display test-failed) (newline)
(test "passes after failure" (+ 1 1) 2)
;; the expected value is computed before the tested expression
(test "order" (begin (display "tested ") 1) (begin (display "expected ") 1))
(newline)
(test 42 'number-title 'number-title)
(test "multi-line expr, brackets" (let ([x 1])
                                    (list x
                                          "s" #\c 1.5))
      '(2))
