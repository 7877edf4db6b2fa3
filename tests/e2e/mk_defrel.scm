;; defrel with one goal does not suspend; with several goals it does
;; (like (fresh () g ...)).  The interleaving order shows the difference.
(defrel (one x) (== x 'one))
(defrel (two x) succeed (== x 'two))
(defrel (three x) (fresh () (== x 'three)))

(run* (q) (conde [(two q)] [(one q)]))
(run* (q) (conde [(one q)] [(two q)]))

(defrel (loop1 x)
  (conde
    [(== x 'l1)]
    [(loop1 x)]))
(defrel (loop2 x)
  succeed
  (conde
    [(== x 'l2)]
    [(loop2 x)]))

(run 6 (q) (conde [(loop1 q)] [(loop2 q)]))
(run 6 (q) (conde [(loop2 q)] [(loop1 q)]))
(run 6 (q) (conde [(loop1 q)] [(three q)] [(two q)] [(one q)]))

(defrel (a-or-b x) (conde [(== x 'a)] [(== x 'b)]))
(defrel (c-or-d x) succeed (conde [(== x 'c)] [(== x 'd)]))
(run* (q) (conde [(c-or-d q)] [(a-or-b q)]))
(run* (q) (conde [(fresh () (c-or-d q))] [(a-or-b q)] [(== q 'e)]))
(run* (q) (conde [(c-or-d q)] [(one q)] [(two q)] [(three q)] [(a-or-b q)]))
;; defrel with no arguments
(defrel (always) succeed)
(run* (q) (always) (== q 'ok))
;; a defrel with several goals that are all constraints
(defrel (sym-not-a x) (symbolo x) (=/= x 'a))
(run* (q) (sym-not-a q))
