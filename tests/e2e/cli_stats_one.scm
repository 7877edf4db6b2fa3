;; --stats on one worker: the header names the sequential engine and one
;; collector marker thread (-j N keeps to N cores while collecting too).
(load "_appendo.scm")
(run* (q) (appendo q '(3) '(1 2 3)))
