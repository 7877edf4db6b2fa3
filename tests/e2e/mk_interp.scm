;; A relational interpreter (quote, list, variables, one-argument lambda,
;; application), run forwards and backwards: answer order and constraint
;; reification on a search with many branches.
(defrel (lookupo x env val)
  (fresh (y v rest)
    (== `((,y . ,v) . ,rest) env)
    (conde
      [(== x y) (== v val)]
      [(=/= x y) (lookupo x rest val)])))

(defrel (not-in-envo x env)
  (conde
    [(== '() env)]
    [(fresh (y v rest)
       (== `((,y . ,v) . ,rest) env)
       (=/= x y)
       (not-in-envo x rest))]))

(defrel (proper-listo exprs env vals)
  (conde
    [(== '() exprs) (== '() vals)]
    [(fresh (e es v vs)
       (== `(,e . ,es) exprs)
       (== `(,v . ,vs) vals)
       (eval-expo e env v)
       (proper-listo es env vs))]))

(defrel (eval-expo expr env val)
  (conde
    [(== `(quote ,val) expr)
     (absento 'closure val)
     (not-in-envo 'quote env)]
    [(fresh (es)
       (== `(list . ,es) expr)
       (not-in-envo 'list env)
       (absento 'closure es)
       (proper-listo es env val))]
    [(symbolo expr) (lookupo expr env val)]
    [(fresh (x body)
       (== `(lambda (,x) ,body) expr)
       (symbolo x)
       (not-in-envo 'lambda env)
       (== `(closure ,x ,body ,env) val))]
    [(fresh (rator rand x body env^ arg)
       (== `(,rator ,rand) expr)
       (eval-expo rator env `(closure ,x ,body ,env^))
       (eval-expo rand env arg)
       (eval-expo body `((,x . ,arg) . ,env^) val))]))

(defrel (evalo expr val) (eval-expo expr '() val))

(run* (v) (evalo '((lambda (x) (list x (quote y))) (quote z)) v))
(run* (v) (evalo '(((lambda (x) (lambda (y) (list x y))) (quote a)) (quote b)) v))
(run 8 (q) (evalo q '(hello)))
(run 5 (q v) (evalo q v))
(run 3 (q) (evalo q q))
(run 1 (p q) (=/= p q) (evalo p q) (evalo q p))
(run 4 (q) (fresh (body) (== q `(lambda (x) ,body)) (evalo `(,q (quote 1)) '(1 1))))
