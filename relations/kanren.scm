;; relations/kanren.scm — kanren's relations (pythological/kanren b1ff6cf,
;; SPEC §5) with kanren's answers and answer order, on Scheme lists as
;; kanren's tuples.  Built from lall/lany/lconde, the engine's goals with
;; kanren's stream order (docs/kanren.md); `fresh` here only makes
;; variables around one goal, so its own interleaving never decides an
;; order.  Where kanren computes in Python (permuteo, applyo, reduceo's
;; direction, eq_assoc's groupings) the relation does the same in Scheme
;; under `project`.  Deviations (SPEC §5): Scheme equality (1, 1.0 and #t
;; are distinct) and atoms, strings and the empty list are leaves of walko.
;; Relations reach each other through kanren-* names, so a program that
;; defines its own appendo, walko or applyo (as faster-miniKanren programs
;; do) replaces only that name, not a part of eq_comm or non_obs_walko.

;; ---- goals on pairs --------------------------------------------------------

(define (conso h t r) (== (cons h t) r))
(define (heado h l) (fresh (t) (== (cons h t) l)))
(define (tailo t l) (fresh (h) (== (cons h t) l)))
(define (kanren-nullo . args)
  (if (null? args) succeed (lall (== (car args) '()) (apply kanren-nullo (cdr args)))))
(define nullo kanren-nullo)

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

; kanren's itero: l is a proper list (enumerated as (), (_), (_ _), ...).
(define (kanren-itero l)
  (fresh (c d)
    (lconde ((== l '())) ((== (cons c d) l) (kanren-itero d)))))

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
          (lall (kanren-itero a)
                (project (a) (kanren-perms-eq b a no-ident)))))))))

;; The distinct elements of l (Counter's keys).
(define (kanren-msdiff-keys l)
  (let loop ((l l) (acc '()))
    (cond ((null? l) acc) ((member (car l) acc) (loop (cdr l) acc)) (else (loop (cdr l) (cons (car l) acc))))))

(define (permuteo a b) (kanren-permuteo a b #f))

;; ---- terms (kanren/term.py) ----------------------------------------------------

;; (applyo rator rands obj): obj is (rator . rands).
(define (kanren-applyo rator rands obj)
  (project (rator rands obj)
    (cond
     ((not (var? obj))
      (if (pair? obj) (lall (== rator (car obj)) (== rands (cdr obj))) fail))
     ((or (var? rands) (var? rator)) (== (cons rator rands) obj))
     ((or (pair? rands) (null? rands)) (== obj (cons rator rands)))
     (else fail))))
(define applyo kanren-applyo)

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
(define (kanren-walko goal a b)
  (lconde
   ((goal a b))
   ((kanren-map-anyo (lambda (x y) (kanren-walko goal x y)) a b #f))))
(define walko kanren-walko)

;; reduceo: one or more steps of rel; a known input runs the recursion
;; first, so the fixed point is the first answer.  With fast true, a known
;; input's first answer comes from the rewriting driver when rel is
;; (lambda (x y) (walko REL x y)) or non_obs_walko's (graph/pk_rewrite.c);
;; the answers after it are the relational ones.
(define (kanren-reduceo rel a b fast)
  (fresh (t)
    (project (a)
      (if (var? a)
          (lall (lconde ((== t b)) ((kanren-reduceo rel t b fast))) (rel a t))
          (let ((slow (lall (rel a t) (lconde ((kanren-reduceo rel t b fast)) ((== t b))))))
            (if fast (kanren-reduceo-first rel a b slow) slow))))))
(define (reduceo rel a b) (kanren-reduceo rel a b #t))

;; non_obs_walko (symbolic-pymc): walk the arguments of an observed
;; variable's distribution, leaving the observation itself alone.
(define (kanren-non-obs-walko rel a b)
  (fresh (v op xs ys)
    (lall (== a (list 'observed v (cons op xs)))
          (== b (list 'observed v (cons op ys)))
          (kanren-walko rel xs ys))))
(define non_obs_walko kanren-non-obs-walko)

;; ---- term walks and associative-commutative equality (kanren/graph.py,
;; kanren/assoccomm.py) ---------------------------------------------------------

;; Operators declared commutative and associative (kanren's fact tables);
;; add and mul are both by default.  Declaration order is the order an
;; unbound operator takes them in (kanren's is a Python set's).
(define kanren-commutative '(add mul))
(define kanren-associative '(add mul))
(define (kanren-op-names ops)
  (map (lambda (op) (if (and (pair? op) (eq? (car op) 'quote)) (cadr op) op)) ops))
(define (kanren-declare-commutative . ops)
  (set! kanren-commutative (append kanren-commutative (kanren-op-names ops))))
(define (kanren-declare-associative . ops)
  (set! kanren-associative (append kanren-associative (kanren-op-names ops))))
;; (declare-commutative op ...): operator names as written, g or 'g.
(define-syntax declare-commutative
  (syntax-rules () ((_ op ...) (kanren-declare-commutative 'op ...))))
(define-syntax declare-associative
  (syntax-rules () ((_ op ...) (kanren-declare-associative 'op ...))))

;; (== x t) for each t of terms in turn (each has one answer, so a chain
;; of lany keeps the list's order).
(define (kanren-eq-any x terms)
  (if (null? terms) fail (lany (== x (car terms)) (kanren-eq-any x (cdr terms)))))

;; kanren's Relation goal over one-column facts.
(define (kanren-fact-goal facts)
  (lambda (op) (project (op) (kanren-eq-any op facts))))
(define (kanren-commutativeo op) ((kanren-fact-goal kanren-commutative) op))
(define (kanren-associativeo op) ((kanren-fact-goal kanren-associative) op))
(define commutative kanren-commutativeo)
(define associative kanren-associativeo)

;; ground_order: (u v) is (s t) sorted, stably, ground first, then other
;; non-variables (partial lists, kanren's conses, after proper lists), then
;; variables.
(define (kanren-ground-order s t u v)
  (project (s t)
    (let ((key (lambda (x)
                 (cond ((var? x) 2) ((kanren-ground? x) -1)
                       ((and (pair? x) (not (list? x))) 1) (else 0)))))
      (if (< (key t) (key s)) (== (list u v) (list t s)) (== (list u v) (list s t))))))

;; term_walko: rands-goal relates the arguments of two applications of an
;; operator rator-goal accepts, at any depth; format-step (or #f) maps each
;; term before it is walked.
(define (kanren-term-walko rator-goal rands-goal a b . opts)
  (let ((no-ident (and (pair? opts) (car opts)))
        (format-step (and (pair? opts) (pair? (cdr opts)) (cadr opts))))
    (define (single-step s t)
      (fresh (u v ur urs vrs a1 d1 a2 d2)
        (lall (kanren-ground-order s t u v)
              (kanren-applyo ur urs u)
              (kanren-applyo ur vrs v)
              (rator-goal ur)
              (== urs (cons a1 d1))
              (== vrs (cons a2 d2))
              (rands-goal urs vrs ur))))
    (define (step s t)
      (fresh (u v z w)
        (lall (kanren-ground-order s t u v)
              (if format-step (format-step u w) (== u w))
              (lconde
               ((single-step w v))
               ((kanren-map-anyo step w z #f)
                (lconde ((== z v)) ((single-step z v))))))))
    (if no-ident (step a b) (lconde ((step a b)) ((== a b))))))
(define term_walko kanren-term-walko)

;; flatten_assoc_args: arguments that are applications of op are replaced
;; by their arguments, recursively.
(define (kanren-flatten op items)
  (let loop ((l items) (acc '()))
    (cond
     ((null? l) (reverse acc))
     ((and (pair? (car l)) (equal? (caar l) op) (pair? (cdar l)))
      (loop (cdr l) (append (reverse (kanren-flatten op (cdar l))) acc)))
     (else (loop (cdr l) (cons (car l) acc))))))

;; assoc_args: l with each window of n consecutive elements grouped under
;; op, left to right (l itself when n is its length).
(define (kanren-take l n) (if (= n 0) '() (cons (car l) (kanren-take (cdr l) (- n 1)))))
(define (kanren-assoc-args op l n)
  (let ((len (length l)))
    (if (= n len)
        (list l)
        (let loop ((i 0) (acc '()))
          (if (> (+ i n) len)
              (reverse acc)
              (loop (+ i 1)
                    (cons (append (kanren-take l i)
                                  (list (cons op (kanren-take (list-tail l i) n)))
                                  (list-tail l (+ i n)))
                          acc)))))))

(define (kanren-range a b) (if (>= a b) '() (cons a (kanren-range (+ a 1) b))))

;; eq_assoc_args: the argument lists a and b of op are equal under
;; associativity (no-ident: and not unifiable as they are).
(define (kanren-eq-assoc-args op a b no-ident)
  (fresh (u0 v0)
    (lall (kanren-ground-order a b u0 v0)
          (kanren-itero u0)
          (project (op u0 v0)
            (let ((u (if (list? v0) v0 u0)) (v (if (list? v0) u0 v0)))
              (cond
               ((and (list? u) (list? v))
                (if (and no-ident (kanren-unifiable? u v))
                    fail
                    (let ((uf (kanren-flatten op u)) (vf (kanren-flatten op v)))
                      (if (= (length uf) (length vf))
                          (== uf vf)
                          (let* ((small (if (< (length uf) (length vf)) uf vf))
                                 (large (if (< (length uf) (length vf)) vf uf)))
                            (kanren-eq-any small (kanren-assoc-args op large (+ (- (length large) (length small)) 1))))))))
               ((list? u)
                (if (= (length u) 1)
                    (if no-ident fail (== u v))
                    (let ((uf (kanren-flatten op u)))
                      (kanren-eq-any
                       v
                       (filter (lambda (t) (not (and no-ident (equal? t u))))
                               (apply append
                                      (map (lambda (n) (kanren-assoc-args op uf n))
                                           (kanren-range 2 (+ (length uf) (if no-ident 0 1))))))))))
               (else fail)))))))

;; Could u and v unify (without binding anything)?
(define (kanren-unifiable? u v)
  (pair? (run 1 (q) (== u v))))

(define (eq_comm a b)
  (kanren-term-walko kanren-commutativeo (lambda (x y op) (kanren-permuteo x y #t)) a b))

(define (eq_assoc a b)
  (kanren-term-walko kanren-associativeo (lambda (x y op) (kanren-eq-assoc-args op x y #t)) a b))

;; assoc_flatten: an application of an associative operator with its
;; nested applications of the same operator flattened.
(define (kanren-assoc-flatten a flat)
  (project (a)
    (if (and (pair? a) (list? a) (member (car a) kanren-associative))
        (== flat (cons (car a) (kanren-flatten (car a) (cdr a))))
        (== flat a))))

(define (eq_assoccomm a b)
  (kanren-term-walko (lambda (op) succeed)
              (lambda (x y op)
                (fresh (z)
                  (lall (lconde ((kanren-commutativeo op) (kanren-permuteo x z #t))
                                ((== x z)))
                        (lconde ((kanren-associativeo op) (kanren-eq-assoc-args op z y #t))
                                ((== z y))))))
              a b #f kanren-assoc-flatten))
