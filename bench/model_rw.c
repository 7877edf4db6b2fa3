/*
** model_rw.c — read a model file into hash-consed terms and print it back:
** the wall time of each phase, the interned nodes and their bytes.
**
**   cmake --build build --target bench_model_rw
**   bench/gen_unitlaw.py > /tmp/unitlaw.model
**   /usr/bin/time -v build/bench/bench_model_rw /tmp/unitlaw.model /tmp/out.model
** Prints wall and CPU seconds of read, print+write and both, distinct lists (term nodes),
** their bytes (32-byte nodes, tail pairs, table slots) and bytes per list; with no output file
** the text is printed into memory only.
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pk_graph.h"
#include "pk_hcons.h"

/* Seconds on a clock: wall (CLOCK_MONOTONIC) or the process's CPU time,
   which a machine shared with other jobs does not inflate. */
static double now(clockid_t id)
{
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s FILE.model [OUT.model]\n", argv[0]);
    return 2;
  }
  pko_set_markers(1);
  pko_init();
  pko_catch c;
  if (!PKO_TRY(c)) {
    fprintf(stderr, "%s\n", pko_err.msg);
    return pko_err.status;
  }
  double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  pk_val ms = pkg_read_file(argv[1], NULL);
  double t1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
  pkp_buf b;
  pkp_init(&b);
  for (pk_val m = ms; m != PK_NIL; m = pko_cdr(m)) pkg_print(&b, pko_car(m));
  if (argc == 3) {
    FILE *f = fopen(argv[2], "w");
    if (!f || fwrite(b.s, 1, b.len, f) != b.len || fclose(f) != 0) {
      perror(argv[2]);
      return 2;
    }
  }
  double t2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_PROCESS_CPUTIME_ID);
  PKO_END(c);
  pkh_stats s;
  pkh_get_stats(&s);
  printf("wall: read %.3f s, print+write %.3f s (%zu bytes), total %.3f s\n", t1 - t0, t2 - t1, b.len, t2 - t0);
  printf("cpu:  read %.3f s, print+write %.3f s, total %.3f s\n", c1 - c0, c2 - c1, c2 - c0);
  printf("interned: %zu lists (+%zu pairs), %zu atoms, %zu slots; %zu bytes = %.1f bytes per list\n", s.lists, s.cells,
         s.atoms, s.slots, s.bytes, (double)s.bytes / (double)(s.lists ? s.lists : 1));
  pkp_free(&b);
  return 0;
}
