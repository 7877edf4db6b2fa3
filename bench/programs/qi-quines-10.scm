;;! gated: yes
;;! needs: qinterp
;;! about: (run 10 (q) (qi-evalo q '() q)) with the small quote/list/lambda interpreter (_qinterp.scm)
(bench-report "qi-quines-10" (run 10 (q) (qi-evalo q '() q)))
