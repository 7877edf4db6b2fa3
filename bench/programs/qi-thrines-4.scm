;;! needs: qinterp
;;! about: (run 4 (p q r) ...) three distinct programs each evaluating to the next, small interpreter (_qinterp.scm)
(bench-report "qi-thrines-4"
  (run 4 (p q r)
    (=/= p q) (=/= q r) (=/= r p)
    (qi-evalo p '() q) (qi-evalo q '() r) (qi-evalo r '() p)))
