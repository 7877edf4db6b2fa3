;; pkanren demo: faster-miniKanren programs, run unchanged.
;;   build/pkanren run examples/demo.scm
;; (This file runs as-is under Chez Scheme + faster-miniKanren too, after
;;  loading mk-vicare.scm and mk.scm; pkanren has miniKanren built in.)

(define (banner title)
  (newline)
  (printf "== ~a ==~%" title))

(define (show-answers label answers)
  (printf "~a~%" label)
  (for-each (lambda (a) (printf "    ~s~%" a)) answers))

;; ---------------------------------------------------------------------
;; 1. A relation runs forwards and backwards.
(defrel (appendo l s out)
  (conde
    [(== '() l) (== s out)]
    [(fresh (a d res)
       (== `(,a . ,d) l)
       (== `(,a . ,res) out)
       (appendo d s res))]))

(banner "appendo: one relation, many questions")
(printf "(appendo '(1 2) '(3 4) q)   => ~s~%"
        (run* (q) (appendo '(1 2) '(3 4) q)))
(printf "(appendo q '(4) '(1 2 3 4)) => ~s~%"
        (run* (q) (appendo q '(4) '(1 2 3 4))))
(show-answers "every way to split (a b c):"
              (run* (x y) (appendo x y '(a b c))))
(show-answers "the first three answers of an infinite query (appendo x y z):"
              (run 3 (x y z) (appendo x y z)))

;; ---------------------------------------------------------------------
;; 2. Constraints: disequality, absence, types.
(banner "constraints")
(printf "a two-element list whose elements differ, the first a symbol:~%    ~s~%"
        (run* (q) (fresh (a b) (== q `(,a ,b)) (=/= a b) (symbolo a))))
(printf "a pair that is not (1 2):~%    ~s~%"
        (run* (x y) (=/= `(,x ,y) '(1 2))))
(printf "a term with no 'secret inside, then bound to (a (b c)):~%    ~s~%"
        (run* (q) (absento 'secret q) (== q '(a (b c)))))
(printf "... and to (a (secret)): ~s~%"
        (run* (q) (absento 'secret q) (== q '(a (secret)))))

;; ---------------------------------------------------------------------
;; 3. A relational interpreter for a tiny Lisp, run backwards to write
;;    programs: quines are programs that evaluate to themselves.
(load "interp.scm")

(banner "a relational interpreter")
(printf "evaluate ((lambda (x) (list x x)) 'hi):~%    ~s~%"
        (run* (v) (evalo '((lambda (x) (list x x)) 'hi) v)))
(show-answers "three programs that evaluate to (I love you):"
              (run 3 (p) (evalo p '(I love you))))
(let* ([answer (car (run 1 (q) (evalo q q)))]
       [quine (car answer)])
  (printf "a quine, found by running the interpreter backwards:~%    ~s~%" quine)
  (printf "  where ~s~%" (cdr answer))
  (printf "it evaluates to itself: ~s~%"
          (equal? (run* (v) (evalo quine v)) (list quine))))
(let ([twine (car (run 1 (p q) (=/= p q) (evalo p q) (evalo q p)))])
  (printf "a twine: two different programs, each evaluating to the other:~%")
  (printf "    p = ~s~%    q = ~s~%" (car (car twine)) (cadr (car twine))))

(printf "~%done.~%")
