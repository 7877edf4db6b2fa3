;; relations/stats.scm — the statistical relation library (SPEC §5):
;; conjugate posteriors, location-scale non-centring, normal scale mixtures
;; and algebraic canonicalisation, on model terms (SPEC §4) as relations
;; (a b) for (reduceo (lambda (a b) (walko REL a b)) O q), or non_obs_walko.
;; Load it with (load "relations/stats.scm") or name it as the rules file
;; `stats`.  Structure is matched with ==; numeric guards (a literal that is
;; numerically 0 or 1, a scalar, a name with a suffix) look at the terms
;; under project.  Helpers are named stats-* so that a user program's
;; names do not replace them.

;; ---- numeric and name guards -------------------------------------------------

;; Is t numerically x: a number = x, or a non-empty tensor literal all of
;; whose elements are = x?
(define (stats-num-is? t x)
  (cond
   ((number? t) (= t x))
   ((tensor? t) (let ((l (tensor->list t))) (and (pair? l) (for-all (lambda (e) (= e x)) l))))
   (else #f)))

;; symbolic-pymc's constant_neq: fails only when t is a literal that is
;; numerically x; a variable, a symbol or a compound term passes.
(define (stats-not-num-o t x)
  (project (t) (if (stats-num-is? t x) fail succeed)))

;; t is numerically 0; an unbound t becomes 0.0 (the backward direction).
(define (stats-zero-o t)
  (project (t)
    (cond ((var? t) (== t 0.0)) ((stats-num-is? t 0) succeed) (else fail))))

;; A literal with more than one element (a tensor, not a scalar)?
(define (stats-multi? t)
  (and (tensor? t) (not (= (length (tensor->list t)) 1))))

;; None of ts is a literal tensor of several elements: the parameters a
;; scalar-prior conjugate update takes as scalars.  (An input's shape is
;; not part of the term; a model that declares a vector input and uses it
;; as a scalar prior's parameter is outside what the relation can see.)
(define (stats-scalars-o ts)
  (project (ts) (if (exists stats-multi? ts) fail succeed)))

;; full is the string name followed by suffix, from either side: name
;; known gives full, full known and ending in suffix gives name; fails when
;; neither is a string.
(define (stats-suffixo name suffix full)
  (project (name full)
    (cond
     ((string? name) (== full (string-append name suffix)))
     ((string? full)
      (let ((n (string-length full)) (k (string-length suffix)))
        (if (and (>= n k) (string=? (substring full (- n k) n) suffix))
            (== name (substring full 0 (- n k)))
            fail)))
     (else fail))))

;; conjugate and scale_loc_transform start with (project (a) (if
;; (head-may-be? a HEADS) ... fail)): the primitive is true when a is a
;; variable or a pair whose head is unbound or in HEADS.  Most nodes a
;; walk visits are no redex and fail there, before any fresh variable or
;; pattern; the C driver reads that shape off the relation and answers
;; those nodes without a query (graph/pk_rewrite.c).

;; (== x t) for some t of ts, in order.
(define (stats-eq-any x ts)
  (if (null? ts) fail (lany (== x (car ts)) (stats-eq-any x (cdr ts)))))

;; ---- occurrence ----------------------------------------------------------------

;; How many times x occurs in t as a subterm: eq?, or equal? for a list;
;; over the elements of lists, counting each path through shared nodes
;; and not looking inside an occurrence, capped at 2 (once or more than
;; once is all the guards ask).  A primitive (graph/pk_rewrite.c): each
;; list of t is entered once.
(define (stats-count x t) (subterm-count x t))

(define (stats-occurs? x t) (> (stats-count x t) 0))

;; The other outputs of the model being rewritten, for `conjugate`: a
;; prior is conjugate to one observation only if it occurs in no other
;; output.  '() by default (a model with one output); a driver rewriting
;; output O of a model sets it to the model's outputs other than O, or
;; uses (stats-conjugate-given OTHERS) instead.
(define stats-other-outputs '())

;; Every other output known now: the C driver's (`pkanren rewrite`,
;; `verify`) and stats-other-outputs.
(define (stats-others) (append (rewrite-other-outputs) stats-other-outputs))

;; The prior occurs once in (observed y lik) — as the parameter the
;; pattern matched, not also in y, another parameter or the likelihood's
;; SIZE — and in none of others.
(define (stats-lonely-o prior y lik others)
  (project (prior y lik others)
    (if (and (= (stats-count prior (list y lik)) 1)
             (not (exists (lambda (o) (stats-occurs? prior o)) others)))
        succeed
        fail)))

;; ---- conjugate -------------------------------------------------------------------

;; y observed from lik, lik's parameter prior, and post the prior's
;; closed-form posterior (the prior's SIZE, RNG and NAME).  The count and
;; the sum of the observations are (size y) and (sum y); priors other than
;; the MvNormal one are scalar (SIZE ()), each observation an iid draw.
;; One relation per pair, in stats-conjugate-pairs under the likelihood's
;; head (each pair's likelihood has its own), so that conjugate can run
;; only the pair a known likelihood can match.

;; MvNormal prior, MvNormal linear observation (symbolic-pymc's form).
(define (stats-conj-mvnormal y lik prior post)
  (fresh (a R F V Q A size rng name lrng lname)
    (lall
     (== prior `(MvNormalRV ,a ,R ,size ,rng ,name))
     (== lik `(MvNormalRV (dot ,F ,prior) ,V () ,lrng ,lname))
     (== Q `(add ,V (dot ,F (dot ,R (transpose ,F)))))
     (== A `(dot (dot ,R (transpose ,F)) (matrix_inverse ,Q)))
     (== post `(MvNormalRV (add ,a (dot ,A (sub ,y (dot ,F ,a))))
                           (sub ,R (dot (dot ,A ,Q) (transpose ,A)))
                           ,size ,rng ,name)))))

;; Normal prior on the mean, known observation scale s.
(define (stats-conj-normal y lik prior post)
  (fresh (m0 s0 s rng name lsize lrng lname P)
    (lall
     (== prior `(NormalRV ,m0 ,s0 () ,rng ,name))
     (== lik `(NormalRV ,prior ,s ,lsize ,lrng ,lname))
     (stats-scalars-o (list m0 s0 s))
     (== P `(add (true_div 1.0 (sqr ,s0)) (true_div (size ,y) (sqr ,s))))
     (== post `(NormalRV (true_div (add (true_div ,m0 (sqr ,s0)) (true_div (sum ,y) (sqr ,s))) ,P)
                         (sqrt (true_div 1.0 ,P))
                         () ,rng ,name)))))

;; Gamma prior (shape, rate) on a Poisson rate.
(define (stats-conj-gamma-poisson y lik prior post)
  (fresh (al be rng name lsize lrng lname)
    (lall
     (== prior `(GammaRV ,al ,be () ,rng ,name))
     (== lik `(PoissonRV ,prior ,lsize ,lrng ,lname))
     (stats-scalars-o (list al be))
     (== post `(GammaRV (add ,al (sum ,y)) (add ,be (size ,y)) () ,rng ,name)))))

;; Beta prior on a Binomial success probability: n - y failures each.
(define (stats-conj-beta-binomial y lik prior post)
  (fresh (al be n rng name lsize lrng lname)
    (lall
     (== prior `(BetaRV ,al ,be () ,rng ,name))
     (== lik `(BinomialRV ,n ,prior ,lsize ,lrng ,lname))
     (stats-scalars-o (list al be))
     (== post `(BetaRV (add ,al (sum ,y)) (add ,be (sum (sub ,n ,y))) () ,rng ,name)))))

;; Beta prior on a Bernoulli probability.
(define (stats-conj-beta-bernoulli y lik prior post)
  (fresh (al be rng name lsize lrng lname)
    (lall
     (== prior `(BetaRV ,al ,be () ,rng ,name))
     (== lik `(BernoulliRV ,prior ,lsize ,lrng ,lname))
     (stats-scalars-o (list al be))
     (== post `(BetaRV (add ,al (sum ,y)) (add ,be (sub (size ,y) (sum ,y))) () ,rng ,name)))))

;; Beta prior on a NegBinomial success probability: y failures before
;; the n-th success, so n successes per observation.
(define (stats-conj-beta-negbinomial y lik prior post)
  (fresh (al be n rng name lsize lrng lname)
    (lall
     (== prior `(BetaRV ,al ,be () ,rng ,name))
     (== lik `(NegBinomialRV ,n ,prior ,lsize ,lrng ,lname))
     (stats-scalars-o (list al be))
     (== post `(BetaRV (add ,al (sum (mul ,n (ones_like ,y)))) (add ,be (sum ,y)) () ,rng ,name)))))

;; Dirichlet prior on Categorical probabilities: the count of each
;; category among the observations.
(define (stats-conj-dirichlet-categorical y lik prior post)
  (fresh (al rng name lsize lrng lname)
    (lall
     (== prior `(DirichletRV ,al () ,rng ,name))
     (== lik `(CategoricalRV ,prior ,lsize ,lrng ,lname))
     (== post `(DirichletRV (add ,al (bincount ,y (size ,al))) () ,rng ,name)))))

;; Dirichlet prior on Multinomial probabilities, one observed count
;; vector (the likelihood's SIZE is ()).
(define (stats-conj-dirichlet-multinomial y lik prior post)
  (fresh (al n rng name lrng lname)
    (lall
     (== prior `(DirichletRV ,al () ,rng ,name))
     (== lik `(MultinomialRV ,n ,prior () ,lrng ,lname))
     (== post `(DirichletRV (add ,al ,y) () ,rng ,name)))))

(define stats-conjugate-pairs
  (list (cons 'MvNormalRV stats-conj-mvnormal) (cons 'NormalRV stats-conj-normal)
        (cons 'PoissonRV stats-conj-gamma-poisson) (cons 'BinomialRV stats-conj-beta-binomial)
        (cons 'BernoulliRV stats-conj-beta-bernoulli) (cons 'NegBinomialRV stats-conj-beta-negbinomial)
        (cons 'CategoricalRV stats-conj-dirichlet-categorical)
        (cons 'MultinomialRV stats-conj-dirichlet-multinomial)))

;; Every pair, in the order above.
(define (stats-conjugate-pair y lik prior post)
  (lconde
   ((stats-conj-mvnormal y lik prior post))
   ((stats-conj-normal y lik prior post))
   ((stats-conj-gamma-poisson y lik prior post))
   ((stats-conj-beta-binomial y lik prior post))
   ((stats-conj-beta-bernoulli y lik prior post))
   ((stats-conj-beta-negbinomial y lik prior post))
   ((stats-conj-dirichlet-categorical y lik prior post))
   ((stats-conj-dirichlet-multinomial y lik prior post))))

;; The pairs a likelihood lik (as projected) can match: the one under its
;; head when that is a symbol (none when no pair has it), else all.
(define (stats-conjugate-pairs-for lik)
  (if (and (pair? lik) (symbol? (car lik)))
      (let ((p (assq (car lik) stats-conjugate-pairs)))
        (if p (cdr p) (lambda (y lik prior post) fail)))
      stats-conjugate-pair))

;; conjugate for a model whose other outputs are others.
(define (stats-conjugate-given others)
  (lambda (a b)
    (fresh (y lik prior)
      (lall (== a (list 'observed y lik))
            (stats-conjugate-pair y lik prior b)
            (stats-lonely-o prior y lik others)))))

;; An observation replaced by the posterior of its conjugate prior, the
;; prior occurring in no output but this one: the others are those the
;; C driver (`pkanren rewrite`, `verify`) is not rewriting now, and
;; stats-other-outputs (set by stats-rewrite-model).
(define (conjugate a b)
  (project (a)
    (if (head-may-be? a '(observed))
        (if (and (list? a) (= (length a) 3) (eq? (car a) 'observed))
            (stats-conjugate-known a b (stats-others))
            ((stats-conjugate-given (stats-others)) a b))
        fail)))

;; stats-conjugate-given at a = (observed y lik) (as projected): only the
;; pair lik's head selects can hold, so only it runs; the same answers in
;; the same order.
(define (stats-conjugate-known a b others)
  (let ((y (cadr a)) (lik (caddr a)))
    (fresh (prior)
      (lall ((stats-conjugate-pairs-for lik) y lik prior b)
            (stats-lonely-o prior y lik others)))))

;; ---- scale_loc_transform -------------------------------------------------------

(define stats-loc-scale-ops '(NormalRV CauchyRV LaplaceRV LogisticRV))
(define stats-loc-scale-heads (cons 'StudentTRV stats-loc-scale-ops))

;; X ~ D(mu, s) is mu + s * D(0, 1) named "X_offset" (StudentT keeps nu),
;; unless mu is numerically 0 or s numerically 1 (symbolic-pymc's guard,
;; which also leaves the offset itself alone).  Both directions.
(define (scale_loc_transform a b)
  (project (a)
    (if (and (head-may-be? a stats-loc-scale-heads) (not (stats-shared? a)))
        (if (and (ground? a) (list? a)) (stats-answer (stats-scale-loc-of a) b) (stats-scale-loc a b))
        fail)))

;; (== b r) when r is a term, fail when it is #f.
(define (stats-answer r b) (if r (== b r) fail))

;; stats-scale-loc's answer at a ground list a, or #f: at most one
;; clause matches a, and its goals are tests on a's elements and
;; the answer made of them.  The same answers as the relation (tested
;; against it in tests/e2e/stats_known.scm).
(define (stats-scale-loc-of a)
  (let ((op (car a)) (n (length a)))
    (cond
     ((and (= n 6) (memq op stats-loc-scale-ops)) (stats-scale-loc-make #f a (cdr a)))
     ((and (= n 7) (eq? op 'StudentTRV)) (stats-scale-loc-make (cadr a) a (cddr a)))
     (else #f))))

;; The answer for a with location, scale, size, rng and name args (nu #f
;; but for StudentT), or #f when the location is numerically 0, the scale
;; numerically 1 or the name no string.
(define (stats-scale-loc-make nu a args)
  (let ((mu (car args)) (s (cadr args)) (size (caddr args)) (rng (cadddr args)) (name (car (cddddr args))))
    (and (not (stats-num-is? mu 0)) (not (stats-num-is? s 1)) (string? name)
         (let ((oname (string-append name "_offset")))
           `(add ,mu (mul ,s ,(if nu `(StudentTRV ,nu 0.0 1.0 ,size ,rng ,oname) `(,(car a) 0.0 1.0 ,size ,rng ,oname))))))))

;; Does the known variable a occur in another output of the model?  Then
;; replacing it here by a new variable would make the two outputs
;; independent where they shared a: a re-parameterisation must leave it
;; (verify's cross-variable checks catch exactly that).
(define (stats-shared? a)
  (and (pair? a) (stats-in-others? a)))

;; Does x occur in an output of (stats-others)?  The C driver's are asked
;; of it (a set of their nodes, made once per output rewritten).
(define (stats-in-others? x)
  (or (rewrite-other-outputs-hold? x)
      (and (pair? stats-other-outputs) (exists (lambda (o) (stats-occurs? x o)) stats-other-outputs))))

(define (stats-scale-loc a b)
  (fresh (op nu mu s size rng name oname)
    (lall
     (lconde
      ((== a (list op mu s size rng name))
       (== b `(add ,mu (mul ,s (,op 0.0 1.0 ,size ,rng ,oname))))
       (stats-eq-any op stats-loc-scale-ops))
      ((== a `(StudentTRV ,nu ,mu ,s ,size ,rng ,name))
       (== b `(add ,mu (mul ,s (StudentTRV ,nu 0.0 1.0 ,size ,rng ,oname))))))
     (stats-not-num-o mu 0)
     (stats-not-num-o s 1)
     (stats-suffixo name "_offset" oname))))

;; ---- normal scale mixtures -----------------------------------------------------

;; x, its normal scale mixture form normal, and the mixing variable mix
;; (named "X_mix" for x named "X", x's SIZE and RNG).
(define (stats-mixture x normal mix)
  (fresh (nu mu s size rng name mname)
    (lall
     (lconde
      ((== x `(StudentTRV ,nu ,mu ,s ,size ,rng ,name))
       (== mix `(GammaRV (true_div ,nu 2.0) (true_div ,nu 2.0) ,size ,rng ,mname))
       (== normal `(NormalRV ,mu (true_div ,s (sqrt ,mix)) ,size ,rng ,name)))
      ((== x `(CauchyRV ,mu ,s ,size ,rng ,name))
       (== mix `(GammaRV (true_div 1.0 2.0) (true_div 1.0 2.0) ,size ,rng ,mname))
       (== normal `(NormalRV ,mu (true_div ,s (sqrt ,mix)) ,size ,rng ,name)))
      ((== x `(LaplaceRV ,mu ,s ,size ,rng ,name))
       (== mix `(ExponentialRV (true_div 1.0 (mul 2.0 (sqr ,s))) ,size ,rng ,mname))
       (== normal `(NormalRV ,mu (sqrt ,mix) ,size ,rng ,name)))
      ((== x `(HalfCauchyRV ,mu ,s ,size ,rng ,name))
       (== mix `(InvGammaRV 0.5 (mul 0.5 (sqr ,s)) ,size ,rng ,mname))
       (== normal `(HalfNormalRV 0.0 (sqrt ,mix) ,size ,rng ,name))
       (stats-zero-o mu)))
     (stats-suffixo name "_mix" mname))))

;; A distribution and its normal scale mixture form, both directions.
(define (scale_mixture a b)
  (project (a)
    (if (stats-shared? a) fail (fresh (w) (stats-mixture a b w)))))

;; A distribution and its mixing distribution, both directions.
(define (normal_scale_mixtureo x mixing) (fresh (n) (stats-mixture x n mixing)))

;; ---- canonicalize ----------------------------------------------------------------

;; (op arg ...) with op one of ops and a proper argument list?
(define (stats-app? t op n)
  (and (pair? t) (eq? (car t) op) (list? t) (= (length (cdr t)) n)))

(define (stats-literal? t) (or (number? t) (tensor? t)))

;; A finite float or an integer of at most 2^53 in magnitude, or #f; r the
;; value computed in floating point, exact the exact one when both
;; operands were integers.
(define (stats-safe-num r exact-thunk)
  (cond
   ((not (and (number? r) (finite? r))) #f)
   ((and exact-thunk (< (abs r) 9007199254740992.0)) (exact-thunk))
   (exact-thunk #f)
   (else r)))

;; The value of op on numbers xs, or #f when it is undefined, not finite
;; or would overflow an integer.
(define (stats-fold-nums op xs)
  (let ((ints (for-all exact? xs)) (fs (map inexact xs)))
    (define (num r e) (stats-safe-num r (and ints e)))
    (case op
      ((add) (num (apply + fs) (lambda () (apply + xs))))
      ((mul) (num (apply * fs) (lambda () (apply * xs))))
      ((sub) (num (- (car fs) (cadr fs)) (lambda () (- (car xs) (cadr xs)))))
      ((neg) (num (- (car fs)) (lambda () (- (car xs)))))
      ((sqr) (num (* (car fs) (car fs)) (lambda () (* (car xs) (car xs)))))
      ((true_div) (and (not (zero? (cadr fs))) (num (/ (car fs) (cadr fs)) #f)))
      ((reciprocal) (and (not (zero? (car fs))) (num (/ 1.0 (car fs)) #f)))
      ((sqrt) (and (>= (car fs) 0) (num (sqrt (car fs)) #f)))
      ((exp) (num (exp (car fs)) #f))
      ((log) (and (> (car fs) 0) (num (log (car fs)) #f)))
      ((pow)
       (and (or (> (car fs) 0) (and (integer? (cadr xs)) (exact? (cadr xs))))
            (not (and (zero? (car fs)) (< (cadr fs) 0)))
            (num (expt (car fs) (cadr fs))
                 (and (exact? (cadr xs)) (>= (cadr xs) 0) (lambda () (expt (car xs) (cadr xs)))))))
      (else #f))))

;; The value of op on literals xs (numbers, and tensors of one shape with
;; numbers broadcast over them), element by element, or #f.
(define (stats-fold op xs)
  (let ((ts (filter tensor? xs)))
    (if (null? ts)
        (stats-fold-nums op xs)
        (let ((shape (tensor-shape (car ts))))
          (and (for-all (lambda (t) (equal? (tensor-shape t) shape)) ts)
               (let* ((cols (map (lambda (x) (if (tensor? x) (tensor->list x) x)) xs))
                      (n (length (tensor->list (car ts)))))
                 (let loop ((i 0) (acc '()))
                   (if (= i n)
                       (list->tensor shape (reverse acc))
                       (let ((r (stats-fold-nums op (map (lambda (c) (if (pair? c) (list-ref c i) c)) cols))))
                         (and r (loop (+ i 1) (cons r acc))))))))))))

;; A literal like x (the same shape, integers or floats as x's elements)
;; all of whose elements are k.
(define (stats-fill x k)
  (define (like e) (if (exact? e) k (inexact k)))
  (if (tensor? x)
      (list->tensor (tensor-shape x) (map like (tensor->list x)))
      (like x)))

;; A tensor literal of non-negative integers (category indices)?
(define (stats-index-literal? x)
  (and (tensor? x) (for-all (lambda (e) (and (exact? e) (>= e 0))) (tensor->list x))))

;; The count of each category 0..k-1 among the indices of x, a (k)
;; tensor of integers; #f when an index is k or more.
(define (stats-bincount x k)
  (let ((counts (make-vector k 0)))
    (and (for-all (lambda (i) (and (< i k) (begin (vector-set! counts i (+ 1 (vector-ref counts i))) #t)))
                  (tensor->list x))
         (list->tensor (list k) (vector->list counts)))))

;; args with nested applications of op spliced in (one level: each step
;; flattens one layer, and the walk reaches the rest).
(define (stats-flatten op args)
  (apply append (map (lambda (x) (if (and (pair? x) (eq? (car x) op) (list? x)) (cdr x) (list x))) args)))

;; (op . args) when args has two or more elements, else the one element.
(define (stats-mk op args) (if (null? (cdr args)) (car args) (cons op args)))

;; One canonicalising step of add or mul (args of any length >= 2):
;; flatten, fold the literals into one (at the first literal's place),
;; drop a scalar unit (0 for add, 1 for mul), x*0 -> (zeros_like x),
;; x+x -> (mul 2 x).  #f when none applies.
(define (stats-canon-acm op args)
  (let ((lits (filter stats-literal? args)))
    (cond
     ((exists (lambda (x) (and (pair? x) (eq? (car x) op))) args) (stats-mk op (stats-flatten op args)))
     ((and (>= (length lits) 2) (stats-fold op lits))
      => (lambda (v)
           (let loop ((l args) (placed #f) (acc '()))
             (cond
              ((null? l) (stats-mk op (reverse acc)))
              ((stats-literal? (car l)) (loop (cdr l) #t (if placed acc (cons v acc))))
              (else (loop (cdr l) placed (cons (car l) acc)))))))
     ((and (eq? op 'mul) (exists (lambda (x) (and (number? x) (= x 0))) args))
      (let ((rest (filter (lambda (x) (not (and (number? x) (= x 0)))) args)))
        (if (null? rest) 0 (list 'zeros_like (stats-mk 'mul rest)))))
     ((exists (lambda (x) (and (number? x) (= x (if (eq? op 'add) 0 1)))) args)
      (let ((rest (filter (lambda (x) (not (and (number? x) (= x (if (eq? op 'add) 0 1))))) args)))
        (if (null? rest) (car args) (stats-mk op rest))))
     ((and (eq? op 'add) (= (length args) 2) (equal? (car args) (cadr args))) (list 'mul 2 (car args)))
     (else #f))))

(define stats-fold-ops '(sub neg sqr true_div reciprocal sqrt exp log pow))

;; One canonicalising step at the node t, or #f.  The laws of SPEC §5:
;; flattening, unit and zero laws, x+x, log(exp x), neg(neg x), dot over
;; add, folding of literal arithmetic (sum, size, zeros_like, ones_like
;; and bincount of literals included; never exp(log x)).
(define (stats-canon-step t)
  (and
   (pair? t) (symbol? (car t)) (list? t) (pair? (cdr t))
   (let ((op (car t)) (args (cdr t)))
     (cond
      ((and (memq op '(add mul)) (pair? (cdr args))) (stats-canon-acm op args))
      ((and (eq? op 'log) (null? (cdr args)) (stats-app? (car args) 'exp 1)) (cadr (car args)))
      ((and (eq? op 'neg) (null? (cdr args)) (stats-app? (car args) 'neg 1)) (cadr (car args)))
      ((and (eq? op 'dot) (= (length args) 2) (pair? (cadr args)) (eq? (car (cadr args)) 'add) (list? (cadr args)))
       (cons 'add (map (lambda (x) (list 'dot (car args) x)) (cdr (cadr args)))))
      ((and (memq op '(sum size)) (null? (cdr args)) (stats-literal? (car args)))
       (let ((xs (if (tensor? (car args)) (tensor->list (car args)) args)))
         (if (eq? op 'size) (length xs) (stats-fold-nums 'add (cons 0 xs)))))
      ((and (memq op '(zeros_like ones_like)) (null? (cdr args)) (stats-literal? (car args)))
       (stats-fill (car args) (if (eq? op 'zeros_like) 0 1)))
      ((and (eq? op 'bincount) (= (length args) 2) (stats-index-literal? (car args)) (integer? (cadr args))
            (exact? (cadr args)) (<= 1 (cadr args) 1000000))
       (stats-bincount (car args) (cadr args)))
      ((and (memq op stats-fold-ops) (for-all stats-literal? args)
            (= (length args) (if (memq op '(sub true_div pow)) 2 1)))
       (stats-fold op args))
      (else #f)))))

;; A term and its rewrite by one canonicalising step at its root; forward
;; only (infinitely many terms canonicalise to a given one).
(define (canonicalize a b)
  (project (a)
    (let ((r (and (not (var? a)) (stats-canon-step a))))
      (if r (== b r) fail))))

;; ---- whole models --------------------------------------------------------------

;; The model m with its outputs replaced by outs.
(define (stats-with-outputs m outs)
  (let loop ((l m))
    (if (null? (cdr l)) (list (cons 'output outs)) (cons (car l) (loop (cdr l))))))

;; The first answer of (reduceo (lambda (a b) (walker rel a b)) o q), the
;; normal form SPEC §5 defines for one output, or o itself when there is
;; none.
(define (stats-rewrite-term walker rel o)
  (let ((r (run 1 (q) (reduceo (lambda (a b) (walker rel a b)) o q))))
    (if (null? r) o (car r))))

;; The model m with each output rewritten by stats-rewrite-term, while
;; stats-other-outputs holds the model's other outputs (as read), so that
;; `conjugate` sees them; what a driver does for a model.
(define (stats-rewrite-model walker rel m)
  (let ((outs (model-outputs m)) (saved stats-other-outputs))
    (define (others i)
      (let loop ((l outs) (k 0))
        (cond ((null? l) '()) ((= k i) (loop (cdr l) (+ k 1))) (else (cons (car l) (loop (cdr l) (+ k 1)))))))
    (let loop ((l outs) (i 0) (acc '()))
      (if (null? l)
          (begin (set! stats-other-outputs saved) (stats-with-outputs m (reverse acc)))
          (begin
            (set! stats-other-outputs (others i))
            (loop (cdr l) (+ i 1) (cons (stats-rewrite-term walker rel (car l)) acc)))))))
