// Where each line of a Redis Lua script came from, so that an error Redis
// reports at a line of the script it ran ("user_script:57") names the file
// and line a person can open instead ("broker/store/lua/change.lua:37").
//
// The store's scripts are files of broker/store/lua/ with shared helpers
// included in place at build time (cmake/embed_lua.cmake), which shifts
// their lines: the build records, with each script, the spans of its lines
// and the file line each span starts at, and RedisScript applies the map
// where an error reply of the script becomes a status (redis_client.cc).
//
//   LuaLineMap map({{1, "broker/store/lua/change.lua", 1},
//                   {20, "broker/store/lua/includes/clock_plan.lua", 1},
//                   {67, "broker/store/lua/change.lua", 21}});
//   map.Apply("ERR user_script:70: attempt to index a nil value");
//   // "ERR broker/store/lua/change.lua:24: attempt to index a nil value"
//
// Immutable after construction; thread-safe.
#ifndef SLUSSEN_BROKER_STORE_LUA_LINE_MAP_H_
#define SLUSSEN_BROKER_STORE_LUA_LINE_MAP_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace slussen::store {

class LuaLineMap {
 public:
  // Lines from `first_line` of the script (1-based) on, up to the next
  // span, are lines of `file` from `file_line` on.
  struct Span {
    int first_line = 1;
    std::string file;
    int file_line = 1;
  };
  // A line of a file.
  struct Place {
    std::string file;
    int line = 0;

    bool operator==(const Place&) const = default;
  };

  // No spans: Apply leaves every message as it is (a script not made from
  // files, as tests make them).
  LuaLineMap() = default;
  // `spans` in order of first_line, which must grow.
  explicit LuaLineMap(std::vector<Span> spans);

  // Where line `script_line` of the script came from; nullopt before the
  // first span. (The last span runs to the script's end.)
  std::optional<Place> Find(int script_line) const;

  // `message` (an error reply) with each "user_script:<N>" that Find maps
  // replaced by "<file>:<line>".
  std::string Apply(absl::string_view message) const;

  const std::vector<Span>& spans() const { return spans_; }

 private:
  std::vector<Span> spans_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_LUA_LINE_MAP_H_
