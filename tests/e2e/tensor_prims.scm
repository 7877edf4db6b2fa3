;; The tensor primitives the statistical relations use for numeric guards
;; and constant folding: tensor?, tensor-shape, tensor->list, list->tensor.
(write (list (tensor? #[1.0 2.0]) (tensor? 1.0) (tensor? '(1 2)))) (newline)
(write (tensor-shape #[[1 2 3] [4 5 6]])) (newline)
(write (tensor->list #[[1.0 2.0] [3.0 4.0]])) (newline)
(write (tensor->list #[0 0 1])) (newline)
(write (list->tensor '(2 2) '(1 2 3 4.5))) (newline)
(write (list->tensor '(3) '(1 2 3))) (newline)
(write (equal? (list->tensor (tensor-shape #[[1.0 0.0] [0.0 1.0]]) (tensor->list #[[1.0 0.0] [0.0 1.0]]))
               #[[1.0 0.0] [0.0 1.0]]))
(newline)
(list->tensor '(2 2) '(1 2 3))
