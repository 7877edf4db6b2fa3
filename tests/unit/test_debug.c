/*
** test_debug.c — the PK_DEBUG checks: pko_assert aborts with a message
** naming the check at PK_DEBUG >= 1, and costs nothing (never evaluates
** its condition) at 0.  The sanitizer build runs with PK_DEBUG=1.
*/
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pk_obj.h"

static int evaluated;

static bool pkt_false(void)
{
  evaluated++;
  return false;
}

/* A failing check kills the process with SIGABRT at PK_DEBUG >= 1; at 0
   the condition is not even evaluated. */
static void test_assert_fails(void **state)
{
  (void)state;
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    pko_assert(pkt_false());
    _exit(evaluated == 0 ? 0 : 1);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  if (PK_DEBUG) {
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
  } else {
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
  }
}

/* A passing check does nothing, whatever the level. */
static void test_assert_passes(void **state)
{
  (void)state;
  pko_assert(1 + 1 == 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_assert_fails),
    cmocka_unit_test(test_assert_passes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
