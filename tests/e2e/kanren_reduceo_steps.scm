;; reduceo's fast path is taken: under --max-steps 300 (kanren_reduceo_steps.args)
;; the fixed point of walko on a 1,023-node tree comes from the rewriting
;; driver in a few dozen steps, where the relational definition alone
;; needs more than 100,000 (the limit would stop it with exit status 3).
(define (tree d leaf) (if (= d 0) leaf (list 'f (tree (- d 1) leaf) (tree (- d 1) leaf))))
(define (ab a b) (lall (== a 'a) (== b 'b)))
(define (abc a b) (lany (ab a b) (lall (== a 'b) (== b 'c))))
(display (equal? (run 1 (q) (reduceo (lambda (a b) (walko ab a b)) (tree 9 'a) q)) (list (tree 9 'b))))
(newline)
(display (equal? (run 1 (q) (reduceo (lambda (a b) (walko abc a b)) (tree 9 'a) q)) (list (tree 9 'c))))
(newline)
(display (equal? (run 1 (q) (reduceo (lambda (a b) (non_obs_walko ab a b)) (list 'observed 'a (list 'normal (tree 9 'a) 'a)) q))
                 (list (list 'observed 'a (list 'normal (tree 9 'b) 'b)))))
(newline)
