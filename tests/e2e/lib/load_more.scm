;; Helper loaded by lib/load_rels.scm with a path relative to lib/.
(define more-value 'from-more)
(defrel (twiceo x out) (== out `(,x ,x)))
(display "lib/load_more.scm loaded") (newline)
