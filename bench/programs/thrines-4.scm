;;! needs: full-interp
;;! about: (run 4 (x y z) ...) three distinct programs each evaluating to the next, full-interp.scm
;;! default: no (does not finish within 300 s / several GB on Chez with full-interp.scm; run with --all or --only)
(bench-report "thrines-4"
  (run 4 (x y z)
    (=/= x y) (=/= y z) (=/= z x)
    (evalo x y) (evalo y z) (evalo z x)))
