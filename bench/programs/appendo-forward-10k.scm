;;! gated: yes
;;! about: (run 1 (q) (appendo A B q)) with A, B ground lists of 10000 elements each
;;! needs: appendo
(define front (bench-iota 10000))
(define back (map (lambda (i) (+ i 10000)) (bench-iota 10000)))

(bench-report "appendo-forward-10k" (run 1 (q) (appendo front back q)))
