;; appendo, shared by the appendo-* and nrev benchmarks (;;! needs: appendo)
(defrel (appendo l s out)
  (conde
    ((== '() l) (== s out))
    ((fresh (a d res)
       (== `(,a . ,d) l)
       (== `(,a . ,res) out)
       (appendo d s res)))))
