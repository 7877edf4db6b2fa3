;;! needs: full-interp
;;! about: (run 100 (q) (evalo q q)) with the full relational interpreter (full-interp.scm)
;;! default: no (does not finish within 300 s / several GB on Chez with full-interp.scm; run with --all or --only)
(bench-report "quines-100" (run 100 (q) (evalo q q)))
