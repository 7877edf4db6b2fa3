;; examples/stats_demo.scm prints what the README shows.
(load "../../examples/stats_demo.scm")
