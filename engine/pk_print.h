/*
** pk_print.h — the printer: values to text as Chez Scheme's write and
** display print them, and as JSON.
**
** Iterative (explicit stack): 1,000,000-deep terms print in constant C stack.
** write: strings quoted with escapes, chars as #\a #\space #\newline,
** (quote x) as 'x, (quasiquote x) as `x, (unquote x) as ,x,
** (unquote-splicing x) as ,@x, flonums in Chez's shortest round-trip form
** (1.0, 0.1, 1e21, 1.2345e-7, +inf.0, -inf.0, +nan.0), vectors #(...),
** procedures #<procedure name>, logic variables _.N-style #<var N>,
** void prints nothing under display and write at top level (as Chez).
*/
#ifndef PK_PRINT_H
#define PK_PRINT_H
#include "pk_obj.h"

/* A growable byte buffer (malloc'd). */
typedef struct pkp_buf { char *s; size_t len, cap; } pkp_buf;

void pkp_init(pkp_buf *b);
void pkp_free(pkp_buf *b);
void pkp_putc(pkp_buf *b, char c);
void pkp_puts(pkp_buf *b, const char *s, size_t n);
void pkp_printf(pkp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum { PKP_WRITE = 0, PKP_DISPLAY = 1 };
/* Append v as write or display would print it. */
void pkp_print(pkp_buf *b, pk_val v, int mode);
/* Append v as JSON: lists as arrays, symbols and strings as strings,
   numbers as numbers, #t/#f as true/false, logic variables and reified
   variable symbols as "_.N", other values as their written string. */
void pkp_json(pkp_buf *b, pk_val v);
/* Convenience: a malloc'd NUL-terminated string of v written. */
char *pkp_tostring(pk_val v, int mode);
/* Chez's text for a flonum into buf (at least 32 bytes). */
void pkp_flonum(char *buf, double d);

#endif
