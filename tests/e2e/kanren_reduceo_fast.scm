;; reduceo's fast path (graph/pk_rewrite.c, pkrw_first): on a known input
;; and a relation (lambda (a b) (walko REL a b)) or non_obs_walko's, the
;; first answer comes from the rewriting driver and the rest from the
;; relational definition.  Each line compares the first answers of
;; `reduceo` with `(kanren-reduceo ... #f)`, the relational definition
;; alone: #t when equal, then the answers.

(define (same label n rel t b)
  (let ((fast (run n (q) (reduceo rel t q)))
        (slow (run n (q) (kanren-reduceo rel t q #f))))
    (printf "~a ~a ~s\n" label (equal? fast slow) fast)))

;; rules: overlapping unit laws, one under =/=, one with project, one
;; with two answers
(define (unit a b)
  (fresh (x)
    (conde ((== a `(mul ,x 1)) (== b x))
           ((== a `(add ,x 0)) (== b x))
           ((== a `(add 0 ,x)) (== b x)))))
(define (notzero a b)
  (fresh (x y)
    (lall (== a `(mul ,x ,y)) (=/= y 0) (== b `(times ,y ,x)))))
(define (fold a b)
  (fresh (x y)
    (lall (== a `(add ,x ,y))
          (project (x y) (if (and (number? x) (number? y)) (== b (+ x y)) fail)))))
(define (two a b)
  (lconde ((== a 'p) (== b 'q)) ((== a 'p) (== b 'r)) ((== a 'q) (== b 's))))

;; random terms from a seeded linear congruential generator
(define seed 12345)
(define (rnd n)
  (set! seed (modulo (+ (* seed 1103515245) 12345) 2147483648))
  (modulo (quotient seed 65536) n))
(define (gen d)
  (if (or (= d 0) (= (rnd 3) 0))
      (list-ref '(0 1 2 x y p q) (rnd 7))
      (let ((op (list-ref '(add mul f) (rnd 3))))
        (if (eq? op 'f) (list op (gen (- d 1))) (list op (gen (- d 1)) (gen (- d 1)))))))

(define (check-all name rel k)
  (let loop ((i 0) (ok 0))
    (if (= i k)
        (printf "~a: ~a of ~a equal\n" name ok k)
        (let* ((t (gen 4))
               (r (lambda (a b) (walko rel a b)))
               (fast (run 4 (q) (reduceo r t q)))
               (slow (run 4 (q) (kanren-reduceo r t q #f))))
          (if (not (equal? fast slow)) (printf "differs on ~s: ~s ~s\n" t fast slow))
          (loop (+ i 1) (if (equal? fast slow) (+ ok 1) ok))))))
(check-all "unit" unit 150)
(check-all "notzero" notzero 100)
(check-all "fold" fold 150)
(check-all "two" two 100)

;; an outer variable bound in the substitution map (after a disjunction):
;; REL reads it through the caller's state
(define (outer-read fast)
  (run 3 (q) (fresh (x)
    (conde ((== x 'a)) ((== x 'c)))
    (kanren-reduceo (lambda (a b) (walko (lambda (u v) (lall (== u x) (== v 'b))) a b)) '(f a c) q fast))))
(printf "outer-read ~a ~s\n" (equal? (outer-read #t) (outer-read #f)) (outer-read #t))
;; REL binds an outer variable, or constrains one: not a function of the
;; node alone, so the relational definition answers
(define (outer-bind fast)
  (run 3 (q x) (kanren-reduceo (lambda (a b) (walko (lambda (u v) (lall (== u x) (== v 'b))) a b)) '(f a) q fast)))
(printf "outer-bind ~a ~s\n" (equal? (outer-bind #t) (outer-bind #f)) (outer-bind #t))
(define (outer-diseq fast)
  (run 1 (q x)
    (kanren-reduceo (lambda (a b) (walko (lambda (u v) (lall (=/= u x) (== u 'a) (== v 'b))) a b)) '(f a) q fast)))
(printf "outer-diseq ~a ~s\n" (equal? (outer-diseq #t) (outer-diseq #f)) (outer-diseq #t))
;; the output known: the fixed point, an intermediate term, neither
(define r-unit (lambda (a b) (walko unit a b)))
(printf "given-fixed ~s\n" (run 3 (q) (reduceo r-unit '(add (mul (add y 0) 1) 0) 'y)))
(printf "given-fixed-slow ~s\n" (run 3 (q) (kanren-reduceo r-unit '(add (mul (add y 0) 1) 0) 'y #f)))
(printf "given-mid ~s\n" (run 3 (q) (reduceo r-unit '(add (mul (add y 0) 1) 0) '(mul (add y 0) 1))))
(printf "given-mid-slow ~s\n" (run 3 (q) (kanren-reduceo r-unit '(add (mul (add y 0) 1) 0) '(mul (add y 0) 1) #f)))
(printf "given-none ~s\n" (run 3 (q) (reduceo r-unit '(add (mul (add y 0) 1) 0) 'z)))
;; no redex: no answer
(same "no-redex" 3 r-unit '(f x y) 'q)
;; non_obs_walko, and REL as a variable of the closure
(define (observed-rule rel)
  (lambda (a b) (non_obs_walko rel a b)))
(same "non-obs" 5 (observed-rule unit) '(observed (add 1 0) (normal (mul x 1) (add 0 y))) 'q)
(same "non-obs-none" 5 (observed-rule unit) '(normal (mul x 1) 1) 'q)
;; a program's own walko replaces kanren's: no fast path, its own answers
(define (my-walko rel a b) (rel a b))
(printf "own-walko ~s\n" (run 3 (q) (reduceo (lambda (a b) (my-walko unit a b)) '(add (mul x 1) 0) q)))
