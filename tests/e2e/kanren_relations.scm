;; Hand-written cases of relations/kanren.scm, one or more per relation;
;; answers and order as Python kanren b1ff6cf gives them (tuples as lists).
;; The relations are predefined in every program (no load needed).
;; lconde/lany/lall: kanren's interleaving by answers
(run* (q) (lany (lany (== q 1) (== q 2)) (== q 3)))
(run* (q) (fresh (a b) (lall (lany (== a 1) (== a 2)) (lany (== b 'x) (== b 'y)) (== q (list a b)))))
(run 4 (q) (lconde ((membero q '(a b c))) ((membero q '(1 2)))))
(run* (q) (lall))
(run* (q) (lany))
;; pairs
(run* (q) (conso 1 '(2 3) q))
(run* (q) (heado q '(a b)))
(run* (q) (tailo q '(a b)))
(run* (q) (nullo q))
(run* (q) (nullo '(1)))
(run* (q) (fresh (r d) (applyo 'add q '(add 1 2))))
(run* (q) (applyo 'add '(1 2) q))
(run* (q) (applyo q '(1) 5))
;; lists
(run 3 (q) (membero 'a q))
(run* (q) (appendo '(1 2) '(3) q))
(run* (q) (appendo q '(3) '(1 2 3)))
(run* (q) (rembero 'a '(b a c a) q))
(run* (q) (permuteo '(1 2 2) q))
(run* (q) (permuteo '(1 2 3) '(3 1 2)))
(run* (q) (permuteo '(1 2 3) '(1 2)))
(run* (q) (permuteo `(2 1 ,q) '(2 1 2)))
(run 3 (q) (fresh (a b) (permuteo a b) (== q (list a b))))
;; graph relations
(define (simp a b)
  (lconde ((fresh (x) (lall (== a `(mul ,x 1)) (== b x))))
          ((fresh (x) (lall (== a `(add ,x 0)) (== b x))))))
(run* (q) (mapo (lambda (a b) (lconde ((== b a)) ((== b (list 'f a))))) '(1 2) q))
(run* (q) (map_anyo simp '((mul x 1) y (add z 0)) q))
(run* (q) (map_anyo simp '() q))
(run* (q) (walko simp '(f (mul (add x 0) 1) ()) q))
(run 1 (q) (reduceo (lambda (a b) (walko simp a b)) '(f (mul (add x 0) 1) ()) q))
(run* (q) (reduceo (lambda (a b) (walko simp a b)) '(f y ()) q))
(run* (q) (walko simp "str" q))
(run 3 (q) (reduceo simp q 'x))
(run* (q) (non_obs_walko simp '(observed (mul y 1) (NormalRV (add m 0) 1.0)) q))
(run* (q) (non_obs_walko simp '(NormalRV (add m 0) 1.0) q))
;; engine: a kanren goal suspends with its current stream, so faster-
;; miniKanren's conde still interleaves it with a branch that never ends
(define (nevero) (fresh () (nevero)))
(run 1 (q) (conde ((nevero)) ((lany (== q 1) (== q 2)))))
;; long chains of nested interleavings (3,000 levels): answers do not pass
;; every level, and nothing recurses in C
(define (kanren-iota-from i n) (if (= i n) '() (cons i (kanren-iota-from (+ i 1) n))))
(define big (kanren-iota-from 0 3000))
(display (length (run* (q) (membero q big))))
(newline)
(run 1 (q) (membero 2999 big) (== q 'found))
(run* (q) (fresh (a) (appendo a `(,q) big)))
