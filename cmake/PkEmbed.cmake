# PkEmbed.cmake — writes the text of a file into a C source as a byte array.
# Run as `cmake -DPK_IN=FILE -DPK_OUT=FILE.c -DPK_NAME=symbol -P`.
# Defines `const char NAME[]` (NUL-terminated) and `const size_t NAME_len`;
# the output is rewritten only when its contents change.
file(READ "${PK_IN}" _hex HEX)
string(LENGTH "${_hex}" _n)
math(EXPR _len "${_n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n  " _bytes "${_bytes}")
get_filename_component(_src "${PK_IN}" NAME)
set(_text "/* Generated from ${_src} by cmake/PkEmbed.cmake: do not edit. */\n#include <stddef.h>\nconst char ${PK_NAME}[] = {\n  ${_bytes}0x00\n};\nconst size_t ${PK_NAME}_len = ${_len};\n")
if(EXISTS "${PK_OUT}")
  file(READ "${PK_OUT}" _old)
  if(_old STREQUAL _text)
    return()
  endif()
endif()
file(WRITE "${PK_OUT}" "${_text}")
