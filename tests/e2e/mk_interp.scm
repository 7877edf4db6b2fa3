;; A relational interpreter (quote, list, variables, one-argument lambda,
;; application), run forwards and backwards: answer order and constraint
;; reification on a search with many branches.
(load "../../examples/interp.scm")

(run* (v) (evalo '((lambda (x) (list x (quote y))) (quote z)) v))
(run* (v) (evalo '(((lambda (x) (lambda (y) (list x y))) (quote a)) (quote b)) v))
(run 8 (q) (evalo q '(hello)))
(run 5 (q v) (evalo q v))
(run 3 (q) (evalo q q))
(run 1 (p q) (=/= p q) (evalo p q) (evalo q p))
(run 4 (q) (fresh (body) (== q `(lambda (x) ,body)) (evalo `(,q (quote 1)) '(1 1))))
