;; Helper for load_relative.scm (no .out: not a test by itself).
;; A top-level run in a loaded file is not printed.
(load "mk.scm")
(defrel (membero x l)
  (fresh (a d)
    (== `(,a . ,d) l)
    (conde [(== a x)] [(membero x d)])))
(run* (q) (membero q '(not printed)))
(display "lib/load_rels.scm loaded") (newline)
;; relative to this file: lib/load_more.scm
(load "load_more.scm")
(define loaded-value (list 'from-lib more-value))
