;; examples/zebra.scm, checked byte for byte.
(load "../../examples/zebra.scm")
