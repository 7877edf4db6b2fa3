;;! gated: yes
;;! about: run* all (x y) with (appendo x y L) for L = (1 ... 1000): 1001 answers
;;! needs: appendo
(define big-list (bench-iota 1000))

(bench-report "appendo-split" (run* (x y) (appendo x y big-list)))
