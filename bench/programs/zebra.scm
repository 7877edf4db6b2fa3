;;! gated: yes
;;! about: the five-houses (zebra) puzzle, run* repeated 100 times: 1 answer
;; A house is (nationality colour pet drink smoke); the street is a list of
;; five houses, leftmost first.

(defrel (in-streeto h street)
  (fresh (first rest)
    (== `(,first . ,rest) street)
    (conde
      ((== first h))
      ((in-streeto h rest)))))

;; l is the house immediately to the left of r.
(defrel (left-ofo l r street)
  (fresh (first rest)
    (== `(,first . ,rest) street)
    (conde
      ((fresh (second more)
         (== `(,second . ,more) rest)
         (== first l)
         (== second r)))
      ((left-ofo l r rest)))))

(defrel (beside-o a b street)
  (conde
    ((left-ofo a b street))
    ((left-ofo b a street))))

(defrel (zebra-streeto street)
  (fresh (h1 h2 h3 h4 h5)
    (== `(,h1 ,h2 ,h3 ,h4 ,h5) street)
    (fresh (c p d s) (== `(norwegian ,c ,p ,d ,s) h1))
    (fresh (n c p s) (== `(,n ,c ,p milk ,s) h3))
    (fresh (p d s) (in-streeto `(englishman red ,p ,d ,s) street))
    (fresh (c d s) (in-streeto `(spaniard ,c dog ,d ,s) street))
    (fresh (n p s) (in-streeto `(,n green ,p coffee ,s) street))
    (fresh (c p s) (in-streeto `(ukrainian ,c ,p tea ,s) street))
    (fresh (n1 p1 d1 s1 n2 p2 d2 s2)
      (left-ofo `(,n1 ivory ,p1 ,d1 ,s1) `(,n2 green ,p2 ,d2 ,s2) street))
    (fresh (n c d) (in-streeto `(,n ,c snails ,d old-gold) street))
    (fresh (n p d) (in-streeto `(,n yellow ,p ,d kools) street))
    (fresh (n1 c1 p1 d1 n2 c2 d2 s2)
      (beside-o `(,n1 ,c1 ,p1 ,d1 chesterfield) `(,n2 ,c2 fox ,d2 ,s2) street))
    (fresh (n1 c1 p1 d1 n2 c2 d2 s2)
      (beside-o `(,n1 ,c1 ,p1 ,d1 kools) `(,n2 ,c2 horse ,d2 ,s2) street))
    (fresh (n c p) (in-streeto `(,n ,c ,p orange-juice lucky-strike) street))
    (fresh (c p d) (in-streeto `(japanese ,c ,p ,d parliament) street))
    (fresh (c1 p1 d1 s1 n2 p2 d2 s2)
      (beside-o `(norwegian ,c1 ,p1 ,d1 ,s1) `(,n2 blue ,p2 ,d2 ,s2) street))
    (fresh (n c p s) (in-streeto `(,n ,c ,p water ,s) street))
    (fresh (n c d s) (in-streeto `(,n ,c zebra ,d ,s) street))))

(bench-report "zebra"
  (bench-repeat 100 (lambda () (run* (q) (zebra-streeto q)))))
