;; The README demo, examples/demo.scm, checked byte for byte (its output was
;; verified against Chez Scheme + faster-miniKanren).
(load "../../examples/demo.scm")
