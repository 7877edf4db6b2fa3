;; Relations as first-class values: passed by name, as lambdas returning
;; goals, stored in data structures, returned from procedures.
(load "_appendo.scm")

;; mapo: apply a binary relation element-wise
(defrel (mapo rel l out)
  (conde
    [(== l '()) (== out '())]
    [(fresh (a d b e)
       (== l `(,a . ,d))
       (== out `(,b . ,e))
       (rel a b)
       (mapo rel d e))]))

(defrel (twino x y) (== y `(,x ,x)))
(run* (q) (mapo twino '(1 2 3) q))
(run* (q) (mapo twino q '((a a) (b b))))
(run* (q) (mapo (lambda (a b) (== b `(wrapped ,a))) '(x y) q))
(run* (q) (mapo (lambda (a b) (appendo a '(!) b)) '((1) (2 3)) q))
(run* (q) (mapo (lambda (a b) (conde [(== a b)] [(== b 'other)])) '(1 2) q))

;; a relation that receives a goal-returning procedure and its own arity
(defrel (reduceo rel a b)
  (conde
    [(rel a b)]
    [(fresh (mid) (rel a mid) (reduceo rel mid b))]))
(define (step a b)
  (conde
    [(== a 'x) (== b 'y)]
    [(== a 'y) (== b 'z)]))
(run* (q) (reduceo step 'x q))
(run* (q) (reduceo (lambda (a b) (step a b)) q 'z))

;; a procedure returning a relation (currying)
(define (prefixo p) (lambda (l out) (appendo p l out)))
(run* (q) ((prefixo '(a b)) '(c) q))
(run* (q) (mapo (prefixo '(0)) '((1) (2)) q))

;; relations kept in a list, chosen with list-ref and apply
(define rels (list (lambda (x) (== x 'first)) (lambda (x) (== x 'second))))
(run* (q) ((list-ref rels 1) q))
(run* (q) (apply appendo (list q '(3) '(1 2 3))))
(run* (q) (conde [((car rels) q)] [((cadr rels) q)]))

;; a goal stored in a variable and used twice
(define g-one (== 1 1))
(run* (q) g-one (== q 'ok) g-one)

;; ormap-like: succeed if any relation in a list succeeds
(define (anyrelo rs x)
  (if (null? rs)
      fail
      (conde [((car rs) x)] [(anyrelo (cdr rs) x)])))
(run* (q) (anyrelo (list (lambda (x) (== x 1)) (lambda (x) (== x 2)) (lambda (x) (symbolo x))) q))
