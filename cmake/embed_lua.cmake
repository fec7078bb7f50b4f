# The Redis Lua scripts of broker/store/lua/ as Redis runs them, run with
# `cmake -P`:
#
#   cmake -DSOURCE_DIR=<repo> -DOUT_HEADER=<.h> -DOUT_SOURCE=<.cc>
#         -P cmake/embed_lua.cmake
#     writes the C++ that embeds them (CMakeLists.txt, at build time): one
#     function a script, named for its file (fire_planned_steps.lua:
#     slussen::store::lua::FirePlannedSteps()), returning its RedisScript.
#   cmake -DSOURCE_DIR=<repo> -DOUT_DIR=<dir> -P cmake/embed_lua.cmake
#     writes each script as sent to Redis to <dir>/<name>.lua, and its line
#     map to <dir>/<name>.lines ("<first line> <file> <file line>" a span),
#     for the lua_syntax test, which checks them with luac5.1.
#
# A script is a file of broker/store/lua/ (not of its includes/); a line
# "-- @include includes/<file>.lua" in it is replaced by that file, which
# shares helpers among scripts (includes do not nest). Redis reports an
# error at a line of the script as sent ("user_script:57"), so each
# embedded script carries a line map, the spans of its lines and where they
# came from, by which RedisScript names the file and line instead
# (broker/store/lua_line_map.h).
cmake_minimum_required(VERSION 3.25)  # policies: quoted strings stay strings

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "embed_lua.cmake: SOURCE_DIR must be set")
endif()
if(NOT OUT_DIR AND NOT (OUT_HEADER AND OUT_SOURCE))
  message(FATAL_ERROR
          "embed_lua.cmake: OUT_DIR, or OUT_HEADER and OUT_SOURCE, must be set")
endif()
set(LUA_DIR "broker/store/lua")

# Splits `text` into lines: `out_var` gets how many, and <out_var>_<i> line
# i (1-based) without its newline. (Not a CMake list: Lua's ';' and '['
# would be taken for list syntax.)
function(split_lines text out_var)
  set(count 0)
  string(LENGTH "${text}" left)
  while(left GREATER 0)
    string(FIND "${text}" "\n" end)
    math(EXPR count "${count} + 1")
    if(end EQUAL -1)
      set(${out_var}_${count} "${text}" PARENT_SCOPE)
      set(text "")
    else()
      string(SUBSTRING "${text}" 0 ${end} line)
      set(${out_var}_${count} "${line}" PARENT_SCOPE)
      math(EXPR next "${end} + 1")
      string(SUBSTRING "${text}" ${next} -1 text)
    endif()
    string(LENGTH "${text}" left)
  endwhile()
  set(${out_var} ${count} PARENT_SCOPE)
endfunction()

# `name`.lua assembled: `out_text` the script, `out_spans` its line map as
# C++ initializers ({first line, "file", its line}, ...), `out_doc` its
# header comment (the comment lines it opens with) as C++ comments.
function(assemble name out_text out_spans out_doc)
  set(path "${LUA_DIR}/${name}.lua")
  file(READ "${SOURCE_DIR}/${path}" content)
  split_lines("${content}" line)
  if(line EQUAL 0)
    message(FATAL_ERROR "${path} is empty")
  endif()
  set(text "")
  set(spans "")
  set(doc "")
  set(in_doc TRUE)
  set(at 1)             # the line of the script being assembled
  set(continues FALSE)  # whether line `at` follows on from the span before
  foreach(i RANGE 1 ${line})
    set(l "${line_${i}}")
    if(in_doc AND l MATCHES "^--")
      string(REGEX REPLACE "^--" "//" comment "${l}")
      string(APPEND doc "${comment}\n")
    else()
      set(in_doc FALSE)
    endif()
    if(l MATCHES "^-- @include ([^ ]+)$")
      set(include "${LUA_DIR}/${CMAKE_MATCH_1}")
      if(NOT EXISTS "${SOURCE_DIR}/${include}")
        message(FATAL_ERROR "${path}:${i}: no such include: ${include}")
      endif()
      file(READ "${SOURCE_DIR}/${include}" included)
      split_lines("${included}" inc)
      if(inc EQUAL 0)
        message(FATAL_ERROR "${include} is empty")
      endif()
      foreach(k RANGE 1 ${inc})
        if("${inc_${k}}" MATCHES "^-- @include ")
          message(FATAL_ERROR "${include}:${k}: includes do not nest")
        endif()
        string(APPEND text "${inc_${k}}\n")
      endforeach()
      string(APPEND spans "{${at}, \"${include}\", 1}, ")
      math(EXPR at "${at} + ${inc}")
      set(continues FALSE)
      continue()
    endif()
    string(APPEND text "${l}\n")
    if(NOT continues)
      string(APPEND spans "{${at}, \"${path}\", ${i}}, ")
      set(continues TRUE)
    endif()
    math(EXPR at "${at} + 1")
  endforeach()
  string(FIND "${text}" ")lua\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${path}: holds )lua\", which ends the C++ raw string")
  endif()
  set(${out_text} "${text}" PARENT_SCOPE)
  set(${out_spans} "${spans}" PARENT_SCOPE)
  set(${out_doc} "${doc}" PARENT_SCOPE)
endfunction()

# snake_case to CamelCase: fire_planned_steps -> FirePlannedSteps.
function(camel_case name out_var)
  string(REPLACE "_" ";" words "${name}")
  set(out "")
  foreach(word IN LISTS words)
    string(SUBSTRING "${word}" 0 1 first)
    string(SUBSTRING "${word}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    string(APPEND out "${first}${rest}")
  endforeach()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

file(GLOB scripts RELATIVE "${SOURCE_DIR}/${LUA_DIR}"
     "${SOURCE_DIR}/${LUA_DIR}/*.lua")
list(SORT scripts)
if(NOT scripts)
  message(FATAL_ERROR "embed_lua.cmake: no scripts in ${SOURCE_DIR}/${LUA_DIR}")
endif()

# Written only when changed, so that an unchanged output rebuilds nothing.
function(write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

if(OUT_DIR)
  file(MAKE_DIRECTORY "${OUT_DIR}")
  foreach(script IN LISTS scripts)
    string(REGEX REPLACE "\\.lua$" "" name "${script}")
    assemble("${name}" text spans doc)
    write_if_changed("${OUT_DIR}/${name}.lua" "${text}")
    # The C++ initializers as lines: {1, "f.lua", 1}, -> 1 f.lua 1
    string(REGEX REPLACE "{([0-9]+), \"([^\"]+)\", ([0-9]+)}, " "\\1 \\2 \\3\n"
           lines "${spans}")
    write_if_changed("${OUT_DIR}/${name}.lines" "${lines}")
  endforeach()
  return()
endif()

set(notice "// Generated from ${LUA_DIR}/*.lua by cmake/embed_lua.cmake: do not
// edit. Edit the .lua files; the build makes this again.
")
set(header "${notice}//
// The Redis Lua scripts of the store, one function a file of ${LUA_DIR}/,
// each a RedisScript whose errors name that file and line. Thread-safe:
// each is made on first use and immutable.
#ifndef SLUSSEN_BROKER_STORE_LUA_SCRIPTS_H_
#define SLUSSEN_BROKER_STORE_LUA_SCRIPTS_H_

#include <vector>

#include \"broker/store/redis_client.h\"

namespace slussen::store::lua {
")
set(source "${notice}
#include \"broker/store/lua/scripts.h\"

namespace slussen::store::lua {
")
set(all "")
foreach(script IN LISTS scripts)
  string(REGEX REPLACE "\\.lua$" "" name "${script}")
  assemble("${name}" text spans doc)
  camel_case("${name}" function)
  string(APPEND all "      {\"${LUA_DIR}/${script}\", &${function}()},\n")
  string(APPEND header "
// ${LUA_DIR}/${script}:
${doc}const RedisScript& ${function}();
")
  string(APPEND source "
const RedisScript& ${function}() {
  static const RedisScript* const kScript = new RedisScript(R\"lua(${text})lua\",
      LuaLineMap({${spans}}));
  return *kScript;
}
")
endforeach()
string(APPEND header "
// Every script above with its file, in file name order (for tests).
struct EmbeddedScript {
  const char* file;
  const RedisScript* script;
};
std::vector<EmbeddedScript> All();

}  // namespace slussen::store::lua

#endif  // SLUSSEN_BROKER_STORE_LUA_SCRIPTS_H_
")
string(APPEND source "
std::vector<EmbeddedScript> All() {
  return {
${all}  };
}

}  // namespace slussen::store::lua
")
write_if_changed("${OUT_HEADER}" "${header}")
write_if_changed("${OUT_SOURCE}" "${source}")
