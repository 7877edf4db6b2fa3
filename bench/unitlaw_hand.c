/*
** unitlaw_hand.c — a hand-written C normaliser of the six unit laws, the
** yardstick issue 12 names for the rewriting phase of unitlaw-1m: the
** model's output term as a plain tree (no hash-consing), normalised
** bottom up in one pass, in place, with no allocation.
**
**   cmake --build build --target bench_unitlaw_hand
**   bench/gen_unitlaw.py > /tmp/unitlaw.model
**   build/bench/bench_unitlaw_hand /tmp/unitlaw.model
** Prints the parse time, the median of 5 normalisations of fresh copies,
** and the normal form's size (compare nodes_after of `pkanren rewrite`,
** which counts distinct lists).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A tree node: op 0 mul, 1 add; a leaf is a negative index: -1 is 0, -2
   is 1, -3 - k is xk. */
typedef struct node {
  int op, a, b;
} node;

static node *nodes;
static int nnodes;

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The term at *p: a node index or a leaf code. */
static int parse(const char **p)
{
  const char *s = *p;
  while (*s == ' ' || *s == '\n') s++;
  if (*s != '(') {
    int leaf = *s == '0' ? -1 : *s == '1' ? -2 : -3 - atoi(s + 1);
    while (*s != ' ' && *s != ')' && *s != '\n') s++;
    *p = s;
    return leaf;
  }
  int op = s[1] == 'm' ? 0 : 1;
  s += 4;
  int a = parse(&s), b = parse(&s);
  while (*s != ')') s++;
  *p = s + 1;
  nodes[nnodes] = (node){ op, a, b };
  return nnodes++;
}

/* The normal form of t (children first, then the laws at t). */
static int norm(int t)
{
  if (t < 0) return t;
  int a = norm(nodes[t].a), b = norm(nodes[t].b);
  if (nodes[t].op == 0) {
    if (a == -1 || b == -1) return -1;
    if (a == -2) return b;
    if (b == -2) return a;
  } else {
    if (a == -1) return b;
    if (b == -1) return a;
  }
  nodes[t].a = a;
  nodes[t].b = b;
  return t;
}

static int size(int t) { return t < 0 ? 1 : 1 + size(nodes[t].a) + size(nodes[t].b); }

static int cmp(const void *x, const void *y)
{
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.model\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)len + 1);
  if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) return 2;
  text[len] = 0;
  fclose(f);
  const char *p = strstr(text, "(output ");
  if (!p) return 2;
  p += 8;
  nodes = malloc(sizeof *nodes * (size_t)(len / 4 + 1));
  node *copy = malloc(sizeof *nodes * (size_t)(len / 4 + 1));
  double t0 = now();
  int root = parse(&p);
  double tp = now() - t0, runs[5];
  memcpy(copy, nodes, sizeof *nodes * (size_t)nnodes);
  int r = 0;
  for (int k = 0; k < 5; k++) {
    memcpy(nodes, copy, sizeof *nodes * (size_t)nnodes);
    t0 = now();
    r = norm(root);
    runs[k] = now() - t0;
  }
  qsort(runs, 5, sizeof *runs, cmp);
  printf("parse %.3f s, normalise %.4f s (median of 5), %d tree nodes -> %d\n", tp, runs[2], 2 * nnodes + 1, size(r));
  return 0;
}
