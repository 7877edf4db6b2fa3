# CheckInstall.cmake — the `install.pkgconfig` ctest test.
#   cmake -DPK_BUILD_DIR=... -DPK_PREFIX=... -DPK_CC=... -DPK_PKG_CONFIG=...
#         -DPK_VERSION=... -DPK_EXPECT_CLI=0|1 -DPK_LIBDIR=lib -P CheckInstall.cmake
# 1. `cmake --install PK_BUILD_DIR --prefix PK_PREFIX` (a scratch prefix);
# 2. checks the installed files;
# 3. compiles a program that runs a query with the flags `pkg-config
#    pkanren` gives, against libpkanren.so and against libpkanren.a
#    (`pkg-config --static`), and runs both with no LD_LIBRARY_PATH (the
#    .pc's rpath finds the installed libpkanren.so);
# 4. runs the installed `pkanren --version`.
cmake_minimum_required(VERSION 3.20)

function(pk_run what)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "${what} failed (${rc}):\n  ${cmd}\n${out}${err}")
  endif()
  set(PK_OUT "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${PK_PREFIX}")
pk_run("cmake --install" "${CMAKE_COMMAND}" --install "${PK_BUILD_DIR}" --prefix "${PK_PREFIX}")

set(lib "${PK_PREFIX}/${PK_LIBDIR}")
set(expected
  "${lib}/libpkanren.a" "${lib}/libpkanren.so" "${lib}/pkgconfig/pkanren.pc"
  "${PK_PREFIX}/include/pkanren.h")
if(PK_EXPECT_CLI)
  list(APPEND expected "${PK_PREFIX}/bin/pkanren")
endif()
foreach(f IN LISTS expected)
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
  message(STATUS "installed: ${f}")
endforeach()

set(ENV{PKG_CONFIG_PATH} "${lib}/pkgconfig")
pk_run("pkg-config --modversion" "${PK_PKG_CONFIG}" --modversion pkanren)
string(STRIP "${PK_OUT}" modversion)
if(NOT modversion STREQUAL PK_VERSION)
  message(FATAL_ERROR "pkg-config says version '${modversion}', expected '${PK_VERSION}'")
endif()
pk_run("pkg-config --cflags" "${PK_PKG_CONFIG}" --cflags pkanren)
separate_arguments(cflags UNIX_COMMAND "${PK_OUT}")
pk_run("pkg-config --libs" "${PK_PKG_CONFIG}" --libs pkanren)
separate_arguments(libs UNIX_COMMAND "${PK_OUT}")
pk_run("pkg-config --static --libs" "${PK_PKG_CONFIG}" --static --libs pkanren)
separate_arguments(static_libs UNIX_COMMAND "${PK_OUT}")
# Same flags, but libpkanren.a by path instead of -lpkanren (which would
# pick the .so).
list(TRANSFORM static_libs REPLACE "^-lpkanren$" "${lib}/libpkanren.a")
message(STATUS "cflags: ${cflags}")
message(STATUS "libs: ${libs}")
message(STATUS "static libs: ${static_libs}")

set(work "${PK_PREFIX}/check")
file(MAKE_DIRECTORY "${work}")
file(WRITE "${work}/tiny.c" "/* compiled by cmake/CheckInstall.cmake */
#include <pkanren.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  const char *v = pk_version();
  printf(\"pk_version() = %s\\n\", v ? v : \"(null)\");
  pk_engine *e = pk_engine_new();
  pk_query *q;
  pk_term a;
  if (!e || pk_query_open(e, \"(run* (q) (== q '(1 2)))\", &q) != PK_OK || pk_query_next(q, &a) != 1) return 1;
  char *s = pk_to_string(a);
  printf(\"answer = %s\\n\", s);
  int ok = strcmp(s, \"(1 2)\") == 0 && pk_query_next(q, &a) == 0;
  free(s);
  pk_query_free(q);
  pk_engine_free(e);
  return ok && v && strstr(v, \"${PK_VERSION}\") ? 0 : 1;
}
")

unset(ENV{LD_LIBRARY_PATH})
pk_run("compile against libpkanren.so"
  "${PK_CC}" -std=c11 -Wall -Werror ${cflags} "${work}/tiny.c" -o "${work}/tiny_shared" ${libs})
pk_run("run tiny_shared (no LD_LIBRARY_PATH)" "${work}/tiny_shared")
message(STATUS "shared: ${PK_OUT}")
# The shared library must not resolve to some other libpkanren.so.
pk_run("ldd tiny_shared" ldd "${work}/tiny_shared")
if(NOT PK_OUT MATCHES "libpkanren\\.so[.0-9]* => ${lib}/")
  message(FATAL_ERROR "tiny_shared does not use ${lib}/libpkanren.so:\n${PK_OUT}")
endif()

pk_run("compile against libpkanren.a"
  "${PK_CC}" -std=c11 -Wall -Werror ${cflags} "${work}/tiny.c" -o "${work}/tiny_static" ${static_libs})
pk_run("run tiny_static" "${work}/tiny_static")
message(STATUS "static: ${PK_OUT}")

if(PK_EXPECT_CLI)
  pk_run("installed pkanren --version" "${PK_PREFIX}/bin/pkanren" --version)
  if(NOT PK_OUT MATCHES "${PK_VERSION}")
    message(FATAL_ERROR "installed pkanren --version printed: ${PK_OUT}")
  endif()
  message(STATUS "pkanren --version: ${PK_OUT}")
endif()
message(STATUS "install check passed")
