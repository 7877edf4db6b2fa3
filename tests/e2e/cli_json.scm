;; --format json: each top-level run value as one JSON line, lossless
;; (SPEC §6): proper lists as arrays, strings as strings, {"sym":"a"},
;; {"var":0} for _.0, {"char":"c"}, {"vector":[...]}, {"pair":[a,d]} for an
;; improper tail, floats with . or an exponent, {"float":"inf"}, an answer
;; with constraints as {"answer":...,"constraints":{...}}.  Output written
;; by the program itself is unchanged (on stdout without --stream).
(display "program output is not JSON") (newline)
(run* (q) (conde [(== q 1)] [(== q "two")] [(== q '(three 4))]))
(run* (x y) (== x 'a) (conde [(== y 1)] [(== y 2)]))
(run* (q) fail)
(run* (q) (fresh (a b) (== q `(,a ,b ,a))))
(run* (q) (== q "quote\" back\\ nl\n tab\t"))
(run* (q) (conde [(== q '())] [(== q #f)] [(== q '(() (#t)))] [(== q -42)]))
(run 2 (q) (conde [(== q 'a)] [(== q 'b)] [(== q 'c)]))
(run* (q) (=/= q 'x))
(run* (q) (conde [(== q "a")] [(== q 'a)] [(== q '_.0)] [(== q #\c)] [(== q '(a . b))] [(== q '(a b . c))]
                 [(== q (vector 1 'x))] [(== q 1.0)] [(== q 1e21)] [(== q (/ 1.0 0))] [(== q (/ -1.0 0))]))
(run* (q) (fresh (x y) (=/= x 'a) (symbolo y) (absento 'z x) (== q `(,x ,y))))
(run* (q) (== q '(a (sym x))))
(write (run* (q) (== q 'written))) (newline)
