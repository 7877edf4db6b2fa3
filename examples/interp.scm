;; A relational interpreter for a tiny Lisp (quote, list, variables,
;; one-argument lambda, application), after Byrd, Holk and Friedman's
;; quine generator: (evalo expr val) runs forwards (evaluate) and
;; backwards (synthesise programs).  Loaded by demo.scm and the tests.
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

(defrel (eval-listo exprs env vals)
  (conde
    [(== '() exprs) (== '() vals)]
    [(fresh (e es v vs)
       (== `(,e . ,es) exprs)
       (== `(,v . ,vs) vals)
       (evalo-env e env v)
       (eval-listo es env vs))]))

(defrel (evalo-env expr env val)
  (conde
    [(== `(quote ,val) expr)
     (absento 'closure val)
     (not-in-envo 'quote env)]
    [(fresh (es)
       (== `(list . ,es) expr)
       (not-in-envo 'list env)
       (absento 'closure es)
       (eval-listo es env val))]
    [(symbolo expr) (lookupo expr env val)]
    [(fresh (x body)
       (== `(lambda (,x) ,body) expr)
       (symbolo x)
       (not-in-envo 'lambda env)
       (== `(closure ,x ,body ,env) val))]
    [(fresh (rator rand x body env^ arg)
       (== `(,rator ,rand) expr)
       (evalo-env rator env `(closure ,x ,body ,env^))
       (evalo-env rand env arg)
       (evalo-env body `((,x . ,arg) . ,env^) val))]))

(defrel (evalo expr val) (evalo-env expr '() val))
