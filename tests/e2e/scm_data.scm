;; Scheme data: strings, characters, vectors, symbols, numbers, lists.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
;; strings and escapes
(show "plain" "tab\there" "quote\"in" "back\\slash" "new\nline" "")
(display "display: \"no quotes\" \\ done") (newline)
(show (string-append "ab" "" "cd") (string-length "hello") (string-length ""))
(show (string->symbol "sym") (symbol->string 'abc) (string? "s") (string? 's))
(show (equal? "ab" "ab") (eq? 'a 'a) (eqv? 1.5 1.5) (equal? '(1 "x" #(2)) '(1 "x" #(2))) (equal? '#(1) '#(2)))
;; characters
(show #\a #\Z #\space #\newline #\0 #\( #\;)
(display #\a) (display #\space) (display #\b) (newline)
(show (list #\x "x" 'x))
;; vectors
(show '#(1 two "three" #\4) (vector 1 2) (make-vector 2 'z) (vector-ref '#(a b c) 1)
      (vector-length '#(1 2 3)) (vector->list '#(1 2)) (list->vector '(3 4)) '#() '#(#(nested)))
;; booleans and the empty list
(show #t #f #true #false '() (list) (boolean? #f) (null? '()) (pair? '()))
;; symbols with special characters
(show 'hello-world 'a->b '+ '... 'x? 'set-car! '<=?)
;; dotted and improper lists
(show '(1 . 2) '(1 2 . 3) (cons 1 (cons 2 '())) '((a . b) (c . d)))
;; integers
(show (+ 1 2) (- 10) (- 10 3 2) (* 2 3 4) (quotient 17 5) (remainder 17 5) (modulo -7 3)
      (remainder -7 3) (quotient -7 2) (abs -5) (min 3 1 2) (max 3 1 2))
(show (= 1 1 1) (< 1 2 3) (< 1 3 2) (>= 3 3 1) (zero? 0) (positive? -1) (negative? -1)
      (even? 0) (odd? 7) (integer? 5) (number? 'a))
(show 4611686018427387903 -4611686018427387904 9007199254740993)
(show (/ 10 2) (/ -12 4) (/ 1.0 4) (/ 3 2.0))
;; floats: write and number->string
(show 1.5 -0.25 100.0 1e21 1.0e-7 3.14159 0.1 (+ 0.1 0.2) (* 1.0 3) (/ 1.0 3))
(show (number->string 42) (number->string 2.5) (number->string -0.5) (number->string 1e100)
      (number->string 12345678.9) (number->string 1.0))
(show (+ 1 2.0) (* 2 0.5) (- 0.5 1) (integer? 2.0) (= 2 2.0) (< 1 1.5))
;; lists
(show (length '(1 2 3)) (append '(1) '(2 3) '() '(4)) (append) (append '(1) 2)
      (reverse '(1 2 3)) (list-ref '(a b c) 2))
(show (car '(1 2)) (cdr '(1 2)) (cadr '(1 2 3)) (cddr '(1 2 3)) (caar '((1) 2))
      (cdar '((1 . x))) (caddr '(1 2 3)) (cdddr '(1 2 3 4)) (cadddr '(1 2 3 4)))
;; assoc / assq / assv / member / memq
(show (assoc "b" '(("a" . 1) ("b" . 2))) (assq 'c '((a 1) (b 2))) (assv 2 '((1 . a) (2 . b)))
      (assoc '(k) '(((k) . found))))
(show (member "b" '("a" "b" "c")) (memq 'd '(a b c)) (member '(1) '(0 (1) 2)))
;; sort (Chez argument order: predicate first)
(show (sort < '(3 1 2)) (sort (lambda (a b) (string<? a b)) '("pear" "apple" "fig"))
      (sort > '(5 5 1 9)) (sort < '()))
(show (list? '(1 2)) (list? '(1 . 2)) (procedure? car) (procedure? (lambda () 1))
      (symbol? 'a) (symbol? "a"))
