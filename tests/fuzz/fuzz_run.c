/* libFuzzer target: load and run a program with at most 2 s of CPU time
   (then pk_interrupt) on a 256 MB heap; errors are fine, crashes are not. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  pk_engine *e = fuzz_engine();
  fuzz_bound(2000);
  (void)pk_load_string(e, "fuzz.scm", (const char *)data, size);
  fuzz_bound(0);
  return 0;
}
