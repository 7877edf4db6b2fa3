;; A 1,000,000-element list through unification, a relation and reification.
(define n 1000000)
(define long (let loop ([i 0] [acc '()]) (if (= i n) acc (loop (+ i 1) (cons i acc)))))
(defrel (lasto l x)
  (conde
    [(== l `(,x))]
    [(fresh (a d) (== l `(,a . ,d)) (=/= d '()) (lasto d x))]))
(write (run* (q) (lasto long q))) (newline)
(write (length (car (run* (q) (== q long))))) (newline)
(write (run* (q) (fresh (a b rest) (== long `(,a ,b . ,rest)) (project (rest) (== q (list a b (length rest))))))) (newline)
(write (string-length (format "~a" long))) (newline)
