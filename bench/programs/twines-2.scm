;;! needs: full-interp
;;! about: (run 2 (x y) (=/= x y) (evalo x y) (evalo y x)) with full-interp.scm
;;! default: no (does not finish within 300 s / several GB on Chez with full-interp.scm; run with --all or --only)
(bench-report "twines-2" (run 2 (x y) (=/= x y) (evalo x y) (evalo y x)))
