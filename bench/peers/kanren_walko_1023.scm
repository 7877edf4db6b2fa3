;; walko and reduceo of walko on a 1,023-node tree (9 levels of (f L R) over
;; 512 leaves a, the rule a -> b); bench/peers/kanren_walko_1023.py is the
;; same in Python kanren.  Time with: pkanren run -j 1 --stats FILE (wall).
;; Pass WHICH as the last top-level form's choice: edit `which` below.
(load "../../relations/kanren.scm")
(define (tree d) (if (= d 0) 'a (list 'f (tree (- d 1)) (tree (- d 1)))))
(define t (tree 9))
(define (ab a b) (lall (== a 'a) (== b 'b)))
(define which 'reduceo)
(define r
  (if (eq? which 'walko)
      (run 1 (q) (walko ab t q))
      (run 1 (q) (reduceo (lambda (a b) (walko ab a b)) t q))))
(display (length r))
(newline)
