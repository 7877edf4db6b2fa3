;; define-syntax / syntax-rules: ellipses, literals, recursion, hygiene.
(define-syntax swap!
  (syntax-rules ()
    [(_ a b) (let ([tmp a]) (set! a b) (set! b tmp))]))
(define p 1)
(define r 2)
(swap! p r)
(write (list p r)) (newline)

(define-syntax my-or
  (syntax-rules ()
    [(_) #f]
    [(_ e) e]
    [(_ e r ...) (let ([t e]) (if t t (my-or r ...)))]))
(define five 5)
(write (list (my-or) (my-or #f 3) (my-or #f five) (my-or #f #f))) (newline)

(define-syntax my-let*
  (syntax-rules ()
    [(_ () body ...) (let () body ...)]
    [(_ ([x v] rest ...) body ...) (let ([x v]) (my-let* (rest ...) body ...))]))
(write (my-let* ([a 1] [b (+ a 1)] [c (* b 10)]) (list a b c))) (newline)

;; literals
(define-syntax for
  (syntax-rules (in from to)
    [(_ x in lst body ...) (for-each (lambda (x) body ...) lst)]
    [(_ x from a to b body ...) (do ([x a (+ x 1)]) ((> x b)) body ...)]))
(for y in '(a b c) (display y))
(newline)
(for i from 1 to 5 (display i))
(newline)

;; ellipsis after a structured pattern
(define-syntax my-alist
  (syntax-rules ()
    [(_ (k v) ...) (list (cons 'k v) ...)]))
(write (my-alist (a 1) (b (+ 1 1)) (c "3"))) (newline)
;; ellipsis in the middle of a pattern, with a tail
(define-syntax last-of
  (syntax-rules ()
    [(_ a ... z) 'z]))
(write (last-of 1 2 3 final)) (newline)

;; a macro that expands into miniKanren goals
(define-syntax conde-list
  (syntax-rules ()
    [(_ q v ...) (conde [(== q v)] ...)]))
(write (run* (q) (conde-list q 1 'two "three"))) (newline)

;; a macro defining a relation
(define-syntax def-fact
  (syntax-rules ()
    [(_ name (a b) ...) (defrel (name x y) (conde [(== x 'a) (== y 'b)] ...))]))
(def-fact parento (abe homer) (homer bart) (homer lisa))
(write (run* (q) (parento 'homer q))) (newline)
(write (run* (q) (fresh (x) (parento q x) (parento x 'lisa)))) (newline)

;; macro using a vector and a string in its template
(define-syntax tagged
  (syntax-rules ()
    [(_ e) (list "tag" e '#(1 2))]))
(write (tagged (+ 1 2))) (newline)
