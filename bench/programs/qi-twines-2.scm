;;! gated: yes
;;! needs: qinterp
;;! about: (run 2 (p q) (=/= p q) (qi-evalo p '() q) (qi-evalo q '() p)) with the small interpreter (_qinterp.scm)
(bench-report "qi-twines-2"
  (run 2 (p q) (=/= p q) (qi-evalo p '() q) (qi-evalo q '() p)))
