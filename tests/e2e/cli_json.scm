;; --format json: each top-level run value as one JSON line (lists as
;; arrays, symbols and strings as strings, logic variables as "_.N").
;; Output written by the program itself is unchanged.
(display "program output is not JSON") (newline)
(run* (q) (conde [(== q 1)] [(== q "two")] [(== q '(three 4))]))
(run* (x y) (== x 'a) (conde [(== y 1)] [(== y 2)]))
(run* (q) fail)
(run* (q) (fresh (a b) (== q `(,a ,b ,a))))
(run* (q) (== q "quote\" back\\ nl\n tab\t"))
(run* (q) (conde [(== q '())] [(== q #f)] [(== q '(() (#t)))] [(== q -42)]))
(run 2 (q) (conde [(== q 'a)] [(== q 'b)] [(== q 'c)]))
(run* (q) (=/= q 'x))
(write (run* (q) (== q 'written))) (newline)
