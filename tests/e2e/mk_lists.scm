;; membero, rembero, reverso, and friends.
(load "_appendo.scm")

(defrel (membero x l)
  (fresh (a d)
    (== `(,a . ,d) l)
    (conde
      [(== a x)]
      [(membero x d)])))

(defrel (rembero x l out)
  (conde
    [(== '() l) (== '() out)]
    [(fresh (a d res)
       (== `(,a . ,d) l)
       (conde
         [(== a x) (== d out)]
         [(=/= a x)
          (== `(,a . ,res) out)
          (rembero x d res)]))]))

(defrel (reverso l r)
  (conde
    [(== '() l) (== '() r)]
    [(fresh (a d rd)
       (== `(,a . ,d) l)
       (reverso d rd)
       (appendo rd `(,a) r))]))

(run* (q) (membero q '(a b c)))
(run* (q) (membero 'b '(a b c b)))
(run* (q) (membero 'z '(a b c)))
(run 3 (q) (membero 'x q))
(run* (q) (membero q '(1 2)) (membero q '(2 3)))
(run* (q) (rembero 'b '(a b c b d) q))
(run* (q) (rembero q '(1 2 3) '(1 3)))
(run* (q) (fresh (x) (rembero x '(a b) q)))
(run 4 (q) (rembero 'a q '(b)))
(run* (q) (reverso '(1 2 3 4) q))
(run 1 (q) (reverso q '(x y z)))
(run* (q) (reverso '() q))
(run 3 (x y) (reverso x y))
