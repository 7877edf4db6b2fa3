;;! gated: yes
;;! about: all 40320 permutations of 8 distinct elements; =/= constraints between every pair of output positions are posted before any position is chosen (without them the search would yield 8^8 = 16777216 tuples)

(defrel (elemento x l)
  (fresh (first rest)
    (== `(,first . ,rest) l)
    (conde
      ((== first x))
      ((elemento x rest)))))

;; x differs from every element of ys (ys is a list of fresh variables).
(defrel (differs-fromo x ys)
  (conde
    ((== '() ys))
    ((fresh (y more)
       (== `(,y . ,more) ys)
       (=/= x y)
       (differs-fromo x more)))))

(defrel (all-distincto xs)
  (conde
    ((== '() xs))
    ((fresh (x more)
       (== `(,x . ,more) xs)
       (differs-fromo x more)
       (all-distincto more)))))

;; every element of xs is taken from pool.
(defrel (all-fromo xs pool)
  (conde
    ((== '() xs))
    ((fresh (x more)
       (== `(,x . ,more) xs)
       (elemento x pool)
       (all-fromo more pool)))))

(defrel (permutationo pool p)
  (fresh (a b c d e f g h)
    (== `(,a ,b ,c ,d ,e ,f ,g ,h) p)
    (all-distincto p)
    (all-fromo p pool)))

(bench-report "perm8-diseq"
  (run* (p) (permutationo '(a b c d e f g h) p)))
