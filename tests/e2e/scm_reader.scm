;; The reader: brackets, comments of all kinds, booleans, characters,
;; string escapes, numbers, symbols, quote abbreviations.
#| a block comment
   #| nested |# still a comment
   (display "not run")
|#
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(show [list 1 2] '[a (b [c])])   ; brackets are parentheses
(show '(1 #;(ignored datum) 2 #; 3 4))
#;(display "datum comment at top level")
(show '(a #| inline |# b))
(show #t #f #true #false)
(show #\a #\space #\newline #\tab #\( #\) #\; #\" #\\)
(show "esc: \" \\ \n \t" "\x41;\x42;")
(show 42 -17 +5 3.25 -0.5 .5 1e3 -2.5e-3 1.)
(show 'abc 'ABC 'a.b '->x '... '+ '- '1+ 'x!? 'a/b '<=> '_.0)
(show ''a '`b ',c ',@d '(quote . x))
(show '(1 . (2 . (3 . ()))) '(a . b) '(a b . c) '#(1 (2) "3"))
(show (quote ()) '#() (vector))
(show
  '(multi
    line ; with a comment
    datum))
(show "a string
spanning lines")
(show (run* (q) [conde [(== q 'bracketed)] [(== q 'conde)]]))
