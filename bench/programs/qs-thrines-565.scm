;;! gated: yes
;;! needs: qinterp
;;! about: run* all thrines (p q r) of a size-bounded quote/list/lambda interpreter: each evaluation may take at most 5, 6 and 5 steps (an exhaustive search; none exist that small, 0 answers)
;; The interpreter of _qinterp.scm (whose qi-unboundo and qi-lookupo it
;; uses) with a step budget threaded through each
;; derivation (in and out, Peano): every qs-evalo call, list elements
;; included, spends one step, so the search tree is finite and run*
;; returns.  The budgets 5/6/5 are chosen for about 1.5 s on one worker.

(defrel (qs-evalo expr env val in out)
  (fresh (f)
    (== `(s . ,f) in)
    (conde
      ((fresh (datum)
         (== `(quote ,datum) expr)
         (qi-unboundo 'quote env)
         (absento 'closure datum)
         (== datum val)
         (== f out)))
      ((fresh (args)
         (== `(list . ,args) expr)
         (qi-unboundo 'list env)
         (absento 'closure args)
         (qs-eval-argso args env val f out)))
      ((symbolo expr) (qi-lookupo expr env val) (== f out))
      ((fresh (rator rand param body cenv arg f1 f2)
         (== `(,rator ,rand) expr)
         (qs-evalo rator env `(closure ,param ,body ,cenv) f f1)
         (qs-evalo rand env arg f1 f2)
         (qs-evalo body `((,param . ,arg) . ,cenv) val f2 out)))
      ((fresh (param body)
         (== `(lambda (,param) ,body) expr)
         (symbolo param)
         (qi-unboundo 'lambda env)
         (== `(closure ,param ,body ,env) val)
         (== f out))))))

(defrel (qs-eval-argso args env vals in out)
  (conde
    ((== '() args) (== '() vals) (== in out))
    ((fresh (a d va vd f)
       (== `(,a . ,d) args)
       (== `(,va . ,vd) vals)
       (qs-evalo a env va in f)
       (qs-eval-argso d env vd f out)))))

(define (qs-steps n) (if (= n 0) '() (cons 's (qs-steps (- n 1)))))

(bench-report "qs-thrines-565"
  (run* (p q r)
    (=/= p q) (=/= q r) (=/= r p)
    (fresh (o1 o2 o3)
      (qs-evalo p '() q (qs-steps 5) o1)
      (qs-evalo q '() r (qs-steps 6) o2)
      (qs-evalo r '() p (qs-steps 5) o3))))
