/*
** pk_batch.c — bulk rewriting (pk_batch.h).  Models are rewritten one at a
** time on the calling thread (the relation's queries use the configured
** workers); the summary and outputs are written as each input file is done.
*/
#include "pk_batch.h"
#include "pk_eval.h"
#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_load.h"
#include "pk_print.h"
#include "pk_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PK_SRC_RELATIONS
#define PK_SRC_RELATIONS ""
#endif
#ifndef PK_DATA_RELATIONS
#define PK_DATA_RELATIONS ""
#endif

/* ---- rules -------------------------------------------------------------------------- */

static bool pkbt_readable(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *pkbt_rules_path(const char *rules)
{
  if (pkbt_readable(rules) || strchr(rules, '/')) return pko_xstrdup(rules);
  char exe[4096], buf[8192];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  const char *dirs[3] = { PK_SRC_RELATIONS, NULL, PK_DATA_RELATIONS };
  char share[4200];
  if (n > 0) {
    snprintf(share, sizeof share, "%s/../share/pkanren", dirname(exe));
    dirs[1] = share;
  }
  for (int i = 0; i < 3; i++) {
    if (!dirs[i] || !dirs[i][0]) continue;
    snprintf(buf, sizeof buf, "%s/%s.scm", dirs[i], rules);
    if (pkbt_readable(buf)) return pko_xstrdup(buf);
  }
  return pko_xstrdup(rules);
}

bool pkbt_walker(const char *name, pkrw_walker *w)
{
  if (!name || !strcmp(name, "walko"))
    *w = PKRW_WALKO;
  else if (!strcmp(name, "non_obs_walko"))
    *w = PKRW_NON_OBS_WALKO;
  else
    return false;
  return true;
}

/* Can procedure v take two arguments?  Exact for closures and
   primitives; other procedures (goals used as procedures) are taken on
   trust. */
static bool pkbt_two_args(pk_val v, pk_srcpos *pos)
{
  if (pko_isa(v, PK_T_PRIM)) {
    const pko_prim *p = (const pko_prim *)v;
    return p->min <= 2 && (p->max < 0 || p->max >= 2);
  }
  if (!pko_isa(v, PK_T_CLOSURE)) return pke_procedurep(v);
  const pke_node *lam = ((const pke_closure *)v)->lam;
  *pos = lam->pos;
  return (lam->flags & 1) ? lam->a <= 2 : lam->a == 2;
}

pk_val pkbt_load_rules(const char *path, const char *relation)
{
  if (path) {
    pkl_opts lo = { 0 };
    int st = pkl_run_file(path, &lo);
    if (st == PK_STATUS_EXIT)
      pko_throw_at(PK_STATUS_RUNTIME, NULL, "%s: the rules called (exit %d)", path, lo.exit_code);
    if (st == PK_STATUS_FAILED) pko_throw_at(PK_STATUS_RUNTIME, NULL, "%s: a test in the rules failed", path);
    if (st != PK_STATUS_OK) {
      char msg[sizeof pko_err.msg];
      memcpy(msg, pko_err.msg, sizeof msg);
      pko_throw_at(st, NULL, "%s", msg);
    }
  }
  pk_srcpos pos = { path ? path : "<rules>", 1, 1 };
  pk_val v = pko_as_sym(pko_sym(relation))->value;
  if (v == PK_UNBOUND)
    pko_throw_at(PK_STATUS_STATIC, &pos, "relation %s is not defined%s%s", relation, path ? " by " : "",
                 path ? path : "");
  if (!pkbt_two_args(v, &pos)) pko_throw_at(PK_STATUS_STATIC, &pos, "%s is not a two-argument relation", relation);
  return v;
}
