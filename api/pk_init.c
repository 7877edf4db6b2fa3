/*
** pk_init.c — the library's start, bottom-up, and the wiring of the
** language to the scheduler.
**
** The layers point one way: objects, then the language, then the
** scheduler (which runs opaque branches) and the graph engine beside it,
** then this layer.  The language reaches a pool only through the hooks
** installed here (pks_runner, pkf_pool), and the scheduler reaches the
** language only through the operations table (pkw_ops) defined here.
*/
#include "pk_init.h"
#include "pk_builtin.h"
#include "pk_comp.h"
#include "pk_eval.h"
#include "pk_future.h"
#include "pk_graph.h"
#include "pk_load.h"
#include "pk_rewrite.h"
#include "pk_search.h"
#include "pk_worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Force miniKanren stream t one step, as a scheduler branch. */
static pk_val pki_force(pk_val t, pk_val *answer)
{
  pk_val s = pks_force(t);
  switch (pks_stream_kind(s)) {
  case PKS_MZERO: return 0;
  case PKS_UNIT: *answer = s; return 0;
  case PKS_CHOICE: *answer = pks_choice_answer(s); return pks_choice_rest(s);
  default: return s;
  }
}

/* The driver's counts, in the scheduler's struct. */
static pkw_counts pki_counts(void)
{
  pkf_counts c = pkf_counted();
  return (pkw_counts){ c.taken, c.waits, c.wait_ns };
}

static const pkw_ops pki_ops = {
  .force = pki_force,
  .split = pks_split,
  .work = pks_unify_count,
  .claim = pkf_claim,
  .force_ahead = pkf_force,
  .taken = pkf_taken,
  .ahead = pkf_ahead,
  .join = pkf_enable,
  .reset = pkf_reset,
  .counts = pki_counts,
};

/* pks_runner: a query runs on the pool when the configuration says so. */
static void *pki_start(pk_val root, int64_t n) { return pkw_parallel() ? pkw_query_start(&pki_ops, root, n) : NULL; }
static void *pki_ahead(void) { return pkw_speculative() ? pkw_spec_start(&pki_ops) : NULL; }
static bool pki_next(void *q, pk_val *out) { return pkw_query_next(q, out); }
static void pki_stop(void *q) { pkw_query_stop(q); }

static const pks_runner pki_runner = { pki_start, pki_ahead, pki_next, pki_stop };
static const pkf_pool pki_pool = { pkw_offer_wanted, pkw_offer, pkw_spec_pause };

/* relations/kanren.scm, embedded at build time (cmake/PkEmbed.cmake). */
extern const char pki_prelude[];
extern const size_t pki_prelude_len;

/* Define kanren's relations (SPEC §5) in every program: a program's own
   definition of a name replaces it, and the relations call each other
   through their kanren-* names, so replacing one breaks no other. */
static void pki_load_prelude(void)
{
  pkl_opts o = { 0 };
  if (pkl_run_text("relations/kanren.scm", pki_prelude, pki_prelude_len, &o) != PK_STATUS_OK) {
    fprintf(stderr, "pkanren: internal error: the built-in relations do not load: %s\n", pko_err.msg);
    abort();
  }
}

static void pki_init_once(void)
{
  pko_init();
  pkb_init();
  pkc_init();
  pke_init();
  pks_init();
  pkl_init();
  pkg_init();
  pkrw_init();
  pks_set_runner(&pki_runner);
  pkf_set_pool(&pki_pool);
  pki_load_prelude();
}

void pki_init(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pki_init_once);
}

void pki_configure(int workers, bool unordered, uint64_t seed, bool eager)
{
  pkw_config c = { workers, unordered, seed, eager, pke_stack_budget, pke_thread_start, pke_stack_exact };
  pkw_configure(&c);
}
