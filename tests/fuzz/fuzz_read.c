/* libFuzzer target: the program reader (and printer) through pk_parse on
   any bytes; every outcome but a crash is fine. */
#include "fuzz_common.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  pk_engine *e = fuzz_engine();
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  pk_term t;
  if (pk_parse(e, text, &t) == 0) (void)pk_is_pair(t);
  free(text);
  return 0;
}
