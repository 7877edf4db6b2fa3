;;! gated: yes
;;! needs: numbers
;;! about: run* all (x y) with (*o x y (build-num 720)), Oleg binary arithmetic from numbers.scm: 30 answers
(bench-report "factors-720"
  (run* (x y) (*o x y (build-num 720))))
