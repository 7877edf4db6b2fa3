;; Shared helper for the pkanren peer benchmarks (loaded by the harness
;; before each program; not a benchmark itself).
;;
;; (bench-report NAME ANSWERS) prints one line: NAME, the number of answers
;; and a hash of their content, so that two systems can be compared without
;; printing large answer lists.  Only portable R6RS procedures are
;; used, so the same file runs on Chez Scheme and on pkanren.

(define bench-modulus 1000000007)

;; The harness defines bench-full-check before loading this file.  In timed
;; runs it is #f: the report then hashes only the first and last few answers,
;; and at most bench-sample-nodes nodes of each, so the checksum costs next to
;; nothing next to the search.  In the (untimed) check run it is #t and every
;; node of every answer is hashed.
(define bench-sample-answers 3)
(define bench-sample-nodes 2000)
(define bench-budget #f)                ; nodes left to hash, #f = unlimited

(define (bench-mix h k)
  (modulo (+ (* h 31) k) bench-modulus))

(define (bench-hash-chars cs h)
  (if (null? cs)
      h
      (bench-hash-chars (cdr cs) (bench-mix h (char->integer (car cs))))))

(define (bench-hash t h)
  (cond
    ((and bench-budget (<= bench-budget 0)) h)
    (else
      (if bench-budget (set! bench-budget (- bench-budget 1)))
      (cond
        ((pair? t) (bench-hash (cdr t) (bench-hash (car t) (bench-mix h 1))))
        ((null? t) (bench-mix h 2))
        ((symbol? t) (bench-hash-chars (string->list (symbol->string t)) (bench-mix h 3)))
        ((number? t) (bench-hash-chars (string->list (number->string t)) (bench-mix h 4)))
        ((string? t) (bench-hash-chars (string->list t) (bench-mix h 5)))
        ((char? t) (bench-mix (bench-mix h 6) (char->integer t)))
        ((eq? t #t) (bench-mix h 7))
        ((eq? t #f) (bench-mix h 8))
        (else (bench-mix h 9))))))

;; Hash of the first and last k answers, each cut to bench-sample-nodes nodes.
(define (bench-sample-hash answers)
  (let* ((n (length answers))
         (k bench-sample-answers))
    (let loop ((as answers) (i 0) (h 0))
      (cond
        ((null? as) h)
        ((or (< i k) (>= i (- n k)))
         (set! bench-budget bench-sample-nodes)
         (let ((h2 (bench-hash (car as) (bench-mix h i))))
           (set! bench-budget #f)
           (loop (cdr as) (+ i 1) h2)))
        (else (loop (cdr as) (+ i 1) h))))))

(define (bench-report name answers)
  (display name)
  (display " answers=")
  (display (length answers))
  (if bench-full-check
      (begin (display " hash=") (display (bench-hash answers 0)))
      (begin (display " sample=") (display (bench-sample-hash answers))))
  (newline))

;; (bench-iota N) => (1 2 ... N), built iteratively so long lists are cheap.
(define (bench-iota n)
  (let loop ((i n) (acc '()))
    (if (= i 0) acc (loop (- i 1) (cons i acc)))))

;; (bench-repeat K THUNK) calls THUNK K times and returns the last result.
(define (bench-repeat k thunk)
  (let loop ((i 1) (r (thunk)))
    (if (>= i k) r (loop (+ i 1) (thunk)))))
