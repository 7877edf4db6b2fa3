;; examples/regression.model printed back as SPEC §4 shows it, and its
;; output term used by relations: == matches it, and reading the file again
;; gives the same (eq?) hash-consed nodes.
(define ms (read-models "../../examples/regression.model"))
(for-each write-model ms)
(define out (car (model-outputs (car ms))))
(run* (y lik) (== out `(observed ,y ,lik)))
(run* (beta) (fresh (F V r) (== out `(observed #[-3.0] (MvNormalRV (dot ,F ,beta) ,V () ,r "Y")))))
(display (eq? out (car (model-outputs (car (read-models "../../examples/regression.model"))))))
(newline)
(display (equal? (car ms) (car (read-models "../../examples/regression.model"))))
(newline)
