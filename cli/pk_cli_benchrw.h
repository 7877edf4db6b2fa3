/*
** pk_cli_benchrw.h — the rewriting entries of `pkanren bench`
** (bench/rewrites/NAME.bench, SPEC §8): declarations, generated inputs,
** runs of `pkanren rewrite` (or `run`) and of a peer, their table.
*/
#ifndef PK_CLI_BENCHRW_H
#define PK_CLI_BENCHRW_H
#include "pk_cli_bench.h"

#include <stdint.h>

#define PKCLI_BENCHRW_MAX 8

/* One NAME.bench: its `;;! key: value` lines (bench/README.md). */
typedef struct pkcli_benchrw_entry {
  char *name, *about, *here;     /* here: the directory of the .bench file */
  char *gen[PKCLI_BENCHRW_MAX];  /* shell commands making the inputs */
  char *pk[PKCLI_BENCHRW_MAX];   /* `rewrite ...` or `run FILE` */
  char *goal[PKCLI_BENCHRW_MAX]; /* printed under the rows */
  int ngen, npk, ngoal;
  char *peer;     /* shell command printing a `peer NAME: ...` line, or NULL */
  unsigned exits; /* the exit statuses of pkanren that count as ok, a bit each (0..31) */
  bool rerun, def;
  bool versus_whole; /* `versus: whole`: a run's in-process time against the peer's whole process */
  char *skip;        /* why it cannot run, or NULL */
  uint64_t key;      /* the hash of its generators, naming its cached inputs */
} pkcli_benchrw_entry;

/* What the entries' runs came to. */
typedef struct pkcli_benchrw_tally {
  int failed, mismatch, skipped;
} pkcli_benchrw_tally;

/* The entries of dir (NAME.bench), sorted by name, with what they lack
   (a generator under bench missing); NULL with *n = 0 when dir cannot be
   read. */
pkcli_benchrw_entry *pkcli_benchrw_discover(const char *dir, const char *bench, int *n);
void pkcli_benchrw_free(pkcli_benchrw_entry *v, int n);
/* --list: one line per entry. */
void pkcli_benchrw_list(const pkcli_benchrw_entry *v, int n);
/* The rewriting table's header. */
void pkcli_benchrw_header(void);
/* Entry e: its inputs (generated into cache, or reused from there), its
   runs at every worker count alternating with its peer's, its rows, the
   ratios against the peer, its --json records. */
void pkcli_benchrw_run(const pkcli_benchrw_entry *e, const char *bench, const char *cache, const pkcli_bench_env *env,
                       pkcli_benchrw_tally *t);

#endif
