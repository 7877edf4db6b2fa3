;; Terms nested 1,000,000 deep: built by a loop, unified, reified, checked
;; and printed (to a string, to keep the output small).
(define n 1000000)
(define (nest depth bottom)
  (let loop ([i 0] [t bottom])
    (if (= i depth) t (loop (+ i 1) (list t)))))
(define (depth t)
  (let loop ([t t] [d 0])
    (if (pair? t) (loop (car t) (+ d 1)) d)))
(define deep (nest n '()))
(define deep2 (nest n '()))
(write (depth deep)) (newline)
(write (equal? deep deep2)) (newline)

;; unify two separately built deep terms
(write (run* (q) (== deep deep2) (== q 'unified))) (newline)
;; a variable at the bottom of one side
(write (run* (q) (fresh (x) (== (nest n x) deep) (== q x)))) (newline)
(write (run* (q) (fresh (x) (== (nest n x) (nest n 'bottom)) (== q x)))) (newline)
;; depth mismatch fails
(write (run* (q) (== (nest n 'a) (nest n 'b)))) (newline)
;; reify the whole deep term, and one with a fresh variable at the bottom
(define r (car (run* (q) (== q deep))))
(write (equal? r deep)) (newline)
(define rv (car (run 1 (q) (fresh (x) (== q (nest n x))))))
(write (depth rv)) (newline)
(write (string-length (format "~s" rv))) (newline)
(write (string-length (format "~s" deep))) (newline)
;; constraints over deep terms
(write (run* (q) (=/= deep (nest n 'z)) (== q 'differs))) (newline)
(write (run* (q) (=/= deep deep2))) (newline)
(write (run* (q) (absento 'needle deep) (== q 'absent))) (newline)
(write (run* (q) (absento 'needle (nest n 'needle)))) (newline)
(write (run* (q) (fresh (x) (=/= (nest n x) deep) (== x 'other) (== q x)))) (newline)
