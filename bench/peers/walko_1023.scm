;; The body of walko-1023 (bench/rewrites/walko-1023*.bench): reduceo of walko
;; on a 1,023-node tree (9 levels of (f L R) over 512 leaves a, the rule
;; a -> b); bench/peers/kanren_walko_1023.py is the same in Python kanren.
;; The loader defines `which` (reduceo: as programs call it, the driver
;; giving the first answer; relational: reduceo's relational definition
;; alone, `(kanren-reduceo ... #f)`; walko: one walko) and `reps`: the query
;; runs reps times, so `pkanren run -j 1 --stats FILE`'s wall (in-process:
;; from reading the file to its end, tree and all) over reps is the time
;; of one query; the first line says reps, the second is the answer.
(define (tree d) (if (= d 0) 'a (list 'f (tree (- d 1)) (tree (- d 1)))))
(define t (tree 9))
(define (ab a b) (lall (== a 'a) (== b 'b)))
(define (query)
  (case which
    ((walko) (run 1 (q) (walko ab t q)))
    ((relational) (run 1 (q) (kanren-reduceo (lambda (a b) (walko ab a b)) t q #f)))
    (else (run 1 (q) (reduceo (lambda (a b) (walko ab a b)) t q)))))
(define (repeat k r) (if (= k 1) r (begin (query) (repeat (- k 1) r))))
(define r (repeat reps (query)))
(printf "walko-1023 ~a reps=~a answers=~a\n" which reps (length r))
(write (car r))
(newline)
