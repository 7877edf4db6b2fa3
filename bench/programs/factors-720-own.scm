;;! gated: yes
;;! needs: arith
;;! about: run* all (x y) with (*o x y (build-num 720)), our own relational binary arithmetic (_arith.scm): 30 answers
(bench-report "factors-720-own"
  (run* (x y) (*o x y (build-num 720))))
