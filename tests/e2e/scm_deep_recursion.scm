;; Deep non-tail recursion (1,000,000 frames) within the default recursion
;; budget, and list builtins on a 1,000,000-element list.
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(define l (build 1000000))
(write (length l)) (newline)
(define (sum l) (if (null? l) 0 (+ (car l) (sum (cdr l)))))
(write (sum l)) (newline)
(write (length (map (lambda (x) (* x 2)) l))) (newline)
(write (apply + l)) (newline)
(write (length (append l l))) (newline)
(write (car (reverse l))) (newline)
(write (length (filter even? l))) (newline)
(write (equal? l (build 1000000))) (newline)
(write (length (sort < l))) (newline)
