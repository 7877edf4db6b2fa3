/*
** pk_read.h — the reader: Scheme text to data, with source positions.
**
** Iterative (an explicit stack, no C recursion), so 1,000,000-deep nesting
** reads in constant C stack.  Accepts ( ) [ ], ' ` , ,@ quote forms, ; line
** comments, #; datum comments, #| |# nested block comments, #t #f #true
** #false, #\a #\space #\newline #\x41 characters, strings with escapes
** (\n \t \\ \" \x41;), integers (fixnum or int64; larger is an error),
** decimals and exponents as flonums, +inf.0 -inf.0 +nan.0, symbols (Chez
** rules; |sym| bars), vectors #( ... ), and #[ ... ] tensor literals (read as
** the list (tensor-literal ...)).
** Errors throw PK_STATUS_STATIC with "file:line:col: message".
*/
#ifndef PK_READ_H
#define PK_READ_H
#include "pk_obj.h"

typedef struct pkr_reader pkr_reader;

/* A reader over text (not copied; must outlive the reader).  file names
   the source in messages and positions. */
pkr_reader *pkr_open(const char *file, const char *text, size_t len);
/* Read the next datum into *out.  Returns true, or false at end of input.
   Throws a static error on malformed input. */
bool pkr_next(pkr_reader *r, pk_val *out);
/* Position of the reader's next unread character (for "unexpected EOF"). */
pk_srcpos pkr_here(const pkr_reader *r);

/* Source position of a pair produced by a reader (the position of its open
   parenthesis or quote character).  False if the pair was not read from
   source.  Thread-safe for readers; positions are kept while the pair is. */
bool pkr_pos(pk_val pair, pk_srcpos *out);
/* Record a position for a pair (used by macro expansion to carry the use
   site's position to the expanded form). */
void pkr_setpos(pk_val pair, const pk_srcpos *pos);

/* Read a whole file into a NUL-terminated malloc'd buffer; NULL on error
   (errno set). */
char *pkr_slurp(const char *path, size_t *len);

#endif
