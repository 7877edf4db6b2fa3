/*
** pk_batch.h — rewriting models in bulk (`pkanren rewrite`, SPEC §6):
** rules files and their relation, input discovery, the summary and resume,
** atomic outputs, per-model limits.  And the rules loading that the C API's
** pk_rewrite_model shares with it.
*/
#ifndef PK_BATCH_H
#define PK_BATCH_H
#include "pk_obj.h"
#include "pk_rewrite.h"
#include <stdio.h>

/* The default step limit of a model (queries of the relation). */
#define PKBT_DEFAULT_STEPS 100000000ull

/* The file a rules argument names: rules itself when it is a readable
   file, else the library relations/RULES.scm of the source tree, then of
   the installed share/pkanren (beside the binary, then the configured
   prefix).  Malloc'd; rules itself (copied) when nothing is found. */
char *pkbt_rules_path(const char *rules);
/* Load the rules file (path from pkbt_rules_path) and return relation's
   value, checked to be a procedure of two arguments.  Throws the loader's
   errors (static: status 2), and static errors "FILE:1:1: relation NAME is
   not defined" / "...: NAME is not a two-argument relation" (at its
   lambda when it is one).  path NULL: no loading, only the check. */
pk_val pkbt_load_rules(const char *path, const char *relation);
/* "walko" or "non_obs_walko" into *w; false for anything else. */
bool pkbt_walker(const char *name, pkrw_walker *w);

/* A batch's settings (the command's options). */
typedef struct pkbt_opts {
  const char *rules, *relation, *walker;
  const char **inputs; /* files, directories, "-" */
  size_t ninputs;
  const char *files_from; /* or NULL */
  const char *outdir;     /* default "rewritten" */
  long shard_i, shard_n;  /* 1-based I of N; N = 0: no sharding */
  uint64_t max_steps;     /* per model; 0: PKBT_DEFAULT_STEPS */
  double timeout_model;   /* seconds per model; 0: none */
  uint64_t max_memory;    /* bytes a model may add to those in use; 0: none */
  double timeout;         /* seconds for the batch; 0: none */
  bool retry_failed, stats, progress;
  int workers; /* files rewritten at once (-j); the pool must be configured for as many */
} pkbt_opts;

/* Run a batch; returns the exit status (0, 1 some model failed, 2 usage
   or static input (rules, relation, output directory), 3 runtime, 130
   interrupted).  Messages go to stderr. */
int pkbt_run(const pkbt_opts *o);

#endif
