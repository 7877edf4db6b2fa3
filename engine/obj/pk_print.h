/*
** pk_print.h — the printer: values to text as Chez Scheme's write and
** display print them, and as JSON.
**
** Iterative (explicit stack): 1,000,000-deep terms print in constant C stack.
** Byte-for-byte Chez Scheme 9.5:
**  - write: strings quoted with escapes (\" \\ \n \t \r \a \b \v \f, other
**    control characters and U+0085/U+2028 as \xHEX;), chars as #\a #\space
**    #\newline #\alarm #\delete #\x1F, symbols with \xHEX; escapes where
**    Chez needs them (a\x20;b, \x31;+, || for the empty symbol).
**  - write does NOT abbreviate (quote x): Chez 9.5 writes (quote x).
**    display does: 'x `x ,x ,@x (and #'x #`x #,x #,@x) for a two-element
**    list headed by the interned symbol.  (Chez's REPL pretty-printer also
**    abbreviates, and breaks long lines; neither is done here.)
**  - flonums in Chez's shortest round-trip form (1.0, 0.1, 100.0, 1e21,
**    1e-7, 1.2345e-7, +inf.0, -inf.0, +nan.0; subnormals with Chez's
**    precision suffix, 5e-324|1).
**  - vectors #(...), procedures #<procedure name> (pke_procname) or
**    #<procedure>; goals and other internal objects #<procedure>; #!eof.
**  - Not Chez (engine conventions): logic variables print as _.N (N the
**    variable id); void prints #<void>, as Chez writes it (the
**    REPL skips void results itself).
*/
#ifndef PK_PRINT_H
#define PK_PRINT_H
#include "pk_obj.h"
#include <stdio.h>

/* A growable byte buffer (malloc'd). */
typedef struct pkp_buf {
  char *s;
  size_t len, cap;
} pkp_buf;

void pkp_init(pkp_buf *b);
/* Room for extra more bytes (and the final NUL) without growing again: for
   a writer that knows roughly how much text is coming. */
void pkp_reserve(pkp_buf *b, size_t extra);
void pkp_free(pkp_buf *b);
/* Write the text to f; an empty buffer (no text allocated) writes nothing. */
void pkp_fwrite(const pkp_buf *b, FILE *f);
void pkp_putc(pkp_buf *b, char c);
void pkp_puts(pkp_buf *b, const char *s, size_t n);
void pkp_printf(pkp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* PKP_WRITEQ: write, but with display's quote abbreviations ('x), which is
   how Chez's REPL (pretty-print) shows a value that fits on one line. */
enum { PKP_WRITE = 0, PKP_DISPLAY = 1, PKP_WRITEQ = 2 };
/* Append v as write, display or PKP_WRITEQ would print it. */
void pkp_print(pkp_buf *b, pk_val v, int mode);
/* Append v as lossless JSON (SPEC §6), compact: a proper list is an
   array, an improper one nested {"pair":[car,cdr]}; strings, integers,
   floats (always with . or an exponent), #t/#f as themselves; {"sym":"a"},
   {"var":N} (the reified _.N), {"char":"c"}, {"vector":[...]},
   {"ratio":[n,d]}, {"float":"nan"|"inf"|"-inf"},
   {"tensor":{"shape":[...],"data":[...]}}, an answer with constraints
   (pko_cons_answer) {"answer":TERM,"constraints":{"=/=":[...],...}}, and
   anything else {"other":"#<procedure f>"}.  A symbol spelled _.N is
   taken for a reified variable: a program's own symbol of that spelling
   is indistinguishable, as it is in faster-miniKanren's printed answers. */
void pkp_json(pkp_buf *b, pk_val v);
/* Convenience: a malloc'd NUL-terminated string of v written. */
char *pkp_tostring(pk_val v, int mode);
/* The name of closure f for #<procedure name>, or NULL: the language's,
   set once at start (the printer sits below it). */
extern const char *(*pkp_procname)(pk_val f);
/* Chez's text for a flonum into buf (at least 32 bytes). */
void pkp_flonum(char *buf, double d);

#endif
