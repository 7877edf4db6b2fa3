;; Scheme core: binding forms, assignment, control.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))

;; named let
(show (let loop ([i 0] [acc '()]) (if (= i 5) (reverse acc) (loop (+ i 1) (cons (* i i) acc)))))
;; let* sees earlier bindings, let does not
(define x 10)
(show (let ([x 1] [y x]) (list x y)) (let* ([x 1] [y x]) (list x y)))
;; letrec with mutual recursion
(show (letrec ([ev? (lambda (n) (if (zero? n) #t (od? (- n 1))))]
               [od? (lambda (n) (if (zero? n) #f (ev? (- n 1))))])
        (list (ev? 10) (od? 7) (ev? 3))))
;; internal defines
(define (f n)
  (define a (* n 2))
  (define (g m) (+ a m))
  (g 1))
(show (f 20))
;; set! on globals, locals and closures
(define counter
  (let ([n 0])
    (lambda () (set! n (+ n 1)) n)))
(counter) (counter)
(show (counter))
(set! x (+ x 5))
(show x)
(show (let ([v 1]) (set! v (* v 7)) v))
;; apply
(show (apply + '(1 2 3)) (apply + 1 2 '(3 4)) (apply list 'a '(b c)) (apply max '(3 9 2)))
;; case with lists of data, else, and chars/symbols/numbers
(define (classify v)
  (case v
    [(1 2 3) 'small]
    [(a e i o u) 'vowel]
    [(#\x) 'char-x]
    [else 'other]))
(show (map classify '(2 e #\x 99 z)))
;; cond with =>, else, and a test-only clause
(show (cond [(assv 2 '((1 . one) (2 . two))) => cdr] [else 'none]))
(show (cond [(assv 9 '((1 . one))) => cdr] [else 'none]))
(show (cond [(member 3 '(1 2 3 4))] [else 'no]))
(show (cond [#f 1] [(= 1 2) 2] [else 'fallthrough]))
;; when / unless
(when (> 3 2) (display "when-yes") (newline))
(unless (> 3 2) (display "unless-no") (newline))
(unless (< 3 2) (display "unless-yes") (newline))
;; do loops
(show (do ([i 0 (+ i 1)] [acc '() (cons i acc)]) ((= i 4) acc)))
(define vec (make-vector 3 0))
(do ([i 0 (+ i 1)]) ((= i 3)) (vector-set! vec i (* i 10)))
(show vec)
;; and / or / not / begin / if without else
(show (and) (or) (and 1 2 3) (or #f 2 3) (and 1 #f 3) (not 3) (not #f))
(show (begin 1 2 3))
(show (if #f #f 'x))
;; closures capture per-iteration bindings
(define procs (map (lambda (i) (lambda () (* i 100))) '(1 2 3)))
(show (map (lambda (p) (p)) procs))
;; variadic lambdas
(show ((lambda args args) 1 2 3) ((lambda (a . rest) (list a rest)) 1 2 3))
;; higher-order builtins
(show (map + '(1 2 3) '(10 20 30)) (filter even? '(1 2 3 4 5 6)))
(for-each (lambda (a b) (show a b)) '(1 2) '(x y))
