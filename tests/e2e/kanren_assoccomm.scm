;; eq_comm, eq_assoc, eq_assoccomm, term_walko and the operator
;; declarations; answers and order as Python kanren b1ff6cf gives them
;; (with add and mul declared commutative and associative).
(run* (x) (eq_comm '(add 1 2 3) `(add 2 ,x 1)))
(run* (q) (eq_comm '(add 1 (mul 2 3)) q))
(run* (q) (eq_comm '(f 1 2) q))
(run* (q) (eq_assoc '(add 1 2 3) q))
(run* (x) (eq_assoc '(add 1 2 3) `(add 1 ,x)))
(run* (x) (eq_assoccomm '(add 1 2 3) `(add 1 ,x)))
(run* (q) (eq_assoccomm '(add 1 2) q))
(run* (q) (eq_assoccomm '(add 1 (add 2 3)) `(add ,q 1 2)))
(run* (q) (eq_assoccomm '(mul (add 1 2) 3) `(mul 3 ,q)))
;; exponential as in kanren, but finite on known terms: 1083 answers
;; (648 distinct), and a failing match of two six-leaf terms
(display (length (run* (q) (eq_assoccomm '(add (mul 1 2 3) (mul 4 5) 6) q))))
(newline)
(run* (q) (eq_assoccomm '(add (mul 1 2 3) (mul 4 5) 6) '(mul (mul 1 2 3) (mul 4 5) 6)))
(run* (q) (eq_assoccomm '(add (mul 1 2 3) (mul 4 5) 6) '(add 6 (mul 5 4) (mul 3 1 2))))
;; both sides unknown: an unbound operator takes the declared ones in
;; declaration order (kanren: a Python set's order, mul first here)
(run 3 (q r) (eq_comm q r))
;; declarations: operator names as written, quoted or not
(run* (q) (eq_comm '(g 1 2) q))
(declare-commutative 'g)
(run* (q) (eq_comm '(g 1 2) q))
(run* (q) (eq_assoc '(g 1 2 3) q))
(declare-associative g)
(run* (q) (eq_assoc '(g 1 2 3) q))
(run* (q) (term_walko commutative (lambda (x y op) (permuteo x y)) '(add 1 2) q))
;; a program's own applyo, term_walko or walko replaces that name only
(define (applyo a b c) fail)
(define (term_walko . args) fail)
(define (walko g a b) fail)
(run* (x) (eq_comm '(add 1 2 3) `(add 2 ,x 1)))
(run* (q) (non_obs_walko (lambda (a b) (lall (== a 'm) (== b 'n))) '(observed 1 (NormalRV m 1.0)) q))
