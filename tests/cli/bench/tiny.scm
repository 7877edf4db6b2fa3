;; tests/cli/bench/tiny-run.bench: a query run reps=5 times
(define (go k) (if (= k 0) (run* (q) (membero q '(a b c))) (begin (go (- k 1)) (go 0))))
(display "tiny reps=5") (newline)
(write (go 4)) (newline)
