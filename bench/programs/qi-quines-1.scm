;;! gated: yes
;;! needs: qinterp
;;! about: (run 1 (q) (qi-evalo q '() q)) with the small quote/list/lambda interpreter (_qinterp.scm)
(bench-report "qi-quines-1" (run 1 (q) (qi-evalo q '() q)))
