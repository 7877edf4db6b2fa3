;;! gated: yes
;;! needs: full-interp
;;! about: (run 10 (q) (evalo q q)) with the full relational interpreter (full-interp.scm)
(bench-report "quines-10" (run 10 (q) (evalo q q)))
