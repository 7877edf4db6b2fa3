;; kanren's relations are predefined in every program, and a program's own
;; definition of a name replaces that name only: the other relations call
;; each other through their kanren-* names.
(run* (q) (appendo '(1 2) '(3) q))
(run* (q) (membero q '(a b)))
;; faster-miniKanren's appendo (a different argument order would do too):
;; a program's own definition wins ...
(defrel (appendo l s out)
  (conde
    [(== '() l) (== s out)]
    [(fresh (a d res) (== `(,a . ,d) l) (== `(,a . ,res) out) (appendo d s res))]))
(run* (x y) (appendo x y '(1 2)))
;; ... and relations built on kanren's appendo still work.
(define (membero x l) (== x 'mine))
(run* (q) (membero q '(a b)))
(run* (q) (permuteo '(1 2 3) q))
(run* (q) (rembero 2 '(1 2 3) q))
;; loading the library again by path is harmless
(load "../../relations/kanren.scm")
(run* (q) (membero q '(a b)))
