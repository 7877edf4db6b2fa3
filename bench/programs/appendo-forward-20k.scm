;;! gated: yes
;;! about: (run 1 (q) (appendo A B q)) with A, B ground lists of 20000 elements each
;;! needs: appendo
(define front (bench-iota 20000))
(define back (map (lambda (i) (+ i 20000)) (bench-iota 20000)))

(bench-report "appendo-forward-20k" (run 1 (q) (appendo front back q)))
