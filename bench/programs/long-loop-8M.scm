;;! gated: yes
;;! about: a relation that recurses 8,000,000 times through project with a one-element accumulator (memory must stay flat)
;;! needs: loopo
(bench-report "long-loop-8M" (run* (q) (loopo 8000000 '(0) q)))
