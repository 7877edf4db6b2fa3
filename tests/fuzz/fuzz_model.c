/* libFuzzer target: the model reader (graph/pk_graph.h) on any bytes, and
   the printer on what it accepts. */
#include "fuzz_common.h"
#include "pk_graph.h"
#include "pk_print.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  (void)fuzz_engine();
  pko_catch c;
  if (PKO_TRY(c)) {
    pk_val m = pkg_read_text("fuzz.model", (const char *)data, size);
    char *s = pkp_tostring(m, PKP_WRITE);
    free(s);
    PKO_END(c);
  }
  return 0;
}
