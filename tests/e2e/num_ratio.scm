;; Exact rationals (int64 numerator and denominator), as Chez Scheme 9.5:
;; arithmetic, contagion to flonums, exact comparison with flonums,
;; rounding, conversions, text, equality and unification.  num_ratio.out is
;; the output of `scheme --script num_ratio.scm` (with faster-miniKanren's
;; mk-vicare.scm and mk.scm next to it; pkanren has them built in).
(load "mk-vicare.scm")
(load "mk.scm")

(define (show label . vals)
  (display label)
  (for-each (lambda (v) (display " ") (write v)) vals)
  (newline))

;; literals and normalisation
(show "literals" 1/2 -3/4 +6/8 4/2 -0/5 10/4 '(1/2 . 3/4) '#(1/3))
(show "radix" #x10/3 #b101/11 #o-17/2)

;; the four operations
(show "/" (/ 1 2) (/ 6 4) (/ -6 4) (/ 6 -4) (/ 2) (/ 3/4) (/ 1 2 3) (/ 1/2 1/4))
(show "+" (+ 1/2 1/3) (+ 1/2 1/2) (+ 1/2 1) (+ 1/6 1/10) (+ 1/2 1/3 1/6))
(show "-" (- 1/2) (- 1 1/3) (- 1/2 1/2) (- 1/3 1/2))
(show "*" (* 2/3 3/2) (* 2/3 3) (* 1/2 1/3) (* 0 1/2) (* -1/2 4/5))
(show "big" (/ 9223372036854775807 9223372036854775806)
      (* 9223372036854775807/2 2/9223372036854775807)
      (+ 4611686018427387903/2 4611686018427387903/2)
      (/ -9223372036854775808 3))

;; contagion: the ratio goes through inexact, then flonum arithmetic
(show "contagion" (+ 1/2 0.5) (* 1.5 2/3) (- 0.5 1/3) (/ 1/3 2.0) (+ 0.0 1/3) (* 0 0.5))

;; comparisons are exact, also against flonums
(show "compare" (= 1/2 2/4) (= 1/2 0.5) (< 1/3 1/2 1) (> 1/2 0) (<= 1/2 1/2 2/3)
      (>= 1/2 1/3 1/3 0))
(show "exactly" (= 1/3 0.3333333333333333) (< 1/3 0.3333333333333333)
      (> 1/3 0.3333333333333333) (< 1/10 0.1) (= 3602879701896397/36028797018963968 0.1)
      (< 1/2 +inf.0) (< 1/2 +nan.0))
(show "extrema" (max 1/2 1/3) (max 1/2 0.1) (min 1/2 1) (min 1/3 1.0) (abs -1/2))
(show "signs" (zero? 1/2) (positive? 1/2) (negative? -1/2) (positive? -1/2))

;; predicates and equality
(show "preds" (rational? 1/2) (integer? 1/2) (integer? 4/2) (exact? 1/2) (inexact? 1/2)
      (real? 1/2) (number? 1/2))
(show "equality" (eqv? 1/2 2/4) (eqv? 1/2 0.5) (equal? '(1/2 (3/4)) (list (/ 2 4) (list (/ 6 8))))
      (memv 1/2 '(1 1/2 2)) (assoc 3/4 '((1 . a) (3/4 . b))))

;; parts, conversions, rounding
(show "parts" (numerator 6/4) (denominator 6/4) (numerator -6/4) (denominator 5)
      (numerator 0.5) (denominator 0.5) (denominator 0.1))
(show "inexact" (exact->inexact 1/3) (inexact -1/3) (inexact 9007199254740993/3)
      (inexact 1/9223372036854775807))
(show "exact" (exact 2.5) (exact -0.125) (inexact->exact 0.1) (exact (/ 1.0 3)) (exact 4.0))
(show "floor" (floor 7/2) (floor -7/2) (floor -1/2))
(show "ceiling" (ceiling 7/2) (ceiling -7/2) (ceiling -1/2))
(show "truncate" (truncate 7/2) (truncate -7/2))
(show "round" (round 7/2) (round 5/2) (round -5/2) (round -7/2) (round 1/2) (round 5/3)
      (round -4/3))
(show "sqrt" (sqrt 1/4) (sqrt 4/9) (sqrt 8/18) (sqrt 2/4))
(show "expt" (expt 2 -3) (expt -2 -3) (expt 2/3 3) (expt 2/3 -3) (expt 1/2 -2) (expt 1/2 0)
      (expt 4 1/2) (expt 0 1/2) (expt 1/2 0.5))
(show "transcendental" (exp 1/2) (log 1/2) (log 8 1/2) (sin 1/2) (atan 1/2 1/3) (atan 0 1/2))

;; text
(show "number->string" (number->string 1/2) (number->string -3/4 2) (number->string 255/2 16))
(show "string->number" (string->number "1/2") (string->number "+6/8") (string->number "#x1/A")
      (string->number "#i1/3") (string->number "#e0.1") (string->number "#e1.5e-3")
      (string->number "1/0") (string->number "6/-4"))
(display 1/2) (newline)
(printf "~a ~s ~x ~b~%" 1/2 -1/3 255/2 3/4)
(display (format "~a" (list 1/2 0.5 1))) (newline)

;; a small computation: harmonic numbers and a continued fraction
(define (harmonic n) (if (= n 0) 0 (+ (/ 1 n) (harmonic (- n 1)))))
(show "harmonic" (harmonic 1) (harmonic 2) (harmonic 10) (harmonic 20))
(define (cf n) (if (= n 0) 1 (+ 1 (/ 1 (cf (- n 1))))))
(show "golden" (cf 10) (inexact (cf 40)))
(show "sum" (apply + (map (lambda (k) (/ 1 (* k (+ k 1)))) '(1 2 3 4 5 6 7 8 9))))
(show "sort" (sort < '(1/2 1/3 0.4 1 -1/2 2/3)))

;; unification: ratios are atoms compared with equal?; numbero accepts them
(write (run* (q) (== q 1/2))) (newline)
(write (run* (q) (== q (/ 2 4)) (== q 1/2))) (newline)
(write (run* (q) (== q 1/2) (== q 0.5))) (newline)
(write (run* (q) (numbero q) (== q -3/4))) (newline)
(write (run* (q) (symbolo q) (== q 1/3))) (newline)
(write (run* (q) (=/= q 1/2) (== q 2/4))) (newline)
(write (run* (q) (=/= q 1/2) (== q 1/3))) (newline)
(write (run* (q) (=/= q 1/2))) (newline)
(write (run* (q) (absento 1/2 q))) (newline)
(write (run* (q) (absento 1/2 q) (== q '(a 1/2)))) (newline)
(write (run* (q) (conde ((== q 1/2)) ((== q 1/3)) ((== q (+ 1/2 1/3)))))) (newline)
(write (run* (q) (project () (== q (* 3/4 4/3))))) (newline)
