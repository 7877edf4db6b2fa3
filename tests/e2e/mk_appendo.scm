;; appendo forward and backward, run n vs run*, several query variables.
(load "_appendo.scm")

;; forward
(run* (q) (appendo '(a b c) '(d e) q))
(run* (q) (appendo '() '() q))
(run* (q) (appendo '(1) 2 q))
;; backward: every split
(run* (x y) (appendo x y '(1 2 3 4)))
;; a missing middle piece
(run* (q) (appendo '(a) q '(a b c)))
(run* (q) (appendo q '(c) '(a b c)))
;; no answer
(run* (q) (appendo '(a) q '(b c)))
;; run n vs run* on the same finite query
(run 2 (x y) (appendo x y '(1 2 3 4)))
(run 10 (x y) (appendo x y '(1 2)))
(run 0 (q) (appendo q '() '(1)))
;; an infinite query: only run n terminates
(run 4 (x y z) (appendo x y z))
(run 3 (x y) (appendo x '(end) y))
;; three query variables, one of them constrained through fresh
(run* (x y z) (appendo x y '(a b)) (== z (list y x)))
;; the query variable list with one variable gives bare answers
(run* (q) (fresh (x y) (appendo x y '(p q)) (== q `(,x ,y))))
(write (run 1 (q) (appendo q q '(a b a b))))
(newline)
(write (length (run* (x y) (appendo x y '(0 1 2 3 4 5 6 7 8 9)))))
(newline)
