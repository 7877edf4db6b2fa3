;; zebra.scm — the "zebra" logic puzzle, solved by search.
;;   build/pkanren run examples/zebra.scm
;; A house is (nationality pet drink smokes color); five houses in a row.
(defrel (membero x l)
  (fresh (a d)
    (== `(,a . ,d) l)
    (conde
      [(== a x)]
      [(membero x d)])))

;; x is immediately left of y in l
(defrel (lefto x y l)
  (fresh (a d)
    (== `(,a . ,d) l)
    (conde
      [(fresh (b e) (== a x) (== d `(,b . ,e)) (== b y))]
      [(lefto x y d)])))

(defrel (nexto x y l)
  (conde
    [(lefto x y l)]
    [(lefto y x l)]))

(defrel (zebrao houses)
  (fresh (h1 h2 h3 h4 h5)
    (== houses `(,h1 ,h2 ,h3 ,h4 ,h5))
    (fresh (a b c d) (== h1 `(norwegian ,a ,b ,c ,d)))
    (fresh (a b c d) (== h3 `(,a ,b milk ,c ,d)))
    (fresh (a b c d) (membero `(english ,a ,b ,c red) houses))
    (fresh (a b c d) (membero `(spanish dog ,a ,b ,c) houses))
    (fresh (a b c) (membero `(,a ,b coffee ,c green) houses))
    (fresh (a b c) (membero `(ukrainian ,a tea ,b ,c) houses))
    (fresh (a b c d e f g h)
      (lefto `(,a ,b ,c ,d ivory) `(,e ,f ,g ,h green) houses))
    (fresh (a b c) (membero `(,a snails ,b old-gold ,c) houses))
    (fresh (a b c) (membero `(,a ,b ,c kools yellow) houses))
    (fresh (a b c) (membero `(,a ,b orange-juice lucky-strike ,c) houses))
    (fresh (a b c) (membero `(japanese ,a ,b parliaments ,c) houses))
    (fresh (a b c d e f g h)
      (nexto `(,a ,b ,c chesterfields ,d) `(,e fox ,f ,g ,h) houses))
    (fresh (a b c d e f g h)
      (nexto `(,a ,b ,c kools ,d) `(,e horse ,f ,g ,h) houses))
    (fresh (a b c d e f g h)
      (nexto `(norwegian ,a ,b ,c ,d) `(,e ,f ,g ,h blue) houses))
    (fresh (a b c d) (membero `(,a zebra ,b ,c ,d) houses))
    (fresh (a b c d) (membero `(,a ,b water ,c ,d) houses))))

(define solution (car (run* (q) (zebrao q))))
(for-each (lambda (house) (printf "~s~%" house)) solution)
(printf "The ~a owns the zebra; the ~a drinks water.~%"
        (car (car (filter (lambda (h) (eq? (cadr h) 'zebra)) solution)))
        (car (car (filter (lambda (h) (eq? (caddr h) 'water)) solution))))
