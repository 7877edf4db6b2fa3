/*
** fuzz_common.h — the engine shared by the libFuzzer targets: made once,
** output to /dev/null, a 256 MB heap (out of memory is then an error the
** engine reports, not the fuzzer's RSS limit) and a CPU-time bound per input.
*/
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include "pkanren.h"
#include <gc/gc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* SIGPROF after the per-input CPU budget: interrupt the running program. */
static void fuzz_on_prof(int sig)
{
  (void)sig;
  pk_interrupt();
}

/* The one engine, made on the first input. */
static inline pk_engine *fuzz_engine(void)
{
  static pk_engine *e;
  if (e) return e;
  e = pk_engine_new();
  if (!e) abort();
  pk_set_output(e, fopen("/dev/null", "w"));
  GC_set_max_heap_size((size_t)256 << 20);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fuzz_on_prof;
  sigaction(SIGPROF, &sa, NULL);
  return e;
}

/* Arm (ms > 0) or disarm (0) the CPU-time bound of one input. */
static inline void fuzz_bound(long ms)
{
  struct itimerval t;
  memset(&t, 0, sizeof t);
  t.it_value.tv_sec = ms / 1000;
  t.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_PROF, &t, NULL);
}
#endif
