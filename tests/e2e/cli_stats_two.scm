;; --stats on two workers, --unordered: the header names two collector
;; marker threads (-j N keeps to N cores while collecting too).
(load "_appendo.scm")
(run* (q) (appendo q '(3) '(1 2 3)))
