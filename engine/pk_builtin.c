/*
** pk_builtin.c — the Scheme core's primitive procedures.
**
** Behaviour follows Chez Scheme 9.5 (the reference of SPEC §2): argument
** checks and error texts ("who: what: irritant"), numeric contagion (an
** exact 0 is absorbing for * and neutral for + and -), the call order of
** map and filter, the comparison order of sort.  The numeric tower and its
** errors are pk_num.c's; the number primitives here check arity-dependent
** arguments and call it.
**
** Procedures are called through pke_apply, which copies argv into the
** callee's frame, so argument arrays here may live on the C stack or be
** reused; the n-ary list procedures gather their argument rows in the
** collected heap because list lengths are unbounded.
*/
#include "pk_builtin.h"
#include "pk_eval.h"
#include "pk_num.h"
#include "pk_print.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

FILE *pkb_out;
_Thread_local FILE *pkb_capture;
_Thread_local bool pkb_captured;

#define PKB_UNUSED __attribute__((unused))
/* Every primitive has the pk_primfn signature; many ignore argc or argv. */
#define PKB_PRIM(fname) static pk_val fname(PKB_UNUSED int argc, PKB_UNUSED pk_val *argv)

/* ==== errors and argument checks ========================================= */

FILE *pkb_output(void)
{
  if (pkb_capture) {
    pkb_captured = true;
    return pkb_capture;
  }
  return pkb_out ? pkb_out : stdout;
}

/* A written value for a message, cut to a readable length; malloc'd. */
static char *pkb_show(pk_val v)
{
  char *s = pkp_tostring(v, PKP_WRITE);
  if (strlen(s) > 300) strcpy(s + 297, "...");
  return s;
}

/* "who: what: v" — the common shape of a type error. */
static _Noreturn void pkb_bad(const char *who, const char *what, pk_val v)
{
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", who, what);
  pko_error_val(msg, v);
}

/* An error naming two values, e.g. an index and the list it missed. */
static _Noreturn void pkb_bad2(const char *who, const char *fmt, pk_val a, pk_val b)
{
  char *sa = pkb_show(a), *sb = pkb_show(b), msg[1024];
  snprintf(msg, sizeof msg, fmt, sa, sb);
  free(sa);
  free(sb);
  pko_error("%s: %s", who, msg);
}

/* Proper-list length or a "not a proper list" error. */
static long pkb_listlen(const char *who, pk_val v)
{
  long n = pko_length(v);
  if (n < 0) pkb_bad(who, "not a proper list", v);
  return n;
}

/* Type checks: each throws "who: not a T: v" or returns the unpacked v. */
static void pkb_check_pair(const char *who, pk_val v)
{
  if (!pko_pairp(v)) pkb_bad(who, "not a pair", v);
}

static void pkb_check_proc(const char *who, pk_val v)
{
  if (!pke_procedurep(v)) pkb_bad(who, "not a procedure", v);
}

static pko_string *pkb_check_str(const char *who, pk_val v)
{
  if (!pko_stringp(v)) pkb_bad(who, "not a string", v);
  return pko_as_str(v);
}

static uint32_t pkb_check_char(const char *who, pk_val v)
{
  if (!pko_charp(v)) pkb_bad(who, "not a character", v);
  return pko_charval(v);
}

static void pkb_check_sym(const char *who, pk_val v)
{
  if (!pko_symbolp(v)) pkb_bad(who, "not a symbol", v);
}

/* A non-negative exact index below limit, or the Chez-style error. */
static int64_t pkb_index(const char *who, pk_val i, int64_t limit, pk_val obj)
{
  if (!pko_intp(i) || pko_intval(i) < 0 || pko_intval(i) >= limit)
    pkb_bad2(who, "%s is not a valid index for %s", i, obj);
  return pko_intval(i);
}

/* Calls of user procedures with one or two arguments. */
static pk_val pkb_call1(pk_val f, pk_val x) { return pke_apply(f, 1, &x); }

static pk_val pkb_call2(pk_val f, pk_val x, pk_val y)
{
  pk_val a[2] = { x, y };
  return pke_apply(f, 2, a);
}

/* ==== numbers (the arithmetic itself is pk_num.c) ========================= */

/* Exact integer required (counts, radixes, char codes). */
static int64_t pkb_exact_int(const char *who, pk_val v)
{
  if (!pko_intp(v)) pkb_bad(who, "not an exact integer", v);
  return pko_intval(v);
}

/* + and *: fold from the identity. */
PKB_PRIM(pkb_plus)
{
  pk_val acc = pko_mkfix(0);
  for (int i = 0; i < argc; i++) acc = pkn_add(acc, argv[i]);
  return acc;
}

PKB_PRIM(pkb_times)
{
  pk_val acc = pko_mkfix(1);
  for (int i = 0; i < argc; i++) acc = pkn_mul(acc, argv[i]);
  return acc;
}

/* - and /: one argument negates or inverts, more fold from the first. */
PKB_PRIM(pkb_minus)
{
  if (argc == 1) return pkn_sub(pko_mkfix(0), argv[0]);
  pk_val acc = argv[0];
  for (int i = 1; i < argc; i++) acc = pkn_sub(acc, argv[i]);
  return acc;
}

PKB_PRIM(pkb_divide)
{
  if (argc == 1) return pkn_div(pko_mkfix(1), argv[0]);
  pk_val acc = argv[0];
  for (int i = 1; i < argc; i++) acc = pkn_div(acc, argv[i]);
  return acc;
}

/* add1/sub1 (Chez extensions, common in miniKanren code). */
PKB_PRIM(pkb_add1) { return pkn_add(argv[0], pko_mkfix(1)); }
PKB_PRIM(pkb_sub1) { return pkn_sub(argv[0], pko_mkfix(1)); }

PKB_PRIM(pkb_num_eq) { return pko_mkbool(pkn_compare("=", PKN_EQ, argc, argv)); }
PKB_PRIM(pkb_num_lt) { return pko_mkbool(pkn_compare("<", PKN_LT, argc, argv)); }
PKB_PRIM(pkb_num_gt) { return pko_mkbool(pkn_compare(">", PKN_GT, argc, argv)); }
PKB_PRIM(pkb_num_le) { return pko_mkbool(pkn_compare("<=", PKN_LE, argc, argv)); }
PKB_PRIM(pkb_num_ge) { return pko_mkbool(pkn_compare(">=", PKN_GE, argc, argv)); }
PKB_PRIM(pkb_max) { return pkn_extremum("max", true, argc, argv); }
PKB_PRIM(pkb_min) { return pkn_extremum("min", false, argc, argv); }
PKB_PRIM(pkb_abs) { return pkn_abs(argv[0]); }
PKB_PRIM(pkb_quotient) { return pkn_intdiv("quotient", PKN_QUO, argv[0], argv[1]); }
PKB_PRIM(pkb_remainder) { return pkn_intdiv("remainder", PKN_REM, argv[0], argv[1]); }
PKB_PRIM(pkb_modulo) { return pkn_intdiv("modulo", PKN_MOD, argv[0], argv[1]); }
PKB_PRIM(pkb_gcd) { return pkn_gcd(argc, argv); }
PKB_PRIM(pkb_lcm) { return pkn_lcm(argc, argv); }

/* Sign and parity tests (a ratio's sign is its numerator's). */
PKB_PRIM(pkb_zerop)
{
  pkn_num n = pkn_of("zero?", argv[0]);
  return pko_mkbool(n.flo ? n.d == 0.0 : n.i == 0);
}

PKB_PRIM(pkb_positivep)
{
  pkn_num n = pkn_of("positive?", argv[0]);
  return pko_mkbool(n.flo ? n.d > 0.0 : n.i > 0);
}

PKB_PRIM(pkb_negativep)
{
  pkn_num n = pkn_of("negative?", argv[0]);
  return pko_mkbool(n.flo ? n.d < 0.0 : n.i < 0);
}

PKB_PRIM(pkb_evenp) { return pko_mkbool(!pkn_odd("even?", argv[0])); }
PKB_PRIM(pkb_oddp) { return pko_mkbool(pkn_odd("odd?", argv[0])); }

/* Type and exactness predicates: our reals are int64, ratios of int64 and
   flonums. */
PKB_PRIM(pkb_numberp) { return pko_mkbool(pko_numberp(argv[0])); }
PKB_PRIM(pkb_integerp) { return pko_mkbool(pkn_integerp(argv[0])); }
PKB_PRIM(pkb_rationalp) { return pko_mkbool(pkn_rationalp(argv[0])); }
PKB_PRIM(pkb_exactp) { return pko_mkbool(!pkn_of("exact?", argv[0]).flo); }
PKB_PRIM(pkb_inexactp) { return pko_mkbool(pkn_of("inexact?", argv[0]).flo); }

PKB_PRIM(pkb_nanp)
{
  pkn_num n = pkn_of("nan?", argv[0]);
  return pko_mkbool(n.flo && isnan(n.d));
}

PKB_PRIM(pkb_finitep)
{
  pkn_num n = pkn_of("finite?", argv[0]);
  return pko_mkbool(!n.flo || isfinite(n.d));
}

PKB_PRIM(pkb_infinitep)
{
  pkn_num n = pkn_of("infinite?", argv[0]);
  return pko_mkbool(n.flo && isinf(n.d));
}

PKB_PRIM(pkb_exact_to_inexact) { return pkn_to_inexact("exact->inexact", argv[0]); }
PKB_PRIM(pkb_inexact) { return pkn_to_inexact("inexact", argv[0]); }
PKB_PRIM(pkb_inexact_to_exact) { return pkn_to_exact("inexact->exact", argv[0]); }
PKB_PRIM(pkb_exact) { return pkn_to_exact("exact", argv[0]); }
PKB_PRIM(pkb_numerator) { return pkn_parts("numerator", true, argv[0]); }
PKB_PRIM(pkb_denominator) { return pkn_parts("denominator", false, argv[0]); }
PKB_PRIM(pkb_floor) { return pkn_round("floor", PKN_FLOOR, argv[0]); }
PKB_PRIM(pkb_ceiling) { return pkn_round("ceiling", PKN_CEILING, argv[0]); }
PKB_PRIM(pkb_round) { return pkn_round("round", PKN_ROUND, argv[0]); }
PKB_PRIM(pkb_truncate) { return pkn_round("truncate", PKN_TRUNCATE, argv[0]); }
PKB_PRIM(pkb_sqrt) { return pkn_sqrt(argv[0]); }
PKB_PRIM(pkb_expt) { return pkn_expt(argv[0], argv[1]); }
PKB_PRIM(pkb_exp) { return pkn_exp(argv[0]); }

/* (log x [base]) is (/ (log x) (log base)); x's errors come first. */
PKB_PRIM(pkb_log)
{
  pk_val l = pkn_log(argv[0]);
  if (argc == 1) return l;
  return pkn_div(l, pkn_log(argv[1]));
}

PKB_PRIM(pkb_sin) { return pkn_real_fn("sin", sin, argv[0], 0, 0, -INFINITY, INFINITY); }
PKB_PRIM(pkb_cos) { return pkn_real_fn("cos", cos, argv[0], 0, 1, -INFINITY, INFINITY); }
PKB_PRIM(pkb_tan) { return pkn_real_fn("tan", tan, argv[0], 0, 0, -INFINITY, INFINITY); }
PKB_PRIM(pkb_asin) { return pkn_real_fn("asin", asin, argv[0], 0, 0, -1.0, 1.0); }
PKB_PRIM(pkb_acos) { return pkn_real_fn("acos", acos, argv[0], 1, 0, -1.0, 1.0); }

PKB_PRIM(pkb_atan)
{
  if (argc == 1) return pkn_real_fn("atan", atan, argv[0], 0, 0, -INFINITY, INFINITY);
  return pkn_atan2(argv[0], argv[1]);
}

/* The optional radix argument of number->string and string->number. */
static int pkb_radix(const char *who, int argc, pk_val *argv)
{
  if (argc < 2) return 10;
  if (!pko_intp(argv[1]) || pko_intval(argv[1]) < 2 || pko_intval(argv[1]) > 36)
    pkb_bad(who, "not a valid radix", argv[1]);
  return (int)pko_intval(argv[1]);
}

/* Flonums print as Chez prints them (the printer's pkp_flonum). */
PKB_PRIM(pkb_number_to_string)
{
  pkn_num n = pkn_of("number->string", argv[0]);
  int radix = pkb_radix("number->string", argc, argv);
  char buf[160];
  if (n.flo) {
    if (radix != 10) pkb_bad("number->string", "flonums are written in radix 10 only, not", argv[1]);
    pkp_flonum(buf, n.d);
  } else {
    pkn_exact_text(buf, n, radix);
  }
  return pko_mkcstr(buf);
}

/* (string->number s [radix]): #f for what is not number syntax (Chez:
   "1/0" too); values we cannot represent are runtime errors. */
PKB_PRIM(pkb_string_to_number)
{
  const char *who = "string->number";
  pko_string *s = pkb_check_str(who, argv[0]);
  pk_val v;
  switch (pkn_parse(s->s, s->len, pkb_radix(who, argc, argv), &v)) {
  case PKN_PARSE_OK: return v;
  case PKN_PARSE_BIG: pkb_bad(who, "integer too large (no bignums)", argv[0]);
  case PKN_PARSE_NOEXACT: pkb_bad(who, "no exact representation for", argv[0]);
  default: return PK_FALSE;
  }
}

/* ==== lists =============================================================== */

/* cons, car, cdr. */
PKB_PRIM(pkb_cons) { return pko_cons(argv[0], argv[1]); }

PKB_PRIM(pkb_car)
{
  pkb_check_pair("car", argv[0]);
  return pko_car(argv[0]);
}

PKB_PRIM(pkb_cdr)
{
  pkb_check_pair("cdr", argv[0]);
  return pko_cdr(argv[0]);
}

/* c[ad]{2,4}r: the letters between c and r, applied right to left. */
static pk_val pkb_cxr(const char *name, pk_val v)
{
  pk_val x = v;
  for (size_t i = strlen(name) - 2; i >= 1; i--) {
    if (!pko_pairp(x)) pkb_bad(name, "incorrect list structure", v);
    x = name[i] == 'a' ? pko_car(x) : pko_cdr(x);
  }
  return x;
}

// clang-format off
#define PKB_CXR(n) \
  PKB_PRIM(pkb_##n) { return pkb_cxr(#n, argv[0]); }
PKB_CXR(caar)
PKB_CXR(cadr)
PKB_CXR(cdar)
PKB_CXR(cddr)
PKB_CXR(caaar)
PKB_CXR(caadr)
PKB_CXR(cadar)
PKB_CXR(caddr)
PKB_CXR(cdaar)
PKB_CXR(cdadr)
PKB_CXR(cddar)
PKB_CXR(cdddr)
PKB_CXR(caaaar)
PKB_CXR(caaadr)
PKB_CXR(caadar)
PKB_CXR(caaddr)
PKB_CXR(cadaar)
PKB_CXR(cadadr)
PKB_CXR(caddar)
PKB_CXR(cadddr)
PKB_CXR(cdaaar)
PKB_CXR(cdaadr)
PKB_CXR(cdadar)
PKB_CXR(cdaddr)
PKB_CXR(cddaar)
PKB_CXR(cddadr)
PKB_CXR(cdddar)
PKB_CXR(cddddr)
// clang-format on

/* A list of n values, built back to front. */
static pk_val pkb_list_of(long n, const pk_val *items, pk_val tail)
{
  while (n-- > 0) tail = pko_cons(items[n], tail);
  return tail;
}

/* list and cons* (alias list*): the last argument of cons* is the tail. */
PKB_PRIM(pkb_list) { return pkb_list_of(argc, argv, PK_NIL); }
PKB_PRIM(pkb_cons_star) { return pkb_list_of(argc - 1, argv, argv[argc - 1]); }

/* length, reverse and list-copy require proper lists. */
PKB_PRIM(pkb_length) { return pko_mkint(pkb_listlen("length", argv[0])); }

/* A fresh copy of a proper list's spine, ending in tail. */
static pk_val pkb_copy_onto(pk_val list, pk_val tail)
{
  if (list == PK_NIL) return tail;
  pk_val rev = pko_reverse(list), r = tail;
  for (; pko_pairp(rev); rev = pko_cdr(rev)) r = pko_cons(pko_car(rev), r);
  return r;
}

/* append: every argument but the last is copied; the last is shared. */
PKB_PRIM(pkb_append)
{
  if (argc == 0) return PK_NIL;
  pk_val r = argv[argc - 1];
  for (int i = argc - 2; i >= 0; i--) {
    pkb_listlen("append", argv[i]);
    r = pkb_copy_onto(argv[i], r);
  }
  return r;
}

PKB_PRIM(pkb_reverse)
{
  pkb_listlen("reverse", argv[0]);
  return pko_reverse(argv[0]);
}

PKB_PRIM(pkb_list_copy)
{
  pkb_listlen("list-copy", argv[0]);
  return pkb_copy_onto(argv[0], PK_NIL);
}

/* Walk k cdrs; the error names the index and the list. */
static pk_val pkb_drop(const char *who, pk_val list, pk_val k)
{
  if (!pko_intp(k) || pko_intval(k) < 0) pkb_bad(who, "index is not an exact nonnegative integer", k);
  pk_val x = list;
  for (int64_t i = pko_intval(k); i > 0; i--) {
    if (!pko_pairp(x)) pkb_bad2(who, "index %s is out of range for list %s", k, list);
    x = pko_cdr(x);
  }
  return x;
}

/* list-tail may end on any tail; list-ref needs a pair there. */
PKB_PRIM(pkb_list_tail) { return pkb_drop("list-tail", argv[0], argv[1]); }

PKB_PRIM(pkb_list_ref)
{
  pk_val x = pkb_drop("list-ref", argv[0], argv[1]);
  if (!pko_pairp(x)) pkb_bad2("list-ref", "index %s is out of range for list %s", argv[1], argv[0]);
  return pko_car(x);
}

/* The last pair of a (possibly improper) list. */
PKB_PRIM(pkb_last_pair)
{
  pk_val x = argv[0];
  pkb_check_pair("last-pair", x);
  while (pko_pairp(pko_cdr(x))) x = pko_cdr(x);
  return x;
}

/* memq/memv/member: the tail whose car matches, under an equivalence;
   member also takes a custom predicate (R7RS), called (pred x elem). */
enum { PKB_BY_EQ, PKB_BY_EQV, PKB_BY_EQUAL, PKB_BY_PROC };

static bool pkb_same(int how, pk_val proc, pk_val x, pk_val y)
{
  switch (how) {
  case PKB_BY_EQ: return x == y;
  case PKB_BY_EQV: return pko_eqv(x, y);
  case PKB_BY_EQUAL: return pko_equal(x, y);
  default: return pko_truthy(pkb_call2(proc, x, y));
  }
}

static pk_val pkb_mem(const char *who, int how, pk_val proc, pk_val x, pk_val list)
{
  pk_val l = list;
  for (; pko_pairp(l); l = pko_cdr(l)) {
    pko_poll();
    if (pkb_same(how, proc, x, pko_car(l))) return l;
  }
  if (l != PK_NIL) pkb_bad(who, "improper list", list);
  return PK_FALSE;
}

PKB_PRIM(pkb_memq) { return pkb_mem("memq", PKB_BY_EQ, 0, argv[0], argv[1]); }
PKB_PRIM(pkb_memv) { return pkb_mem("memv", PKB_BY_EQV, 0, argv[0], argv[1]); }

PKB_PRIM(pkb_member)
{
  if (argc == 3) {
    pkb_check_proc("member", argv[2]);
    return pkb_mem("member", PKB_BY_PROC, argv[2], argv[0], argv[1]);
  }
  return pkb_mem("member", PKB_BY_EQUAL, 0, argv[0], argv[1]);
}

/* assq/assv/assoc: the first pair whose car matches. */
static pk_val pkb_ass(const char *who, int how, pk_val proc, pk_val x, pk_val alist)
{
  pk_val l = alist;
  for (; pko_pairp(l); l = pko_cdr(l)) {
    pko_poll();
    pk_val e = pko_car(l);
    if (!pko_pairp(e)) break;
    if (pkb_same(how, proc, x, pko_car(e))) return e;
  }
  if (l != PK_NIL) pkb_bad(who, "improperly formed alist", alist);
  return PK_FALSE;
}

PKB_PRIM(pkb_assq) { return pkb_ass("assq", PKB_BY_EQ, 0, argv[0], argv[1]); }
PKB_PRIM(pkb_assv) { return pkb_ass("assv", PKB_BY_EQV, 0, argv[0], argv[1]); }

PKB_PRIM(pkb_assoc)
{
  if (argc == 3) {
    pkb_check_proc("assoc", argv[2]);
    return pkb_ass("assoc", PKB_BY_PROC, argv[2], argv[0], argv[1]);
  }
  return pkb_ass("assoc", PKB_BY_EQUAL, 0, argv[0], argv[1]);
}

/* remq/remv/remove: the list without the elements equal to x. */
static pk_val pkb_rem(const char *who, int how, pk_val x, pk_val list)
{
  pkb_listlen(who, list);
  pk_val keep = PK_NIL;
  for (pk_val l = list; pko_pairp(l); l = pko_cdr(l))
    if (!pkb_same(how, 0, x, pko_car(l))) keep = pko_cons(pko_car(l), keep);
  return pko_reverse(keep);
}

PKB_PRIM(pkb_remq) { return pkb_rem("remq", PKB_BY_EQ, argv[0], argv[1]); }
PKB_PRIM(pkb_remv) { return pkb_rem("remv", PKB_BY_EQV, argv[0], argv[1]); }
PKB_PRIM(pkb_remove) { return pkb_rem("remove", PKB_BY_EQUAL, argv[0], argv[1]); }

/* ==== higher-order list procedures ======================================== */

/* The argument rows of an n-ary list procedure: row i holds the i-th
   element of each of the nl lists, after `extra` leading slots the caller
   fills (an accumulator).  Every list is checked proper and of one length
   before anything is called, as Chez does. */
typedef struct pkb_rows {
  pk_val *cells;
  long n;
  int nl, width;
} pkb_rows;

static pkb_rows pkb_gather(const char *who, int nl, const pk_val *lists, int extra)
{
  pkb_rows r = { NULL, 0, nl, nl + extra };
  r.n = pkb_listlen(who, lists[0]);
  for (int k = 1; k < nl; k++)
    if (pkb_listlen(who, lists[k]) != r.n) pkb_bad2(who, "lists %s and %s differ in length", lists[0], lists[k]);
  r.cells = pko_alloc((size_t)(r.n > 0 ? r.n : 1) * (size_t)r.width * sizeof *r.cells);
  for (int k = 0; k < nl; k++) {
    pk_val l = lists[k];
    for (long i = 0; i < r.n; i++, l = pko_cdr(l)) r.cells[i * r.width + extra + k] = pko_car(l);
  }
  return r;
}

static pk_val *pkb_row(const pkb_rows *r, long i) { return r->cells + i * r->width; }

/* Chez's call order for map and filter over one or two lists: pairs of
   elements from the last pair to the first, each pair left to right
   (5 elements: 5 3 4 1 2); over three or more lists, last to first. */
static void pkb_chez_order(const pkb_rows *r, pk_val f, pk_val *out)
{
  if (r->nl >= 3) {
    for (long i = r->n - 1; i >= 0; i--) out[i] = pke_apply(f, r->nl, pkb_row(r, i));
    return;
  }
  for (long b = r->n > 0 ? (r->n - 1) & ~1L : -2; b >= 0; b -= 2) {
    out[b] = pke_apply(f, r->nl, pkb_row(r, b));
    if (b + 1 < r->n) out[b + 1] = pke_apply(f, r->nl, pkb_row(r, b + 1));
  }
}

/* (map f l ...) and (filter pred l), in Chez's call order. */
PKB_PRIM(pkb_map)
{
  pkb_check_proc("map", argv[0]);
  pkb_rows r = pkb_gather("map", argc - 1, argv + 1, 0);
  pk_val *out = pko_alloc((size_t)(r.n > 0 ? r.n : 1) * sizeof *out);
  pkb_chez_order(&r, argv[0], out);
  return pkb_list_of(r.n, out, PK_NIL);
}

PKB_PRIM(pkb_filter)
{
  pkb_check_proc("filter", argv[0]);
  pkb_rows r = pkb_gather("filter", 1, argv + 1, 0);
  pk_val *out = pko_alloc((size_t)(r.n > 0 ? r.n : 1) * sizeof *out);
  pkb_chez_order(&r, argv[0], out);
  pk_val l = PK_NIL;
  for (long i = r.n - 1; i >= 0; i--)
    if (pko_truthy(out[i])) l = pko_cons(pkb_row(&r, i)[0], l);
  return l;
}

/* for-each, andmap/for-all, ormap/exists: left to right; the last call's
   value is the result (Chez calls it in tail position). */
enum { PKB_ALL_CALLS, PKB_UNTIL_FALSE, PKB_UNTIL_TRUE };

static pk_val pkb_walk(const char *who, int mode, int argc, pk_val *argv)
{
  pkb_check_proc(who, argv[0]);
  pkb_rows r = pkb_gather(who, argc - 1, argv + 1, 0);
  pk_val v = mode == PKB_ALL_CALLS ? PK_VOID : pko_mkbool(mode == PKB_UNTIL_FALSE);
  for (long i = 0; i < r.n; i++) {
    v = pke_apply(argv[0], r.nl, pkb_row(&r, i));
    if (mode == PKB_UNTIL_FALSE && !pko_truthy(v)) break;
    if (mode == PKB_UNTIL_TRUE && pko_truthy(v)) break;
  }
  return v;
}

PKB_PRIM(pkb_for_each) { return pkb_walk("for-each", PKB_ALL_CALLS, argc, argv); }
PKB_PRIM(pkb_andmap) { return pkb_walk("andmap", PKB_UNTIL_FALSE, argc, argv); }
PKB_PRIM(pkb_for_all) { return pkb_walk("for-all", PKB_UNTIL_FALSE, argc, argv); }
PKB_PRIM(pkb_ormap) { return pkb_walk("ormap", PKB_UNTIL_TRUE, argc, argv); }
PKB_PRIM(pkb_exists) { return pkb_walk("exists", PKB_UNTIL_TRUE, argc, argv); }

/* (fold-left f acc l ...): (f acc x ...) from the left. */
PKB_PRIM(pkb_fold_left)
{
  pkb_check_proc("fold-left", argv[0]);
  pkb_rows r = pkb_gather("fold-left", argc - 2, argv + 2, 1);
  pk_val acc = argv[1];
  for (long i = 0; i < r.n; i++) {
    pkb_row(&r, i)[0] = acc;
    acc = pke_apply(argv[0], r.width, pkb_row(&r, i));
  }
  return acc;
}

/* (fold-right f acc l ...): (f x ... acc) from the right. */
PKB_PRIM(pkb_fold_right)
{
  pkb_check_proc("fold-right", argv[0]);
  int nl = argc - 2;
  pkb_rows r = pkb_gather("fold-right", nl, argv + 2, 1);
  pk_val acc = argv[1];
  for (long i = r.n - 1; i >= 0; i--) {
    pk_val *row = pkb_row(&r, i);
    memmove(row, row + 1, (size_t)nl * sizeof *row);
    row[nl] = acc;
    acc = pke_apply(argv[0], r.width, row);
  }
  return acc;
}

/* (find pred list): the first element satisfying pred, or #f. */
PKB_PRIM(pkb_find)
{
  pkb_check_proc("find", argv[0]);
  pkb_listlen("find", argv[1]);
  for (pk_val l = argv[1]; pko_pairp(l); l = pko_cdr(l))
    if (pko_truthy(pkb_call1(argv[0], pko_car(l)))) return pko_car(l);
  return PK_FALSE;
}

/* (apply f a ... list). */
PKB_PRIM(pkb_apply)
{
  pk_val f = argv[0], last = argv[argc - 1];
  if (!pke_procedurep(f)) pkb_bad("apply", "attempt to apply non-procedure", f);
  long n = pkb_listlen("apply", last), k = argc - 2;
  if (n + k > INT32_MAX) pkb_bad("apply", "too many arguments in", last);
  pk_val *a = pko_alloc((size_t)(n + k > 0 ? n + k : 1) * sizeof *a);
  memcpy(a, argv + 1, (size_t)k * sizeof *a);
  for (long i = k; pko_pairp(last); last = pko_cdr(last)) a[i++] = pko_car(last);
  return pke_apply(f, (int)(n + k), a);
}

/* ==== sort ================================================================ */

/* Chez 9.5's list merge sort exactly (dolsort/dolmerge): halves of n>>1,
   the right half sorted first, an element of the right half goes first
   only when (pred right left).  Stable, and the predicate sees the same
   calls in the same order as under Chez. */
static void pkb_msort(pk_val pred, pk_val *v, long n, pk_val *tmp)
{
  if (n < 2) return;
  if (n == 2) {
    if (pko_truthy(pkb_call2(pred, v[1], v[0]))) {
      pk_val t = v[0];
      v[0] = v[1];
      v[1] = t;
    }
    return;
  }
  long h = n >> 1;
  pkb_msort(pred, v + h, n - h, tmp);
  pkb_msort(pred, v, h, tmp);
  memcpy(tmp, v, (size_t)n * sizeof *v);
  long i = 0, j = h, k = 0;
  while (i < h && j < n) {
    if (pko_truthy(pkb_call2(pred, tmp[j], tmp[i])))
      v[k++] = tmp[j++];
    else
      v[k++] = tmp[i++];
  }
  while (i < h) v[k++] = tmp[i++];
  while (j < n) v[k++] = tmp[j++];
}

static pk_val pkb_sort_list(const char *who, pk_val pred, pk_val list)
{
  pkb_check_proc(who, pred);
  long n = pkb_listlen(who, list);
  if (n <= 1) return list;
  pk_val *v = pko_alloc((size_t)n * sizeof *v), *tmp = pko_alloc((size_t)n * sizeof *tmp);
  long i = 0;
  for (pk_val l = list; pko_pairp(l); l = pko_cdr(l)) v[i++] = pko_car(l);
  pkb_msort(pred, v, n, tmp);
  return pkb_list_of(n, v, PK_NIL);
}

PKB_PRIM(pkb_sort) { return pkb_sort_list("sort", argv[0], argv[1]); }
PKB_PRIM(pkb_list_sort) { return pkb_sort_list("list-sort", argv[0], argv[1]); }

/* ==== predicates and equality ============================================= */

/* Type predicates and the three equivalences. */
PKB_PRIM(pkb_nullp) { return pko_mkbool(argv[0] == PK_NIL); }
PKB_PRIM(pkb_pairp) { return pko_mkbool(pko_pairp(argv[0])); }
PKB_PRIM(pkb_listp) { return pko_mkbool(pko_length(argv[0]) >= 0); }
PKB_PRIM(pkb_symbolp) { return pko_mkbool(pko_symbolp(argv[0])); }
PKB_PRIM(pkb_stringp) { return pko_mkbool(pko_stringp(argv[0])); }
PKB_PRIM(pkb_booleanp) { return pko_mkbool(argv[0] == PK_TRUE || argv[0] == PK_FALSE); }
PKB_PRIM(pkb_procedurep) { return pko_mkbool(pke_procedurep(argv[0])); }
PKB_PRIM(pkb_vectorp) { return pko_mkbool(pko_isa(argv[0], PK_T_VECTOR)); }
PKB_PRIM(pkb_charp) { return pko_mkbool(pko_charp(argv[0])); }
PKB_PRIM(pkb_not) { return pko_mkbool(argv[0] == PK_FALSE); }
PKB_PRIM(pkb_eqp) { return pko_mkbool(argv[0] == argv[1]); }
/* (ground? t): t holds no logic variable in its pairs (bound or not: on a
   projected term, none unbound); one check, pairs carry it. */
PKB_PRIM(pkb_groundp) { return pko_mkbool(pko_groundp(argv[0])); }
PKB_PRIM(pkb_eqvp) { return pko_mkbool(pko_eqv(argv[0], argv[1])); }
PKB_PRIM(pkb_equalp) { return pko_mkbool(pko_equal(argv[0], argv[1])); }

/* (boolean=? b1 b2 ...): every argument must be a boolean. */
PKB_PRIM(pkb_boolean_eq)
{
  for (int i = 0; i < argc; i++)
    if (argv[i] != PK_TRUE && argv[i] != PK_FALSE) pkb_bad("boolean=?", "not a boolean", argv[i]);
  for (int i = 0; i + 1 < argc; i++)
    if (argv[i] != argv[i + 1]) return PK_FALSE;
  return PK_TRUE;
}

/* ==== characters ========================================================== */

/* Unicode case and class come from the C.UTF-8 locale (glibc builds it in),
   independent of the user's locale; without it, ASCII only.  It is loaded
   at the first character past ASCII: loading it opens and maps files,
   which every start would pay for the few programs that need it. */
static locale_t pkb_uloc;

static void pkb_uloc_once(void) { pkb_uloc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0); }

/* The C.UTF-8 locale for c, or 0 when c is ASCII (or it cannot load). */
static locale_t pkb_locale_for(uint32_t c)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (c < 128) return 0;
  pthread_once(&once, pkb_uloc_once);
  return pkb_uloc;
}

static bool pkb_cclass(uint32_t c, int (*fn)(wint_t, locale_t), int (*ascii)(int))
{
  locale_t l = pkb_locale_for(c);
  if (l) return fn((wint_t)c, l) != 0;
  return c < 128 && ascii((int)c);
}

static uint32_t pkb_upcase(uint32_t c)
{
  locale_t l = pkb_locale_for(c);
  if (l) return (uint32_t)towupper_l((wint_t)c, l);
  return c < 128 && c >= 'a' && c <= 'z' ? c - 32 : c;
}

static uint32_t pkb_downcase(uint32_t c)
{
  locale_t l = pkb_locale_for(c);
  if (l) return (uint32_t)towlower_l((wint_t)c, l);
  return c < 128 && c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* ASCII classes for the fallback (locale-independent, unlike ctype). */
static int pkb_isalpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int pkb_isdigit(int c) { return c >= '0' && c <= '9'; }
static int pkb_isspace(int c) { return c == ' ' || (c >= 9 && c <= 13); }
static int pkb_isupper(int c) { return c >= 'A' && c <= 'Z'; }
static int pkb_islower(int c) { return c >= 'a' && c <= 'z'; }

/* Character classes and case. */
PKB_PRIM(pkb_char_alphabeticp)
{
  return pko_mkbool(pkb_cclass(pkb_check_char("char-alphabetic?", argv[0]), iswalpha_l, pkb_isalpha));
}
PKB_PRIM(pkb_char_numericp)
{
  return pko_mkbool(pkb_cclass(pkb_check_char("char-numeric?", argv[0]), iswdigit_l, pkb_isdigit));
}
PKB_PRIM(pkb_char_whitespacep)
{
  return pko_mkbool(pkb_cclass(pkb_check_char("char-whitespace?", argv[0]), iswspace_l, pkb_isspace));
}
PKB_PRIM(pkb_char_upper_casep)
{
  return pko_mkbool(pkb_cclass(pkb_check_char("char-upper-case?", argv[0]), iswupper_l, pkb_isupper));
}
PKB_PRIM(pkb_char_lower_casep)
{
  return pko_mkbool(pkb_cclass(pkb_check_char("char-lower-case?", argv[0]), iswlower_l, pkb_islower));
}
PKB_PRIM(pkb_char_upcase) { return pko_mkchar(pkb_upcase(pkb_check_char("char-upcase", argv[0]))); }
PKB_PRIM(pkb_char_downcase) { return pko_mkchar(pkb_downcase(pkb_check_char("char-downcase", argv[0]))); }

/* char->integer and integer->char (Unicode scalar values only). */
PKB_PRIM(pkb_char_to_integer) { return pko_mkfix(pkb_check_char("char->integer", argv[0])); }

PKB_PRIM(pkb_integer_to_char)
{
  pk_val v = argv[0];
  if (!pko_intp(v) || pko_intval(v) < 0 || pko_intval(v) > 0x10FFFF ||
      (pko_intval(v) >= 0xD800 && pko_intval(v) <= 0xDFFF))
    pkb_bad("integer->char", "not a valid unicode scalar value", v);
  return pko_mkchar((uint32_t)pko_intval(v));
}

/* The relations of the chained char and string comparisons. */
enum { PKB_EQ, PKB_LT, PKB_GT, PKB_LE, PKB_GE };

/* Chained char comparisons; ci folds case first. */
static pk_val pkb_char_compare(const char *who, int rel, bool ci, int argc, pk_val *argv)
{
  for (int i = 0; i < argc; i++) pkb_check_char(who, argv[i]);
  for (int i = 0; i + 1 < argc; i++) {
    uint32_t a = pko_charval(argv[i]), b = pko_charval(argv[i + 1]);
    if (ci) {
      a = pkb_downcase(a);
      b = pkb_downcase(b);
    }
    bool ok = rel == PKB_EQ ? a == b : rel == PKB_LT ? a < b : rel == PKB_GT ? a > b : rel == PKB_LE ? a <= b : a >= b;
    if (!ok) return PK_FALSE;
  }
  return PK_TRUE;
}

PKB_PRIM(pkb_char_eq) { return pkb_char_compare("char=?", PKB_EQ, false, argc, argv); }
PKB_PRIM(pkb_char_lt) { return pkb_char_compare("char<?", PKB_LT, false, argc, argv); }
PKB_PRIM(pkb_char_gt) { return pkb_char_compare("char>?", PKB_GT, false, argc, argv); }
PKB_PRIM(pkb_char_le) { return pkb_char_compare("char<=?", PKB_LE, false, argc, argv); }
PKB_PRIM(pkb_char_ge) { return pkb_char_compare("char>=?", PKB_GE, false, argc, argv); }
PKB_PRIM(pkb_char_ci_eq) { return pkb_char_compare("char-ci=?", PKB_EQ, true, argc, argv); }

/* ==== strings ============================================================= */

/* Strings hold UTF-8; Scheme indices count characters (code points). */
static size_t pkb_u8count(const char *s, size_t n)
{
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* Byte offset of character k (k may equal the character count). */
static size_t pkb_u8offset(const char *s, size_t n, size_t k)
{
  size_t i = 0;
  for (; i < n; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (k == 0) return i;
      k--;
    }
  }
  return n;
}

/* Decode the code point at s[*i], advancing *i; a malformed byte decodes
   as itself so no input is lost. */
static uint32_t pkb_u8decode(const char *s, size_t n, size_t *i)
{
  unsigned char c = (unsigned char)s[*i];
  int len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  uint32_t cp = len == 1 ? c : c & (0x3F >> (len - 1));
  size_t j = *i + 1;
  for (int k = 1; k < len; k++, j++) {
    if (j >= n || ((unsigned char)s[j] & 0xC0) != 0x80) {
      *i += 1;
      return c;
    }
    cp = (cp << 6) | ((unsigned char)s[j] & 0x3F);
  }
  *i = j;
  return cp;
}

/* Encode a code point; returns the byte count (1..4). */
static size_t pkb_u8encode(char *out, uint32_t cp)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string from n code points. */
static pk_val pkb_str_of_chars(const uint32_t *cps, size_t n)
{
  char *buf = pko_xmalloc(4 * n + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) len += pkb_u8encode(buf + len, cps[i]);
  pk_val s = pko_mkstr(buf, len);
  free(buf);
  return s;
}

/* string-length, string-ref and substring count characters. */
PKB_PRIM(pkb_string_length)
{
  pko_string *s = pkb_check_str("string-length", argv[0]);
  return pko_mkint((int64_t)pkb_u8count(s->s, s->len));
}

PKB_PRIM(pkb_string_ref)
{
  pko_string *s = pkb_check_str("string-ref", argv[0]);
  int64_t k = pkb_index("string-ref", argv[1], (int64_t)pkb_u8count(s->s, s->len), argv[0]);
  size_t at = pkb_u8offset(s->s, s->len, (size_t)k);
  return pko_mkchar(pkb_u8decode(s->s, s->len, &at));
}

PKB_PRIM(pkb_substring)
{
  pko_string *s = pkb_check_str("substring", argv[0]);
  int64_t n = (int64_t)pkb_u8count(s->s, s->len);
  pk_val a = argv[1], b = argv[2];
  if (!pko_intp(a) || !pko_intp(b) || pko_intval(a) < 0 || pko_intval(b) > n || pko_intval(a) > pko_intval(b))
    pkb_bad2("substring", "%s and %s are not valid start/end indices", a, b);
  size_t from = pkb_u8offset(s->s, s->len, (size_t)pko_intval(a));
  size_t to = pkb_u8offset(s->s, s->len, (size_t)pko_intval(b));
  return pko_mkstr(s->s + from, to - from);
}

/* Construction: string-append, string-copy, string, make-string. */
PKB_PRIM(pkb_string_append)
{
  size_t total = 0;
  for (int i = 0; i < argc; i++) total += pkb_check_str("string-append", argv[i])->len;
  char *buf = pko_xmalloc(total + 1);
  size_t at = 0;
  for (int i = 0; i < argc; i++) {
    memcpy(buf + at, pko_as_str(argv[i])->s, pko_as_str(argv[i])->len);
    at += pko_as_str(argv[i])->len;
  }
  pk_val r = pko_mkstr(buf, total);
  free(buf);
  return r;
}

PKB_PRIM(pkb_string_copy)
{
  pko_string *s = pkb_check_str("string-copy", argv[0]);
  return pko_mkstr(s->s, s->len);
}

PKB_PRIM(pkb_string)
{
  uint32_t *cps = pko_xmalloc((size_t)(argc > 0 ? argc : 1) * sizeof *cps);
  for (int i = 0; i < argc; i++) {
    if (!pko_charp(argv[i])) {
      free(cps);
      pkb_bad("string", "not a character", argv[i]);
    }
    cps[i] = pko_charval(argv[i]);
  }
  pk_val r = pkb_str_of_chars(cps, (size_t)argc);
  free(cps);
  return r;
}

PKB_PRIM(pkb_make_string)
{
  int64_t n = pkb_exact_int("make-string", argv[0]);
  if (n < 0 || n > (1 << 28)) pkb_bad("make-string", "not a valid string length", argv[0]);
  uint32_t c = argc > 1 ? pkb_check_char("make-string", argv[1]) : 0;
  char u[4];
  size_t w = pkb_u8encode(u, c);
  char *buf = pko_xmalloc((size_t)n * w + 1);
  for (int64_t i = 0; i < n; i++) memcpy(buf + (size_t)i * w, u, w);
  pk_val r = pko_mkstr(buf, (size_t)n * w);
  free(buf);
  return r;
}

/* string->list and list->string, through code points. */
PKB_PRIM(pkb_string_to_list)
{
  pko_string *s = pkb_check_str("string->list", argv[0]);
  pk_val rev = PK_NIL;
  for (size_t i = 0; i < s->len;) rev = pko_cons(pko_mkchar(pkb_u8decode(s->s, s->len, &i)), rev);
  return pko_reverse(rev);
}

PKB_PRIM(pkb_list_to_string)
{
  long n = pkb_listlen("list->string", argv[0]);
  uint32_t *cps = pko_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *cps);
  long i = 0;
  for (pk_val l = argv[0]; pko_pairp(l); l = pko_cdr(l)) {
    if (!pko_charp(pko_car(l))) {
      free(cps);
      pkb_bad("list->string", "not a character", pko_car(l));
    }
    cps[i++] = pko_charval(pko_car(l));
  }
  pk_val r = pkb_str_of_chars(cps, (size_t)n);
  free(cps);
  return r;
}

/* Case mapping per code point (no one-to-many mappings such as ß). */
static pk_val pkb_string_case(const char *who, pk_val v, uint32_t (*fn)(uint32_t))
{
  pko_string *s = pkb_check_str(who, v);
  char *buf = pko_xmalloc(4 * (size_t)s->len + 1);
  size_t len = 0;
  for (size_t i = 0; i < s->len;) len += pkb_u8encode(buf + len, fn(pkb_u8decode(s->s, s->len, &i)));
  pk_val r = pko_mkstr(buf, len);
  free(buf);
  return r;
}

PKB_PRIM(pkb_string_upcase) { return pkb_string_case("string-upcase", argv[0], pkb_upcase); }
PKB_PRIM(pkb_string_downcase) { return pkb_string_case("string-downcase", argv[0], pkb_downcase); }

/* Byte order of UTF-8 is code-point order, so memcmp compares strings. */
static int pkb_strcmp(const pko_string *a, const pko_string *b)
{
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->s, b->s, n);
  if (c) return c < 0 ? -1 : 1;
  return (a->len > b->len) - (a->len < b->len);
}

/* Chained string comparisons; every argument is checked first. */
static pk_val pkb_string_compare(const char *who, int rel, int argc, pk_val *argv)
{
  for (int i = 0; i < argc; i++) pkb_check_str(who, argv[i]);
  for (int i = 0; i + 1 < argc; i++) {
    int c = pkb_strcmp(pko_as_str(argv[i]), pko_as_str(argv[i + 1]));
    bool ok = rel == PKB_EQ ? c == 0 : rel == PKB_LT ? c < 0 : rel == PKB_GT ? c > 0 : rel == PKB_LE ? c <= 0 : c >= 0;
    if (!ok) return PK_FALSE;
  }
  return PK_TRUE;
}

PKB_PRIM(pkb_string_eq) { return pkb_string_compare("string=?", PKB_EQ, argc, argv); }
PKB_PRIM(pkb_string_lt) { return pkb_string_compare("string<?", PKB_LT, argc, argv); }
PKB_PRIM(pkb_string_gt) { return pkb_string_compare("string>?", PKB_GT, argc, argv); }
PKB_PRIM(pkb_string_le) { return pkb_string_compare("string<=?", PKB_LE, argc, argv); }
PKB_PRIM(pkb_string_ge) { return pkb_string_compare("string>=?", PKB_GE, argc, argv); }

PKB_PRIM(pkb_string_ci_eq)
{
  for (int i = 0; i < argc; i++) pkb_check_str("string-ci=?", argv[i]);
  pk_val prev = pkb_string_case("string-ci=?", argv[0], pkb_downcase);
  for (int i = 1; i < argc; i++) {
    pk_val cur = pkb_string_case("string-ci=?", argv[i], pkb_downcase);
    if (pkb_strcmp(pko_as_str(prev), pko_as_str(cur)) != 0) return PK_FALSE;
    prev = cur;
  }
  return PK_TRUE;
}

/* ==== symbols ============================================================= */

/* symbol->string and string->symbol (interning). */
PKB_PRIM(pkb_symbol_to_string)
{
  pkb_check_sym("symbol->string", argv[0]);
  return pko_mkstr(pko_symname(argv[0]), pko_as_sym(argv[0])->len);
}

PKB_PRIM(pkb_string_to_symbol)
{
  pko_string *s = pkb_check_str("string->symbol", argv[0]);
  return pko_intern(s->s, s->len);
}

/* (gensym) or (gensym "name"): a fresh uninterned symbol. */
PKB_PRIM(pkb_gensym)
{
  pk_val base = pko_sym("g");
  if (argc > 0) {
    if (pko_stringp(argv[0]))
      base = pko_intern(pko_as_str(argv[0])->s, pko_as_str(argv[0])->len);
    else if (pko_symbolp(argv[0]))
      base = argv[0];
    else
      pkb_bad("gensym", "not a string", argv[0]);
  }
  return pko_gensym(base);
}

/* ==== tensors ============================================================= */

/* Tensor literals (#[...]) as the statistical relations see them: the
   shape and the elements in row-major order, and back. */
static const pko_tensor *pkb_check_tensor(const char *who, pk_val v)
{
  if (!pko_isa(v, PK_T_TENSOR)) pkb_bad(who, "not a tensor", v);
  return pko_as_tensor(v);
}

PKB_PRIM(pkb_tensorp) { return pko_mkbool(pko_isa(argv[0], PK_T_TENSOR)); }

PKB_PRIM(pkb_tensor_shape)
{
  const pko_tensor *t = pkb_check_tensor("tensor-shape", argv[0]);
  pk_val l = PK_NIL;
  for (uint32_t k = t->rank; k-- > 0;) l = pko_cons(pko_mkint(t->dims[k]), l);
  return l;
}

/* The elements as a fresh list of integers or floats; linear. */
PKB_PRIM(pkb_tensor_to_list)
{
  const pko_tensor *t = pkb_check_tensor("tensor->list", argv[0]);
  pk_val l = PK_NIL;
  for (uint64_t k = t->count; k-- > 0;)
    l = pko_cons(t->h.aux == PKO_TENSOR_F64 ? pko_mkflo(pko_tensor_f64(t)[k]) : pko_mkint(pko_tensor_i64(t)[k]), l);
  return l;
}

/* (list->tensor SHAPE ELEMENTS): SHAPE a non-empty list of non-negative
   integers, ELEMENTS as many numbers as their product. */
PKB_PRIM(pkb_list_to_tensor)
{
  long rank = pkb_listlen("list->tensor", argv[0]), n = pkb_listlen("list->tensor", argv[1]);
  if (rank < 1 || rank > 32) pkb_bad("list->tensor", "shape must have 1 to 32 dimensions", argv[0]);
  int64_t dims[32];
  uint64_t count = 1;
  long k = 0;
  for (pk_val l = argv[0]; pko_pairp(l); l = pko_cdr(l), k++) {
    pk_val d = pko_car(l);
    if (!pko_intp(d) || pko_intval(d) < 0 || pko_intval(d) > (1 << 30)) pkb_bad("list->tensor", "not a dimension", d);
    dims[k] = pko_intval(d);
    count *= (uint64_t)dims[k];
  }
  if (count != (uint64_t)n) pkb_bad2("list->tensor", "shape %s does not hold %s", argv[0], argv[1]);
  pk_val *elems = pko_xmalloc((size_t)(n ? n : 1) * sizeof *elems);
  k = 0;
  for (pk_val l = argv[1]; pko_pairp(l); l = pko_cdr(l)) {
    pk_val e = pko_car(l);
    if (!pko_numberp(e)) {
      free(elems);
      pkb_bad("list->tensor", "not a number", e);
    }
    elems[k++] = e;
  }
  pk_val t = pko_mktensor((uint32_t)rank, dims, count, elems);
  free(elems);
  return t;
}

/* ==== vectors ============================================================= */

/* Vectors: constructors, access with Chez's index errors, conversions. */
static pko_vector *pkb_check_vec(const char *who, pk_val v)
{
  if (!pko_isa(v, PK_T_VECTOR)) pkb_bad(who, "not a vector", v);
  return pko_as_vec(v);
}

PKB_PRIM(pkb_vector)
{
  pk_val v = pko_mkvec((uint32_t)argc, PK_FALSE);
  memcpy(pko_as_vec(v)->items, argv, (size_t)argc * sizeof *argv);
  return v;
}

PKB_PRIM(pkb_make_vector)
{
  pk_val k = argv[0];
  if (!pko_intp(k) || pko_intval(k) < 0 || pko_intval(k) > (1 << 28))
    pkb_bad("make-vector", "not a valid vector length", k);
  return pko_mkvec((uint32_t)pko_intval(k), argc > 1 ? argv[1] : pko_mkfix(0));
}

PKB_PRIM(pkb_vector_length) { return pko_mkfix(pkb_check_vec("vector-length", argv[0])->len); }

PKB_PRIM(pkb_vector_ref)
{
  pko_vector *v = pkb_check_vec("vector-ref", argv[0]);
  return v->items[pkb_index("vector-ref", argv[1], v->len, argv[0])];
}

/* Vectors are the one mutable structure (Chez programs fill them in);
   pairs stay immutable because their ground tag is fixed at cons time. */
PKB_PRIM(pkb_vector_set)
{
  pko_vector *v = pkb_check_vec("vector-set!", argv[0]);
  pko_note_store(argv[2]);
  v->items[pkb_index("vector-set!", argv[1], v->len, argv[0])] = argv[2];
  return PK_VOID;
}

PKB_PRIM(pkb_vector_fill)
{
  pko_vector *v = pkb_check_vec("vector-fill!", argv[0]);
  pko_note_store(argv[1]);
  for (uint32_t i = 0; i < v->len; i++) v->items[i] = argv[1];
  return PK_VOID;
}

PKB_PRIM(pkb_vector_copy)
{
  pko_vector *v = pkb_check_vec("vector-copy", argv[0]);
  pk_val r = pko_mkvec(v->len, PK_FALSE);
  memcpy(pko_as_vec(r)->items, v->items, v->len * sizeof *v->items);
  return r;
}

PKB_PRIM(pkb_vector_to_list)
{
  pko_vector *v = pkb_check_vec("vector->list", argv[0]);
  return pkb_list_of((int)v->len, v->items, PK_NIL);
}

PKB_PRIM(pkb_list_to_vector)
{
  long n = pkb_listlen("list->vector", argv[0]);
  if (n > (1 << 28)) pkb_bad("list->vector", "list too long", argv[0]);
  pk_val v = pko_mkvec((uint32_t)n, PK_FALSE);
  long i = 0;
  for (pk_val l = argv[0]; pko_pairp(l); l = pko_cdr(l)) pko_as_vec(v)->items[i++] = pko_car(l);
  return v;
}

/* ==== output ============================================================== */

/* Print through the printer's buffer, then one fwrite. */
static void pkb_emit(pk_val v, int mode)
{
  pkp_buf b;
  pkp_init(&b);
  pkp_print(&b, v, mode);
  pkp_fwrite(&b, pkb_output());
  pkp_free(&b);
}

/* display, write, newline, write-char. */
PKB_PRIM(pkb_display)
{
  pkb_emit(argv[0], PKP_DISPLAY);
  return PK_VOID;
}
PKB_PRIM(pkb_write)
{
  pkb_emit(argv[0], PKP_WRITE);
  return PK_VOID;
}
PKB_PRIM(pkb_newline)
{
  fputc('\n', pkb_output());
  return PK_VOID;
}

PKB_PRIM(pkb_write_char)
{
  char u[4];
  fwrite(u, 1, pkb_u8encode(u, pkb_check_char("write-char", argv[0])), pkb_output());
  return PK_VOID;
}

/* One format directive's argument in a radix, as Chez: exact rationals in
   the radix (~x of 255/2 is FF/2), anything else displayed. */
static void pkb_fmt_radix(pkp_buf *b, pk_val v, int radix)
{
  char buf[160];
  if (pko_intp(v) || pko_isa(v, PK_T_RATIO)) {
    pkn_exact_text(buf, pkn_of("format", v), radix);
    pkp_puts(b, buf, strlen(buf));
  } else {
    pkp_print(b, v, PKP_DISPLAY);
  }
}

/* The format language subset: ~a ~s ~d ~x ~o ~b ~c ~% ~n ~~ and
   ~<newline> (skips the newline and the indentation after it). */
static void pkb_format_into(const char *who, pkp_buf *b, pk_val fmt, int argc, const pk_val *argv)
{
  const pko_string *f = pkb_check_str(who, fmt);
  int used = 0;
  for (size_t i = 0; i < f->len; i++) {
    char c = f->s[i];
    if (c != '~') {
      pkp_putc(b, c);
      continue;
    }
    if (++i == f->len) {
      pkp_free(b);
      pkb_bad(who, "incomplete format directive in", fmt);
    }
    c = f->s[i];
    if (strchr("aAsSdDxXoObBcC", c)) {
      if (used == argc) {
        pkp_free(b);
        pkb_bad(who, "too few arguments for control string", fmt);
      }
      pk_val v = argv[used++];
      switch (c | 0x20) {
      case 'a': pkp_print(b, v, PKP_DISPLAY); break;
      case 's': pkp_print(b, v, PKP_WRITE); break;
      case 'd': pkb_fmt_radix(b, v, 10); break;
      case 'x': pkb_fmt_radix(b, v, 16); break;
      case 'o': pkb_fmt_radix(b, v, 8); break;
      case 'b': pkb_fmt_radix(b, v, 2); break;
      default:
        if (!pko_charp(v)) {
          pkp_free(b);
          pkb_bad(who, "not a character", v);
        }
        {
          char u[4];
          pkp_puts(b, u, pkb_u8encode(u, pko_charval(v)));
        }
      }
    } else if (c == '%' || c == 'n' || c == 'N') {
      pkp_putc(b, '\n');
    } else if (c == '~') {
      pkp_putc(b, '~');
    } else if (c == '\n') {
      while (i + 1 < f->len && (f->s[i + 1] == ' ' || f->s[i + 1] == '\t')) i++;
    } else {
      char d[64];
      snprintf(d, sizeof d, "unrecognized directive ~%c in", c);
      pkp_free(b);
      pkb_bad(who, d, fmt);
    }
  }
  if (used < argc) {
    pkp_free(b);
    pkb_bad(who, "too many arguments for control string", fmt);
  }
}

/* (format #f fmt arg ...) and (format fmt arg ...) return a string;
   (format #t fmt arg ...) prints. */
PKB_PRIM(pkb_format)
{
  pk_val dest = argv[0];
  int skip = dest == PK_TRUE || dest == PK_FALSE;
  if (skip && argc < 2) pkb_bad("format", "missing control string after", dest);
  if (!skip && !pko_stringp(dest)) pkb_bad("format", "not a string or boolean", dest);
  pkp_buf b;
  pkp_init(&b);
  pkb_format_into("format", &b, argv[skip], argc - skip - 1, argv + skip + 1);
  pk_val r = PK_VOID;
  if (dest == PK_TRUE)
    pkp_fwrite(&b, pkb_output());
  else
    r = pko_mkstr(b.s ? b.s : "", b.len);
  pkp_free(&b);
  return r;
}

/* (printf fmt arg ...) prints. */
PKB_PRIM(pkb_printf)
{
  pkp_buf b;
  pkp_init(&b);
  pkb_format_into("printf", &b, argv[0], argc - 1, argv + 1);
  pkp_fwrite(&b, pkb_output());
  pkp_free(&b);
  return PK_VOID;
}

/* ==== errors, exit, misc ================================================== */

/* (error who msg irritant ...): Chez's condition text, "who: msg with
   irritant x" or "with irritants (x y)"; who #f is left out. */
PKB_PRIM(pkb_error)
{
  pk_val who = argv[0], msg = argv[1];
  pkp_buf b;
  pkp_init(&b);
  if (!pko_stringp(msg)) {
    pkp_printf(&b, "error: invalid message argument ");
    pkp_print(&b, msg, PKP_WRITE);
  } else {
    if (who != PK_FALSE) {
      pkp_print(&b, who, PKP_DISPLAY);
      pkp_puts(&b, ": ", 2);
    }
    pkp_puts(&b, pko_as_str(msg)->s, pko_as_str(msg)->len);
    if (argc == 3) {
      pkp_printf(&b, " with irritant ");
      pkp_print(&b, argv[2], PKP_WRITE);
    } else if (argc > 3) {
      pkp_printf(&b, " with irritants ");
      pkp_print(&b, pkb_list_of(argc - 2, argv + 2, PK_NIL), PKP_WRITE);
    }
  }
  char text[1600];
  size_t n = b.len < sizeof text - 4 ? b.len : sizeof text - 4;
  memcpy(text, b.s ? b.s : "", n);
  strcpy(text + n, b.len > n ? "..." : "");
  pkp_free(&b);
  pko_error("%s", text);
}

/* (exit [code]): Chez's status rule (no argument 0, an exact integer its
   low byte, anything else 1), after flushing program output. */
PKB_PRIM(pkb_exit)
{
  int code = 0;
  if (argc > 0) code = pko_intp(argv[0]) ? (int)(pko_intval(argv[0]) & 255) : 1;
  fflush(pkb_output());
  pko_err.code = code;
  pko_throw_at(PK_STATUS_EXIT, NULL, "exit %d", code);
}

/* (void): the unspecified value. */
PKB_PRIM(pkb_void) { return PK_VOID; }

/* ==== registration ======================================================== */

/* The registration table: name, function, arity (max -1: variadic). */
typedef struct pkb_entry {
  const char *name;
  pk_primfn fn;
  int min, max;
} pkb_entry;

#define VAR (-1)
static const pkb_entry pkb_table[] = {
  /* pairs and lists */
  { "cons", pkb_cons, 2, 2 },
  { "car", pkb_car, 1, 1 },
  { "cdr", pkb_cdr, 1, 1 },
  { "caar", pkb_caar, 1, 1 },
  { "cadr", pkb_cadr, 1, 1 },
  { "cdar", pkb_cdar, 1, 1 },
  { "cddr", pkb_cddr, 1, 1 },
  { "caaar", pkb_caaar, 1, 1 },
  { "caadr", pkb_caadr, 1, 1 },
  { "cadar", pkb_cadar, 1, 1 },
  { "caddr", pkb_caddr, 1, 1 },
  { "cdaar", pkb_cdaar, 1, 1 },
  { "cdadr", pkb_cdadr, 1, 1 },
  { "cddar", pkb_cddar, 1, 1 },
  { "cdddr", pkb_cdddr, 1, 1 },
  { "caaaar", pkb_caaaar, 1, 1 },
  { "caaadr", pkb_caaadr, 1, 1 },
  { "caadar", pkb_caadar, 1, 1 },
  { "caaddr", pkb_caaddr, 1, 1 },
  { "cadaar", pkb_cadaar, 1, 1 },
  { "cadadr", pkb_cadadr, 1, 1 },
  { "caddar", pkb_caddar, 1, 1 },
  { "cadddr", pkb_cadddr, 1, 1 },
  { "cdaaar", pkb_cdaaar, 1, 1 },
  { "cdaadr", pkb_cdaadr, 1, 1 },
  { "cdadar", pkb_cdadar, 1, 1 },
  { "cdaddr", pkb_cdaddr, 1, 1 },
  { "cddaar", pkb_cddaar, 1, 1 },
  { "cddadr", pkb_cddadr, 1, 1 },
  { "cdddar", pkb_cdddar, 1, 1 },
  { "cddddr", pkb_cddddr, 1, 1 },
  { "list", pkb_list, 0, VAR },
  { "cons*", pkb_cons_star, 1, VAR },
  { "list*", pkb_cons_star, 1, VAR },
  { "length", pkb_length, 1, 1 },
  { "append", pkb_append, 0, VAR },
  { "reverse", pkb_reverse, 1, 1 },
  { "list-ref", pkb_list_ref, 2, 2 },
  { "list-tail", pkb_list_tail, 2, 2 },
  { "list-copy", pkb_list_copy, 1, 1 },
  { "last-pair", pkb_last_pair, 1, 1 },
  { "memq", pkb_memq, 2, 2 },
  { "memv", pkb_memv, 2, 2 },
  { "member", pkb_member, 2, 3 },
  { "assq", pkb_assq, 2, 2 },
  { "assv", pkb_assv, 2, 2 },
  { "assoc", pkb_assoc, 2, 3 },
  { "remq", pkb_remq, 2, 2 },
  { "remv", pkb_remv, 2, 2 },
  { "remove", pkb_remove, 2, 2 },
  /* higher order */
  { "map", pkb_map, 2, VAR },
  { "for-each", pkb_for_each, 2, VAR },
  { "filter", pkb_filter, 2, 2 },
  { "andmap", pkb_andmap, 2, VAR },
  { "ormap", pkb_ormap, 2, VAR },
  { "for-all", pkb_for_all, 2, VAR },
  { "exists", pkb_exists, 2, VAR },
  { "fold-left", pkb_fold_left, 3, VAR },
  { "fold-right", pkb_fold_right, 3, VAR },
  { "find", pkb_find, 2, 2 },
  { "apply", pkb_apply, 2, VAR },
  { "sort", pkb_sort, 2, 2 },
  { "list-sort", pkb_list_sort, 2, 2 },
  /* predicates and equality */
  { "null?", pkb_nullp, 1, 1 },
  { "pair?", pkb_pairp, 1, 1 },
  { "list?", pkb_listp, 1, 1 },
  { "symbol?", pkb_symbolp, 1, 1 },
  { "string?", pkb_stringp, 1, 1 },
  { "boolean?", pkb_booleanp, 1, 1 },
  { "procedure?", pkb_procedurep, 1, 1 },
  { "vector?", pkb_vectorp, 1, 1 },
  { "char?", pkb_charp, 1, 1 },
  { "not", pkb_not, 1, 1 },
  { "eq?", pkb_eqp, 2, 2 },
  { "ground?", pkb_groundp, 1, 1 },
  { "eqv?", pkb_eqvp, 2, 2 },
  { "equal?", pkb_equalp, 2, 2 },
  { "boolean=?", pkb_boolean_eq, 2, VAR },
  /* numbers */
  { "+", pkb_plus, 0, VAR },
  { "-", pkb_minus, 1, VAR },
  { "*", pkb_times, 0, VAR },
  { "/", pkb_divide, 1, VAR },
  { "add1", pkb_add1, 1, 1 },
  { "sub1", pkb_sub1, 1, 1 },
  { "=", pkb_num_eq, 1, VAR },
  { "<", pkb_num_lt, 1, VAR },
  { ">", pkb_num_gt, 1, VAR },
  { "<=", pkb_num_le, 1, VAR },
  { ">=", pkb_num_ge, 1, VAR },
  { "max", pkb_max, 1, VAR },
  { "min", pkb_min, 1, VAR },
  { "abs", pkb_abs, 1, 1 },
  { "quotient", pkb_quotient, 2, 2 },
  { "remainder", pkb_remainder, 2, 2 },
  { "modulo", pkb_modulo, 2, 2 },
  { "gcd", pkb_gcd, 0, VAR },
  { "lcm", pkb_lcm, 0, VAR },
  { "zero?", pkb_zerop, 1, 1 },
  { "positive?", pkb_positivep, 1, 1 },
  { "negative?", pkb_negativep, 1, 1 },
  { "even?", pkb_evenp, 1, 1 },
  { "odd?", pkb_oddp, 1, 1 },
  { "number?", pkb_numberp, 1, 1 },
  { "integer?", pkb_integerp, 1, 1 },
  { "rational?", pkb_rationalp, 1, 1 },
  { "real?", pkb_numberp, 1, 1 },
  { "exact?", pkb_exactp, 1, 1 },
  { "inexact?", pkb_inexactp, 1, 1 },
  { "nan?", pkb_nanp, 1, 1 },
  { "finite?", pkb_finitep, 1, 1 },
  { "infinite?", pkb_infinitep, 1, 1 },
  { "exact->inexact", pkb_exact_to_inexact, 1, 1 },
  { "inexact->exact", pkb_inexact_to_exact, 1, 1 },
  { "exact", pkb_exact, 1, 1 },
  { "inexact", pkb_inexact, 1, 1 },
  { "numerator", pkb_numerator, 1, 1 },
  { "denominator", pkb_denominator, 1, 1 },
  { "floor", pkb_floor, 1, 1 },
  { "ceiling", pkb_ceiling, 1, 1 },
  { "round", pkb_round, 1, 1 },
  { "truncate", pkb_truncate, 1, 1 },
  { "sqrt", pkb_sqrt, 1, 1 },
  { "expt", pkb_expt, 2, 2 },
  { "exp", pkb_exp, 1, 1 },
  { "log", pkb_log, 1, 2 },
  { "sin", pkb_sin, 1, 1 },
  { "cos", pkb_cos, 1, 1 },
  { "tan", pkb_tan, 1, 1 },
  { "asin", pkb_asin, 1, 1 },
  { "acos", pkb_acos, 1, 1 },
  { "atan", pkb_atan, 1, 2 },
  { "number->string", pkb_number_to_string, 1, 2 },
  { "string->number", pkb_string_to_number, 1, 2 },
  /* characters */
  { "char=?", pkb_char_eq, 1, VAR },
  { "char<?", pkb_char_lt, 1, VAR },
  { "char>?", pkb_char_gt, 1, VAR },
  { "char<=?", pkb_char_le, 1, VAR },
  { "char>=?", pkb_char_ge, 1, VAR },
  { "char-ci=?", pkb_char_ci_eq, 1, VAR },
  { "char->integer", pkb_char_to_integer, 1, 1 },
  { "integer->char", pkb_integer_to_char, 1, 1 },
  { "char-alphabetic?", pkb_char_alphabeticp, 1, 1 },
  { "char-numeric?", pkb_char_numericp, 1, 1 },
  { "char-whitespace?", pkb_char_whitespacep, 1, 1 },
  { "char-upper-case?", pkb_char_upper_casep, 1, 1 },
  { "char-lower-case?", pkb_char_lower_casep, 1, 1 },
  { "char-upcase", pkb_char_upcase, 1, 1 },
  { "char-downcase", pkb_char_downcase, 1, 1 },
  /* strings and symbols */
  { "string-length", pkb_string_length, 1, 1 },
  { "string-ref", pkb_string_ref, 2, 2 },
  { "substring", pkb_substring, 3, 3 },
  { "string-append", pkb_string_append, 0, VAR },
  { "string-copy", pkb_string_copy, 1, 1 },
  { "string", pkb_string, 0, VAR },
  { "make-string", pkb_make_string, 1, 2 },
  { "string->list", pkb_string_to_list, 1, 1 },
  { "list->string", pkb_list_to_string, 1, 1 },
  { "string-upcase", pkb_string_upcase, 1, 1 },
  { "string-downcase", pkb_string_downcase, 1, 1 },
  { "string=?", pkb_string_eq, 1, VAR },
  { "string<?", pkb_string_lt, 1, VAR },
  { "string>?", pkb_string_gt, 1, VAR },
  { "string<=?", pkb_string_le, 1, VAR },
  { "string>=?", pkb_string_ge, 1, VAR },
  { "string-ci=?", pkb_string_ci_eq, 1, VAR },
  { "symbol->string", pkb_symbol_to_string, 1, 1 },
  { "string->symbol", pkb_string_to_symbol, 1, 1 },
  { "gensym", pkb_gensym, 0, 1 },
  /* vectors */
  { "vector", pkb_vector, 0, VAR },
  { "make-vector", pkb_make_vector, 1, 2 },
  { "vector-length", pkb_vector_length, 1, 1 },
  { "vector-ref", pkb_vector_ref, 2, 2 },
  { "vector-set!", pkb_vector_set, 3, 3 },
  { "vector-fill!", pkb_vector_fill, 2, 2 },
  { "vector-copy", pkb_vector_copy, 1, 1 },
  { "vector->list", pkb_vector_to_list, 1, 1 },
  { "list->vector", pkb_list_to_vector, 1, 1 },
  { "tensor?", pkb_tensorp, 1, 1 },
  { "tensor-shape", pkb_tensor_shape, 1, 1 },
  { "tensor->list", pkb_tensor_to_list, 1, 1 },
  { "list->tensor", pkb_list_to_tensor, 2, 2 },
  /* output, errors, misc */
  { "display", pkb_display, 1, 1 },
  { "write", pkb_write, 1, 1 },
  { "newline", pkb_newline, 0, 0 },
  { "write-char", pkb_write_char, 1, 1 },
  { "format", pkb_format, 1, VAR },
  { "printf", pkb_printf, 1, VAR },
  { "error", pkb_error, 2, VAR },
  { "exit", pkb_exit, 0, VAR },
  { "void", pkb_void, 0, 0 },
};
#undef VAR

/* Bind every primitive; pkb_out defaults to stdout. */
void pkb_init(void)
{
  if (!pkb_out) pkb_out = stdout;
  for (size_t i = 0; i < sizeof pkb_table / sizeof pkb_table[0]; i++)
    pko_defprim(pkb_table[i].name, pkb_table[i].fn, pkb_table[i].min, pkb_table[i].max);
}
