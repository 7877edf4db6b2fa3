;;! needs: full-interp
;;! about: (run 1000 (q) (evalo q 5)): the first 1000 expressions that evaluate to 5, full-interp.scm
(bench-report "evalo-1000" (run 1000 (q) (evalo q 5)))
