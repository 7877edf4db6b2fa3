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
** PK_T_TENSOR atoms).
** Errors throw PK_STATUS_STATIC with "file:line:col: message".
**
** Details (Chez Scheme 9.5 is the reference):
**  - Numbers: [+-]digits is an integer (beyond int64: "integer literal too
**    large (no bignums)"); [+-]digits/digits (any radix) is an exact
**    ratio in lowest terms ("cannot represent 1/0" for a zero denominator); a decimal with a point and/or an exponent
**    (e E, and Chez's s f d l) is a flonum (1. .5 1e3 1d3); #x #o #b #d
**    prefix integers.  Any other token is a symbol, as in Chez: 1+, 1a, -x.
**  - Symbols are case-sensitive; |a b| and a\x20;b and a\ b all name "a b";
**    inside bars every byte is literal.  A token ends at whitespace,
**    ( ) [ ] { } " ; # ' ` , or a control byte.
**  - Characters: #\a, any UTF-8 character, #\xHEX, and the names nul alarm
**    bel backspace tab newline linefeed vtab vt page return esc space delete
**    rubout nel ls.  Strings: \a \b \t \n \v \f \r \" \\ \xHEX; and
**    line continuation (\ blanks newline blanks); \0 is an error as in Chez.
**  - #[ ... ] reads as a tensor (pko_tensor): rows nested with [ ] or #[ ],
**    numbers at the innermost depth only, all rows of a depth the same
**    length: #[[1 2] [3 4]] has shape (2 2).  int64 when every element is
**    an exact integer, else float64.  Errors: "ragged tensor literal: ..."
**    at the offending row or number, "tensor literal elements must be
**    numbers" at the element.
**  - #!eof reads as the eof object; #!r6rs and #!chezscheme are skipped; a
**    first line starting "#!/" or "#! " (script header) and a UTF-8 BOM are
**    skipped.  Text must be UTF-8; bad bytes are errors.
**  - Positions (1-based; columns count characters): the first pair of a
**    list or #[ form is at its open bracket, each later pair at the start of
**    its item; (quote x) from 'x is at the quote character, its inner pair
**    at x.  The table keeps recorded pairs alive until pkr_forget.
**  - Error positions: the offending token (a stray ) or dot, an extra item
**    after a dot, a bad # token or escape); for input that ends inside a
**    form, string or block comment, where that form opened.
*/
#ifndef PK_READ_H
#define PK_READ_H
#include "pk_obj.h"

typedef struct pkr_reader pkr_reader;

/* A reader over text (not copied; must outlive the reader).  file names
   the source in messages and positions. */
pkr_reader *pkr_open(const char *file, const char *text, size_t len);
/* pkr_open over r, a reader done with (its buffers kept: a reader takes
   8 KB); r NULL makes one that is never collected, for a caller that
   keeps it where the collector does not look (the model reader keeps one
   a thread). */
pkr_reader *pkr_reopen(pkr_reader *r, const char *file, const char *text, size_t len);
/* Read the next datum into *out.  Returns true, or false at end of input.
   Throws a static error on malformed input. */
bool pkr_next(pkr_reader *r, pk_val *out);
/* Tokens for a reader of another format on the same lexical syntax (the
   model reader, graph/pk_graph.c): the kind of the next token, its start in
   *pos; an atom (a tensor literal included, read whole) in *v; the bracket
   character of an open or close in *bracket.  PKR_LEX_OTHER is anything
   else (a quote character, #(, #;, a dot).  Throws lexical errors. */
enum { PKR_LEX_EOF, PKR_LEX_ATOM, PKR_LEX_OPEN, PKR_LEX_CLOSE, PKR_LEX_OTHER };
int pkr_lex(pkr_reader *r, pk_val *v, pk_srcpos *pos, int *bracket);
/* The offset, line and column of the next unread byte, and moving them:
   for a format reader that lexes its commonest tokens itself and hands the
   rest to pkr_lex (the bytes it skipped must be what line and col say). */
void pkr_cursor(const pkr_reader *r, size_t *i, int *line, int *col);
void pkr_seek(pkr_reader *r, size_t i, int line, int col);
/* Position of the reader's next unread character (for "unexpected EOF"). */
pk_srcpos pkr_here(const pkr_reader *r);

/* Source position of a pair produced by a reader (the position of its open
   parenthesis or quote character).  False if the pair was not read from
   source.  Thread-safe for readers; positions are kept while the pair is. */
bool pkr_pos(pk_val pair, pk_srcpos *out);
/* Record a position for a pair (used by macro expansion to carry the use
   site's position to the expanded form). */
void pkr_setpos(pk_val pair, const pk_srcpos *pos);

/* Drop the recorded positions of every pair of v, a datum from pkr_next,
   so the table stops keeping it alive (bulk jobs that read many files and
   are done with a datum).  Thread-safe. */
void pkr_forget(pk_val v);

/* Read a whole file into a NUL-terminated malloc'd buffer; NULL on error
   (errno set).  Out of memory is pko_oom's (a throw or the exit). */
char *pkr_slurp(const char *path, size_t *len);
/* pkr_slurp, and *st the file's status as it was opened (zeroed when
   fstat failed). */
struct stat;
char *pkr_slurp_stat(const char *path, size_t *len, struct stat *st);

#endif
