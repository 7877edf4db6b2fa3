;; appendo, as faster-miniKanren's tests define it: the relation several
;; end-to-end tests share (a .scm without .out is a library, not a test).
(defrel (appendo l s out)
  (conde
    [(== '() l) (== s out)]
    [(fresh (a d res)
       (== `(,a . ,d) l)
       (== `(,a . ,res) out)
       (appendo d s res))]))
