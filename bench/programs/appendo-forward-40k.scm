;;! gated: yes
;;! about: (run 1 (q) (appendo A B q)) with A, B ground lists of 40000 elements each
;;! needs: appendo
(define front (bench-iota 40000))
(define back (map (lambda (i) (+ i 40000)) (bench-iota 40000)))

(bench-report "appendo-forward-40k" (run 1 (q) (appendo front back q)))
