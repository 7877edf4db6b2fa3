;; Shared helper (loaded by the harness for programs that declare
;; ";;! needs: qinterp"): a small relational interpreter for the
;; quote / list / lambda / variable / one-argument application fragment
;; of Scheme, written for these benchmarks.  Closures are tagged
;; (closure x body env); quoted data may not contain that tag.

(defrel (qi-evalo expr env val)
  (conde
    ((fresh (datum)
       (== `(quote ,datum) expr)
       (qi-unboundo 'quote env)
       (absento 'closure datum)
       (== datum val)))
    ((fresh (args)
       (== `(list . ,args) expr)
       (qi-unboundo 'list env)
       (absento 'closure args)
       (qi-eval-argso args env val)))
    ((symbolo expr) (qi-lookupo expr env val))
    ((fresh (rator rand param body cenv arg)
       (== `(,rator ,rand) expr)
       (qi-evalo rator env `(closure ,param ,body ,cenv))
       (qi-evalo rand env arg)
       (qi-evalo body `((,param . ,arg) . ,cenv) val)))
    ((fresh (param body)
       (== `(lambda (,param) ,body) expr)
       (symbolo param)
       (qi-unboundo 'lambda env)
       (== `(closure ,param ,body ,env) val)))))

;; name is not bound in env (so a special form keyword is not shadowed).
(defrel (qi-unboundo name env)
  (conde
    ((== '() env))
    ((fresh (y v rest)
       (== `((,y . ,v) . ,rest) env)
       (=/= y name)
       (qi-unboundo name rest)))))

(defrel (qi-eval-argso args env vals)
  (conde
    ((== '() args) (== '() vals))
    ((fresh (a d va vd)
       (== `(,a . ,d) args)
       (== `(,va . ,vd) vals)
       (qi-evalo a env va)
       (qi-eval-argso d env vd)))))

(defrel (qi-lookupo x env val)
  (fresh (y v rest)
    (== `((,y . ,v) . ,rest) env)
    (conde
      ((== y x) (== v val))
      ((=/= y x) (qi-lookupo x rest val)))))
