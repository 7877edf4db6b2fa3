/*
** pk_graph.h — the model format (SPEC §4): .model text to hash-consed
** model terms, and model terms back to text.
**
** A model term is an ordinary, hash-consed (pk_hcons.h) list:
**   (model NAME INPUT ... DEFINE ... (output TERM ...))
**   INPUT  = (input NAME (tensor DTYPE SHAPE))  or  (input NAME (tensor DTYPE SHAPE) VALUE)
**   DEFINE = (define NAME NODE)
** in the file's order within each kind; several (output ...) forms of the
** file are one here.  Every name a define introduces is substituted in the
** terms after it, so a name used twice is one node; an input is the symbol
** NAME where it is used.  The DEFINE entries only remember the names, so
** that printing can keep them; relations and the rewriting driver work on
** the output terms (pkg_outputs).  Tensor literals are PK_T_TENSOR atoms.
**
** Checks while reading (each a static error "file:line:col: message",
** followed by "[model NAME; models read: ...]" once inside a model):
** the lexical errors of the program reader; a top-level form that is not
** (model NAME decl ...); an unknown declaration; a malformed input (type
** (tensor DTYPE SHAPE), DTYPE float64, int64 or bool, SHAPE a list of
** non-negative integers and symbols, a test value that is a number or
** tensor of that shape, a symbol dimension matching any size); a define
** whose name was used before it, or is defined (or declared) twice; a
** known random variable (the list of SPEC §4) with the wrong number of
** arguments, or observed without two; a model without outputs; two models
** of the same name; a file without models; bytes that are not UTF-8.
*/
#ifndef PK_GRAPH_H
#define PK_GRAPH_H
#include "pk_obj.h"
#include "pk_print.h"

/* The models of text (named file in messages), in order, as a proper
   list.  Throws PK_STATUS_STATIC errors.  Thread-safe. */
pk_val pkg_read_text(const char *file, const char *text, size_t len);
/* The same for a file; "cannot read PATH: reason" is thrown at from (the
   caller's position), or at PATH:1:1 when from is NULL. */
pk_val pkg_read_file(const char *path, const pk_srcpos *from);

/* Is m a model term as pkg_read_text makes them?  A walk over its
   top-level list. */
bool pkg_modelp(pk_val m);
/* The output terms (a list) and the name of a model (pkg_modelp). */
pk_val pkg_outputs(pk_val m);
pk_val pkg_name(pk_val m);

/* Append model m (pkg_modelp, its terms interned) in the model format:
   its inputs, then (define NAME NODE) for every compound node or tensor
   literal used more than once in the outputs and for every compound or
   tensor node the model's defines named, in the order depth-first
   left-to-right traversal of the outputs finishes them (so each define uses
   only names before it); a named node keeps its name, others are named _1,
   _2, ... (skipping names the model uses); then the outputs.  A known
   random variable's SIZE argument is a shape, never shared by a define.
   Reading the text back gives the same inputs and output nodes.
   Iterative; linear in the size of the graph. */
void pkg_print(pkp_buf *b, pk_val m);

/* The number of parameters of a known random variable's operator (a
   symbol of SPEC §4's list, e.g. 2 for NormalRV), or -1 for any other
   value. */
int pkg_rv_params(pk_val op);

/* Register read-models, model-outputs and write-model (called by
   pko_init). */
void pkg_init(void);

#endif
