;; Tensors in JSON answers: shape and data; non-finite elements tagged.
(run* (q) (== q (list #[[1 2] [3 4]] #[1.5 +inf.0 -inf.0 +nan.0] #[])))
