;; --stream with --format json: one {"run":K,"answer":A} line per answer,
;; K the index of the top-level run form; program output goes to stderr.
(display "on stderr") (newline)
(run* (q) (conde [(== q 'a)] [(== q '(1 "s"))] [(== q #t)]))
(run* (x y) (conde [(== x y)] [(== x 'k) (== y '())]))
