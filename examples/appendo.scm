;; appendo.scm — the README's first tour program.
;;   build/pkanren run examples/appendo.scm
;; Each top-level run/run* form's value is printed on a line of its own.
(defrel (appendo l s out)
  (conde
    [(== '() l) (== s out)]
    [(fresh (a d res)
       (== `(,a . ,d) l)
       (== `(,a . ,res) out)
       (appendo d s res))]))

(run* (x y) (appendo x y '(1 2 3)))
(run* (q) (appendo '(a b) '(c d) q))
(run* (q) (fresh (x y) (=/= x 'a) (symbolo y) (== q (list x y))))
