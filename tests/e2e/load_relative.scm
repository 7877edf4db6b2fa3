;; (load "file") is relative to the loading file, also inside loaded files;
;; definitions made by loaded files are visible afterwards.
(display "before load") (newline)
(load "lib/load_rels.scm")
(display "after load") (newline)
(write loaded-value) (newline)
(run* (q) (membero q '(a b)))
(run* (q) (fresh (x) (membero x '(1 2)) (twiceo x q)))
(load "lib/load_more.scm")
(write more-value) (newline)
