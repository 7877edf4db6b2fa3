;; A relation that allocates without end on the atom h (for verify's
;; --max-memory test).
(defrel (hogo a b) (fresh (x) (== x (make-vector 100000 a)) (hogo x b)))
(define (hog a b) (fresh () (== a 'h) (hogo a b)))
