;;! gated: yes
;;! about: a relation that recurses 2,000,000 times through project with a one-element accumulator (memory must stay flat)
;;! needs: loopo
(bench-report "long-loop-2M" (run* (q) (loopo 2000000 '(0) q)))
