;;! gated: yes
;;! needs: qinterp
;;! about: (run 100 (q) (qi-evalo q '() q)) with the small quote/list/lambda interpreter (_qinterp.scm)
(bench-report "qi-quines-100" (run 100 (q) (qi-evalo q '() q)))
