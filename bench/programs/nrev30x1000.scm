;;! about: naive reverse of a 30-element list, (run* (q) (nrevo L q)) repeated 1000 times
;;! needs: appendo
(defrel (nrevo l r)
  (conde
    ((== '() l) (== '() r))
    ((fresh (h t rt)
       (== `(,h . ,t) l)
       (nrevo t rt)
       (appendo rt `(,h) r)))))

(define thirty (bench-iota 30))

(bench-report "nrev30x1000"
  (bench-repeat 1000 (lambda () (run* (q) (nrevo thirty q)))))
