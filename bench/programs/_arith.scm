;; Relational binary arithmetic for the pkanren benchmarks (loaded by the
;; harness for ";;! needs: arith"; not a benchmark itself).
;;
;; This is our own implementation of the arithmetic relations described by
;; Kiselyov, Byrd, Friedman and Shan, "Pure, Declarative, and Constructive
;; Arithmetic Relations" (FLOPS 2008) and in chapters 7-8 of The Reasoned
;; Schemer.  It lets programs such as factors-720-own run without the
;; faster-miniKanren checkout.
;;
;; Representation: a natural number is a little-endian list of bits 0/1 whose
;; last element (the most significant bit) is 1; zero is the empty list.  So
;; 6 is (0 1 1) and 1 is (1).  Keeping the representation unique (no trailing
;; zeros) is what lets the relations enumerate each number exactly once and
;; makes the bounded multiplication below terminate when the product is
;; ground.
;;
;; Relations defined here:
;;   poso n          n > 0                    (n is a non-empty list)
;;   >1o n           n > 1                    (n has at least two bits)
;;   full-addero b x y r c   one-bit adder: b + x + y = r + 2c
;;   addero d n m r  n + m + d = r, d a carry bit
;;   pluso n m k     n + m = k
;;   minuso n m k    n - m = k
;;   *o n m p        n * m = p
;;   =lo n m         n and m have the same bit length
;;   <lo n m         n has fewer bits than m
;;   <=lo n m, <o n m, <=o n m
;; and the ordinary procedure (build-num N) for a non-negative integer N.
;; Only portable R6RS and faster-miniKanren forms are used, so the file also
;; loads on Chez Scheme with mk.scm.

;; ---- numbers ----------------------------------------------------------------

;; (build-num 6) => (0 1 1); (build-num 0) => ()
(define (build-num n)
  (let loop ((n n) (bits '()))
    (if (zero? n)
        (reverse bits)
        (loop (quotient n 2) (cons (if (even? n) 0 1) bits)))))

;; ---- positivity ---------------------------------------------------------------

(define (poso n)
  (fresh (lo hi)
    (== (cons lo hi) n)))

(define (>1o n)
  (fresh (b0 b1 rest)
    (== (cons b0 (cons b1 rest)) n)))

;; ---- addition -------------------------------------------------------------------

;; b + x + y = r + 2c, all single bits.  Written as the truth table of a
;; full adder, one row per combination of the inputs.
(define (full-addero b x y r c)
  (conde
    ((== 0 b) (== 0 x) (== 0 y) (== 0 r) (== 0 c))
    ((== 0 b) (== 0 x) (== 1 y) (== 1 r) (== 0 c))
    ((== 0 b) (== 1 x) (== 0 y) (== 1 r) (== 0 c))
    ((== 0 b) (== 1 x) (== 1 y) (== 0 r) (== 1 c))
    ((== 1 b) (== 0 x) (== 0 y) (== 1 r) (== 0 c))
    ((== 1 b) (== 0 x) (== 1 y) (== 0 r) (== 1 c))
    ((== 1 b) (== 1 x) (== 0 y) (== 0 r) (== 1 c))
    ((== 1 b) (== 1 x) (== 1 y) (== 1 r) (== 1 c))))

;; n + m + d = r where d is the incoming carry bit.  The cases are chosen so
;; that they do not overlap: each triple (n m r) is produced by one clause
;; only, which keeps every answer unique.
(define (addero d n m r)
  (conde
    ;; adding zero, no carry
    ((== 0 d) (== '() m) (== n r))
    ((== 0 d) (== '() n) (== m r) (poso m))
    ;; adding zero with a carry: add one instead
    ((== 1 d) (== '() m) (addero 0 n '(1) r))
    ((== 1 d) (== '() n) (poso m) (addero 0 '(1) m r))
    ;; 1 + 1 (+ d) gives a two-bit result
    ((== '(1) n) (== '(1) m)
     (fresh (lo hi)
       (== (list lo hi) r)
       (full-addero d 1 1 lo hi)))
    ;; one plus a number of two or more bits
    ((== '(1) n) (add-bits d n m r))
    ;; a number of two or more bits plus one: swap the operands, so that
    ;; the case above does the work
    ((== '(1) m) (>1o n) (>1o r) (addero d '(1) n r))
    ;; two numbers of two or more bits
    ((>1o n) (add-bits d n m r))))

;; The general step: add the low bits with the carry, then the rest with the
;; carry out.  The higher parts of m and r must be positive, so that no
;; trailing zero is ever produced.
(define (add-bits d n m r)
  (fresh (nb mb rb carry n-rest m-rest r-rest)
    (== (cons nb n-rest) n)
    (== (cons mb m-rest) m)
    (poso m-rest)
    (== (cons rb r-rest) r)
    (poso r-rest)
    (full-addero d nb mb rb carry)
    (addero carry n-rest m-rest r-rest)))

(define (pluso n m k) (addero 0 n m k))

(define (minuso n m k) (pluso m k n))

;; ---- bit lengths ------------------------------------------------------------------

;; n and m have the same number of bits
(define (=lo n m)
  (conde
    ((== '() n) (== '() m))
    ((== '(1) n) (== '(1) m))
    ((fresh (a n-rest b m-rest)
       (== (cons a n-rest) n) (poso n-rest)
       (== (cons b m-rest) m) (poso m-rest)
       (=lo n-rest m-rest)))))

;; n has fewer bits than m
(define (<lo n m)
  (conde
    ((== '() n) (poso m))
    ((== '(1) n) (>1o m))
    ((fresh (a n-rest b m-rest)
       (== (cons a n-rest) n) (poso n-rest)
       (== (cons b m-rest) m) (poso m-rest)
       (<lo n-rest m-rest)))))

(define (<=lo n m)
  (conde
    ((=lo n m))
    ((<lo n m))))

;; n < m: either n is shorter, or both have the same length and m = n + x
;; for some positive x.
(define (<o n m)
  (conde
    ((<lo n m))
    ((=lo n m)
     (fresh (x)
       (poso x)
       (pluso n x m)))))

(define (<=o n m)
  (conde
    ((== n m))
    ((<o n m))))

;; ---- multiplication -------------------------------------------------------------------

;; n * m = p.  Zero and one are handled directly; otherwise an even n shifts
;; (2x * m = 2z with x * m = z), an odd n with an even m swaps the operands,
;; and two odd numbers go through odd-times.
(define (*o n m p)
  (conde
    ((== '() n) (== '() p))
    ((poso n) (== '() m) (== '() p))
    ((== '(1) n) (poso m) (== m p))
    ((>1o n) (== '(1) m) (== n p))
    ((fresh (x z)
       (== (cons 0 x) n) (poso x)
       (== (cons 0 z) p) (poso z)
       (>1o m)
       (*o x m z)))
    ((fresh (x y)
       (== (cons 1 x) n) (poso x)
       (== (cons 0 y) m) (poso y)
       (*o m n p)))
    ((fresh (x y)
       (== (cons 1 x) n) (poso x)
       (== (cons 1 y) m) (poso y)
       (odd-times x n m p)))))

;; n = 2x + 1, so n * m = 2(x * m) + m.  The length bound on q (the partial
;; product x * m) comes first, so that the search for q is finite whenever p
;; (or n and m) is ground.
(define (odd-times x n m p)
  (fresh (q)
    (bounded-product q p n m)
    (*o x m q)
    (pluso (cons 0 q) m p)))

;; q is no longer than p, and no longer than n and m together: walk the
;; four lists in step, dropping one bit of n (or, once n is exhausted, of m)
;; for each bit of q.
(define (bounded-product q p n m)
  (conde
    ((== '() q) (poso p))
    ((fresh (qb q-rest pb p-rest nb n-rest mb m-rest)
       (== (cons qb q-rest) q)
       (== (cons pb p-rest) p)
       (conde
         ((== '() n)
          (== (cons mb m-rest) m)
          (bounded-product q-rest p-rest m-rest '()))
         ((== (cons nb n-rest) n)
          (bounded-product q-rest p-rest n-rest m)))))))
