;;! gated: yes
;;! about: a relation that recurses 2,000,000 times through project with a one-element accumulator (memory must stay flat)
(defrel (loopo n acc out)
  (conde
    ((== 0 n) (== acc out))
    ((project (n acc)
       (if (= n 0)
           fail
           (loopo (- n 1) (list (+ (car acc) 1)) out))))))

(bench-report "long-loop-2M" (run* (q) (loopo 2000000 '(0) q)))
