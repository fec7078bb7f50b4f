#include "broker/store/lua_line_map.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace slussen::store {
namespace {

// The name Redis gives every script it runs (Redis 7: "user_script:12:"
// before a Lua error, "on @user_script:12." after any error).
constexpr absl::string_view kScriptName = "user_script:";

}  // namespace

LuaLineMap::LuaLineMap(std::vector<Span> spans) : spans_(std::move(spans)) {}

std::optional<LuaLineMap::Place> LuaLineMap::Find(int script_line) const {
  // The last span starting at or before the line: maps are a few spans.
  const Span* found = nullptr;
  for (const Span& span : spans_) {
    if (span.first_line > script_line) break;
    found = &span;
  }
  if (found == nullptr) return std::nullopt;
  return Place{.file = found->file,
               .line = found->file_line + (script_line - found->first_line)};
}

std::string LuaLineMap::Apply(absl::string_view message) const {
  if (spans_.empty()) return std::string(message);
  std::string out;
  size_t from = 0;
  for (size_t at = message.find(kScriptName); at != absl::string_view::npos;
       at = message.find(kScriptName, at + 1)) {
    const size_t digits = at + kScriptName.size();
    size_t end = digits;
    while (end < message.size() && absl::ascii_isdigit(message[end])) ++end;
    int line = 0;
    if (end == digits || end - digits > 9 ||
        !absl::SimpleAtoi(message.substr(digits, end - digits), &line)) {
      continue;
    }
    const std::optional<Place> place = Find(line);
    if (!place.has_value()) continue;
    absl::StrAppend(&out, message.substr(from, at - from), place->file, ":",
                    place->line);
    from = end;
  }
  absl::StrAppend(&out, message.substr(from));
  return out;
}

}  // namespace slussen::store
