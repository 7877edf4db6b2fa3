;; Interleaving: infinite branches do not starve finite ones, and answers
;; come in faster-miniKanren's order.
(defrel (anyo g)
  (conde
    [g]
    [(anyo g)]))

(defrel (nevero) (anyo fail))
(defrel (alwayso) (anyo succeed))

(run 5 (q) (anyo (== q 1)))
(run 5 (q) (conde [(anyo (== q 'a))] [(anyo (== q 'b))]))
(run 6 (q) (conde [(anyo (== q 'a))] [(== q 'b)] [(anyo (== q 'c))]))
(run 3 (q) (conde [(nevero)] [(== q 'found)] [(alwayso) (== q 'again)]))
(run 5 (q) (conde [(== q 0)] [(alwayso) (== q 1)] [(== q 2)]))
(run 4 (q) (alwayso) (conde [(== q 'x)] [(== q 'y)]))

(defrel (nato n)
  (conde
    [(== n 'z)]
    [(fresh (m) (== n `(s ,m)) (nato m))]))
(run 4 (q) (nato q))
(run 6 (x y) (nato x) (nato y))
(run 6 (q) (conde [(nato q)] [(== q 'other)] [(fresh (a) (== q `(pair ,a)) (nato a))]))

;; deep left recursion under a fresh is still fair
(defrel (listo l)
  (conde
    [(== l '())]
    [(fresh (a d) (== l `(,a . ,d)) (listo d))]))
(run 3 (q) (listo q) (conde [(== q '(1))] [(== q '(1 2 3))] [(== q '())]))

;; a simple number enumeration of appendo in both orders of goals
(load "_appendo.scm")
(run 3 (x y z) (appendo x y z) (== z '(1 2)))
(run* (x y) (appendo x y '(a b)) (appendo y x '(b a)))
