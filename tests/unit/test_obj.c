/*
** test_obj.c — unit tests for pk_obj's process helpers: the monotonic
** clock, the splitmix64 step and the one out-of-memory policy (a throw of
** the runtime error "out of memory" under a handler, else the message and
** exit status 3), for the C library's allocators and the collector's.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pk_obj.h"

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

/* The clock never goes back and counts nanoseconds (a 20 ms sleep shows
   as 20e6 or more). */
static void test_now_ns(void **state)
{
  (void)state;
  uint64_t a = pko_now_ns(), prev = a;
  for (int i = 0; i < 1000; i++) {
    uint64_t t = pko_now_ns();
    assert_true(t >= prev);
    prev = t;
  }
  usleep(20000);
  assert_true(pko_now_ns() - a >= 20000000u);
}

/* splitmix64's published stream for seed 0 (Vigna's reference code), and
   the state advancing by the golden-ratio increment. */
static void test_rand64(void **state)
{
  (void)state;
  uint64_t s = 0;
  assert_true(pko_rand64(&s) == 0xe220a8397b1dcdafull);
  assert_true(pko_rand64(&s) == 0x6e789e6aa1b965f4ull);
  assert_true(pko_rand64(&s) == 0x06c45d188009454full);
  assert_true(s == 3 * 0x9e3779b97f4a7c15ull);
}

/* fn() must throw the runtime error "out of memory" (status 3). */
static void expect_oom_throw(void (*fn)(void))
{
  pko_catch c;
  if (PKO_TRY(c)) {
    fn();
    PKO_END(c);
    fail_msg("no error");
  }
  assert_int_equal(pko_err.status, PK_STATUS_RUNTIME);
  assert_string_equal(pko_err.msg, "out of memory");
}

static void *volatile sink;

static void huge_malloc(void) { sink = pko_xmalloc(SIZE_MAX / 2); }
static void huge_calloc(void) { sink = pko_xcalloc(SIZE_MAX / 4, 4); }
static void huge_realloc(void)
{
  void *p = pko_xmalloc(16);
  sink = p;
  sink = pko_xrealloc(p, SIZE_MAX / 2);
}
static void huge_gc(void) { sink = GC_MALLOC(SIZE_MAX / 2); }
static void huge_gc_atomic(void) { sink = pko_alloc_atomic(SIZE_MAX / 2); }

/* Under a handler every allocator throws, the collector's hook too, and
   the thread goes on allocating afterwards. */
static void test_oom_throws(void **state)
{
  (void)state;
  expect_oom_throw(huge_malloc);
  expect_oom_throw(huge_calloc);
  expect_oom_throw(huge_realloc);
  expect_oom_throw(huge_gc);
  expect_oom_throw(huge_gc_atomic);
  char *s = pko_xstrdup("still here");
  assert_string_equal(s, "still here");
  free(s);
  assert_non_null(pko_xmalloc(0));
}

/* Everything fd gives until end of file, NUL-terminated in buf[0..cap). */
static size_t read_all(int fd, char *buf, size_t cap)
{
  size_t n = 0;
  ssize_t k;
  while (n + 1 < cap && (k = read(fd, buf + n, cap - 1 - n)) > 0) n += (size_t)k;
  buf[n] = 0;
  return n;
}

/* In a child: fn with no handler, or with a handler but pko_oom_fatal set
   (a lock held); the child must print "pkanren: out of memory" on stderr
   and exit 3, having flushed what it wrote to stdout. */
static void expect_oom_exit(void (*fn)(void), bool handler)
{
  int err[2], out[2];
  assert_int_equal(pipe(err), 0);
  assert_int_equal(pipe(out), 0);
  fflush(stdout);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(err[1], 2);
    dup2(out[1], 1);
    printf("before"); /* buffered: a pipe is not a terminal */
    pko_catch c;
    if (handler) {
      if (!PKO_TRY(c)) _exit(10); /* a throw is the wrong answer here */
      pko_oom_fatal++;
    }
    fn();
    _exit(11);
  }
  close(err[1]);
  close(out[1]);
  char ebuf[1024] = "", obuf[256] = "";
  size_t ne = read_all(err[0], ebuf, sizeof ebuf), no = read_all(out[0], obuf, sizeof obuf);
  close(err[0]);
  close(out[0]);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 3);
  assert_true(ne > 0 && no > 0);
  assert_non_null(strstr(ebuf, "pkanren: out of memory\n"));
  assert_string_equal(obuf, "before");
}

static void test_oom_exits(void **state)
{
  (void)state;
  expect_oom_exit(huge_malloc, false);
  expect_oom_exit(huge_gc, false);
  expect_oom_exit(huge_malloc, true);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_now_ns),
    cmocka_unit_test(test_rand64),
    cmocka_unit_test(test_oom_throws),
    cmocka_unit_test(test_oom_exits),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
