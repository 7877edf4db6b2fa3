;;! needs: full-interp
;;! about: synthesise three holes of append (base case, the consing procedure, its first argument) from three examples with full-interp.scm: 1 answer
(bench-report "append-synthesis"
  (run 1 (a b c)
    (evalo
      `(letrec ((append (lambda (l s)
                          (if (null? l)
                              ,c
                              (,b ,a (append (cdr l) s))))))
         (list (append '() '())
               (append '(x) '(y))
               (append '(c d) '(e f))))
      '(() (x y) (c d e f)))))
