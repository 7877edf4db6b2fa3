;; relations/kanren.scm — kanren's relations (pythological/kanren b1ff6cf,
;; SPEC §5) with kanren's answers and answer order, on Scheme lists as
;; kanren's tuples.  Built from lall/lany/lconde, the engine's goals with
;; kanren's stream order (docs/kanren.md); `fresh` here only makes
;; variables around one goal, so its own interleaving never decides an
;; order.  Where kanren computes in Python (permuteo, applyo, reduceo's
;; direction, eq_assoc's groupings) the relation does the same in Scheme
;; under `project`.  Deviations (SPEC §5): Scheme equality (1, 1.0 and #t
;; are distinct) and atoms, strings and the empty list are leaves of walko.

;; ---- goals on pairs --------------------------------------------------------

(define (conso h t r) (== (cons h t) r))
(define (heado h l) (fresh (t) (== (cons h t) l)))
(define (tailo t l) (fresh (h) (== (cons h t) l)))
(define (nullo . args)
  (if (null? args) succeed (lall (== (car args) '()) (apply nullo (cdr args)))))

;; ---- list relations (kanren/goals.py) --------------------------------------

(define (membero x l)
  (fresh (a d)
    (lall (== (cons a d) l)
          (lconde ((== a x)) ((membero x d))))))

(define (appendo l s out)
  (fresh (a d res)
    (lconde
     ((== s '()) (== l '()) (== out '()))
     ((== (cons a d) out) (== s out) (== l '()))
     ((== (cons a d) l) (== (cons a res) out) (appendo d s res)))))

(define (rembero x l o)
  (fresh (a d r)
    (lconde
     ((== l '()) (== o '()))
     ((== (cons a d) l) (== x a) (== d o))
     ((== (cons a d) l) (=/= a x) (== (cons a r) o) (rembero x d r)))))

;; itero: l is a proper list (kanren's enumeration: (), (_), (_ _), ...).
(define (itero l)
  (fresh (c d)
    (lconde ((== l '())) ((== (cons c d) l) (itero d)))))

;; ---- permuteo ----------------------------------------------------------------

;; The next index list after p in lexicographic order (itertools.permutations'
;; order), or #f after the last.  O(n).
(define (kanren-next-perm p)
  (let* ((v (list->vector p)) (n (vector-length v)))
    (let find ((i (- n 2)))
      (cond
       ((< i 0) #f)
       ((>= (vector-ref v i) (vector-ref v (+ i 1))) (find (- i 1)))
       (else
        (let pick ((j (- n 1)))
          (if (<= (vector-ref v j) (vector-ref v i))
              (pick (- j 1))
              (let ((t (vector-ref v i)))
                (vector-set! v i (vector-ref v j))
                (vector-set! v j t)
                (let rev ((a (+ i 1)) (b (- n 1)))
                  (when (< a b)
                    (let ((t (vector-ref v a)))
                      (vector-set! v a (vector-ref v b))
                      (vector-set! v b t))
                    (rev (+ a 1) (- b 1))))
                (vector->list v)))))))))

(define (kanren-iota n)
  (let loop ((i (- n 1)) (acc '()))
    (if (< i 0) acc (loop (- i 1) (cons i acc)))))

;; (== x perm) for each permutation of the list items in itertools order,
;; one answer after another, made as they are reached (never all n! at
;; once); skip: leave out the first (the identity), as no_ident does.
(define (kanren-perms-eq x items skip)
  (let ((v (list->vector items)))
    (define (term p) (map (lambda (i) (vector-ref v i)) p))
    (define (from p)
      (if (not p) fail
          (lany (== x (term p)) (from (kanren-next-perm p)))))
    (let ((p0 (kanren-iota (length items))))
      (if skip (from (kanren-next-perm p0)) (from p0)))))

;; Counter(a) - Counter(b) of Python, on equal?: a's elements in order of
;; first occurrence, each as often as a has it more than b.
(define (kanren-count x l)
  (let loop ((l l) (n 0)) (if (null? l) n (loop (cdr l) (if (equal? (car l) x) (+ n 1) n)))))
(define (kanren-msdiff a b)
  (let loop ((l a) (seen '()) (acc '()))
    (cond
     ((null? l) (reverse acc))
     ((member (car l) seen) (loop (cdr l) seen acc))
     (else
      (let ((k (- (kanren-count (car l) a) (kanren-count (car l) b))))
        (loop (cdr l) (cons (car l) seen)
              (let rep ((k k) (acc acc)) (if (<= k 0) acc (rep (- k 1) (cons (car l) acc))))))))))

(define (kanren-ground? t)
  (cond ((var? t) #f) ((pair? t) (and (kanren-ground? (car t)) (kanren-ground? (cdr t)))) (else #t)))

;; kanren's permuteo, case by case as goals.py does it (inner_eq is ==).
(define (kanren-permuteo a b no-ident)
  (project (a b)
    (let ((la (and (list? a) (length a))) (lb (and (list? b) (length b))))
      (cond
       ((and la lb (> la 0) (> lb 0) (not (= la lb))) fail)
       ((and la lb)
        (cond
         ((and no-ident (equal? a b)) fail)
         (else
          (let ((ra (kanren-msdiff a b)) (rb (kanren-msdiff b a)))
            (cond
             ((and (null? ra) (null? rb)) succeed)
             (else
              (let* ((reduced (< (length (kanren-msdiff-keys ra)) (length (kanren-msdiff-keys a))))
                     (a2 (if reduced ra a)) (b2 (if reduced rb b))
                     (skip (and no-ident (not reduced))))
                ;; ground with different counts: not a permutation
                (if (and (kanren-ground? a2) (kanren-ground? b2))
                    fail
                    (kanren-perms-eq b2 a2 skip)))))))))
       (la (kanren-perms-eq b a no-ident))
       (lb (kanren-perms-eq a b no-ident))
       (else
        (fresh ()
          (lall (itero a)
                (project (a) (kanren-perms-eq b a no-ident)))))))))

;; The distinct elements of l (Counter's keys).
(define (kanren-msdiff-keys l)
  (let loop ((l l) (acc '()))
    (cond ((null? l) acc) ((member (car l) acc) (loop (cdr l) acc)) (else (loop (cdr l) (cons (car l) acc))))))

(define (permuteo a b) (kanren-permuteo a b #f))

;; ---- terms (kanren/term.py) ----------------------------------------------------

;; (applyo rator rands obj): obj is (rator . rands).
(define (applyo rator rands obj)
  (project (rator rands obj)
    (cond
     ((not (var? obj))
      (if (pair? obj) (lall (== rator (car obj)) (== rands (cdr obj))) fail))
     ((or (var? rands) (var? rator)) (== (cons rator rands) obj))
     ((or (pair? rands) (null? rands)) (== obj (cons rator rands)))
     (else fail))))

;; ---- graph relations (kanren/graph.py) ---------------------------------------------

(define (mapo rel a b)
  (fresh (ac ad bc bd)
    (lconde
     ((== a '()) (== b '()))
     ((== (cons ac ad) a) (== (cons bc bd) b) (rel ac bc) (mapo rel ad bd)))))

;; map_anyo with kanren's flags: null-ok is any_succeed (or first and
;; null_res).
(define (kanren-map-anyo rel a b null-ok)
  (fresh (ac ad bc bd)
    (lconde
     ((if null-ok (lall (== a '()) (== b '())) fail))
     ((== (cons ac ad) a) (== (cons bc bd) b)
      (lconde
       ((rel ac bc) (kanren-map-anyo rel ad bd #t))
       ((== ac bc) (kanren-map-anyo rel ad bd null-ok)))))))

(define (map_anyo rel a b) (kanren-map-anyo rel a b #f))

;; walko: the goal at the node first, then the walk into its children.  The
;; empty list is a leaf (kanren's map_anyo null_res=True made it an
;; identity rewrite).
(define (walko goal a b)
  (lconde
   ((goal a b))
   ((kanren-map-anyo (lambda (x y) (walko goal x y)) a b #f))))

;; reduceo: one or more steps of rel; a known input runs the recursion
;; first, so the fixed point is the first answer.
(define (reduceo rel a b)
  (fresh (t)
    (project (a)
      (if (var? a)
          (lall (lconde ((== t b)) ((reduceo rel t b))) (rel a t))
          (lall (rel a t) (lconde ((reduceo rel t b)) ((== t b))))))))

;; non_obs_walko (symbolic-pymc): walk the arguments of an observed
;; variable's distribution, leaving the observation itself alone.
(define (non_obs_walko rel a b)
  (fresh (v op xs ys)
    (lall (== a (list 'observed v (cons op xs)))
          (== b (list 'observed v (cons op ys)))
          (walko rel xs ys))))
