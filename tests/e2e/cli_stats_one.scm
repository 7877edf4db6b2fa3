;; --stats on one worker: the header names the sequential engine and one
;; collector marker thread (-j N keeps to N cores while collecting too).
(defrel (appendo l s out)
  (conde ((== '() l) (== s out))
         ((fresh (a d res) (== `(,a . ,d) l) (== `(,a . ,res) out) (appendo d s res)))))
(run* (q) (appendo q '(3) '(1 2 3)))
