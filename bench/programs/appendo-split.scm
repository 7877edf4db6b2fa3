;;! gated: yes
;;! about: run* all (x y) with (appendo x y L) for L = (1 ... 1000): 1001 answers
(defrel (appendo l s out)
  (conde
    ((== '() l) (== s out))
    ((fresh (a d res)
       (== `(,a . ,d) l)
       (== `(,a . ,res) out)
       (appendo d s res)))))

(define big-list (bench-iota 1000))

(bench-report "appendo-split" (run* (x y) (appendo x y big-list)))
