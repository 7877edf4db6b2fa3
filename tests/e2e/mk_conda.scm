;; conda / condu / onceo with The Reasoned Schemer (2nd ed.) semantics:
;;   conda commits to the first clause whose question succeeds and keeps all
;;   of that question's answers; condu keeps only the question's first
;;   answer; onceo is condu with one clause.  (Not in faster-miniKanren:
;;   the expected answers are derived by hand from TRS2's ifte and once.)
(defrel (anyo g) (conde [g] [(anyo g)]))
(defrel (alwayso) (anyo succeed))
(defrel (membero x l)
  (fresh (a d)
    (== `(,a . ,d) l)
    (conde [(== a x)] [(membero x d)])))
(defrel (teacupo t) (conde [(== 'tea t)] [(== 'cup t)]))
(defrel (not-pastao x) (conda [(== 'pasta x) fail] [succeed]))

;; TRS2 chapter 10
(run* (x) (conda [(== 'olive x) succeed] [(== 'oil x)]))
(run* (x) (conda [(== 'virgin x) fail] [(== 'olive x) succeed] [(== 'oil x)]))
(run* (q) (fresh (x y) (== 'split x) (== 'pea y) (conda [(== 'split x) (== x y)] [succeed])))
(run* (q) (fresh (x y) (== 'split x) (== 'pea y) (conda [(== x y) (== 'split x)] [succeed])))
(run* (x) (conda [(not-pastao x) fail] [(== 'spaghetti x)]))
(run* (x) (== 'spaghetti x) (conda [(not-pastao x) fail] [(== 'spaghetti x)]))
(run* (q) (condu [(alwayso) succeed] [fail]))
(run 1 (q) (condu [(alwayso) succeed] [fail]) fail)
(run 3 (q) (conda [(alwayso) succeed] [fail]))
(run* (x) (onceo (teacupo x)))
(run* (r) (conda [(teacupo r) succeed] [(== #f r) succeed]))
(run* (r) (== #f r) (conda [(teacupo r) succeed] [(== #f r) succeed] [succeed]))
(run* (r) (== #f r) (condu [(teacupo r) succeed] [(== #f r) succeed] [succeed]))

;; conda keeps every answer of the committed question; condu only the first
(run* (q) (conda [(conde [(== q 1)] [(== q 2)])] [(== q 3)]))
(run* (q) (condu [(conde [(== q 1)] [(== q 2)])] [(== q 3)]))
(run* (q) (conda [fail] [(conde [(== q 'a)] [(== q 'b)])]))
(run* (q) (condu [fail] [(conde [(== q 'a)] [(== q 'b)])]))
;; committing: a later goal of the clause failing does not try other clauses
(run* (q) (conda [(== q 1) (== q 2)] [(== q 3)]))
(run* (q) (condu [(membero q '(1 2 3)) (== q 2)] [(== q 'other)]))
(run* (q) (conda [(membero q '(1 2 3)) (== q 2)] [(== q 'other)]))
;; the question on one variable, the rest of the clause on another
(run* (x y) (conda [(membero x '(1 2)) (== y 'yes)] [(== y 'no)]))
(run* (x y) (conda [(membero x '()) (== y 'yes)] [(== y 'no)]))
(run* (x y) (condu [(membero x '(1 2)) (conde [(== y 'p)] [(== y 'q)])] [(== y 'no)]))
;; constraints in the question
(run* (q) (conda [(=/= q 1)] [(== q 1)]))
(run* (q) (== q 1) (conda [(=/= q 1) (== 1 1)] [(== q 1) (== 'else 'else)]))
;; onceo
(run* (q) (onceo (anyo (== q 'z))))
(run* (q) (onceo fail))
(run* (q) (onceo (membero q '(c b a))))
(run* (x y) (onceo (membero x '(1 2))) (membero y '(a b)))
(run* (x y) (membero y '(a b)) (onceo (membero x `(1 ,y))))
;; a deterministic "not member" with conda
(defrel (not-membero x l) (conda [(membero x l) fail] [succeed]))
(run* (q) (membero q '(1 2 3 4)) (project (q) (not-membero q '(2 4))))
;; nested
(run* (q) (conda [(conda [fail] [(== q 'inner)])] [(== q 'outer)]))
(run* (q) (condu [(condu [(membero q '(x y))] [(== q 'no)])] [(== q 'outer)]))
;; a single clause behaves as a conjunction
(run* (q) (conda [(membero q '(1 2)) (=/= q 1)]))
(run* (q) (condu [succeed (membero q '(1 2))]))
