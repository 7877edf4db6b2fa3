;;! gated: yes
;;! needs: full-interp
;;! about: (run 1 (q) (evalo q q)) with the full relational interpreter (full-interp.scm)
(bench-report "quines-1" (run 1 (q) (evalo q q)))
