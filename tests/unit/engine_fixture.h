/*
** engine_fixture.h — the cmocka group fixture of the engine tests: one
** engine, E, with the test file's Scheme library LIB loaded.  Include it
** after defining LIB (a C string); pass setup and teardown to
** cmocka_run_group_tests.
*/
#ifndef PK_ENGINE_FIXTURE_H
#define PK_ENGINE_FIXTURE_H

static pk_engine *E;

/* Make E and load LIB into it; nonzero fails the group. */
static int setup(void **state)
{
  (void)state;
  E = pk_engine_new();
  return E && pk_load_string(E, "lib", LIB, strlen(LIB)) == PK_OK ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  pk_engine_free(E);
  return 0;
}

#endif
