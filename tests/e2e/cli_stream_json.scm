;; --stream with --format json: one JSON value per answer.
(run* (q) (conde [(== q 'a)] [(== q '(1 "s"))] [(== q #t)]))
(run* (x y) (conde [(== x y)] [(== x 'k) (== y '())]))
