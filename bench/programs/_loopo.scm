;; loopo: recurses n times through project with a one-element accumulator
;; (the long-loop-* benchmarks, ;;! needs: loopo)
(defrel (loopo n acc out)
  (conde
    ((== 0 n) (== acc out))
    ((project (n acc)
       (if (= n 0)
           fail
           (loopo (- n 1) (list (+ (car acc) 1)) out))))))
