#include "broker/store/redis_event_log.h"

#include "absl/strings/str_cat.h"
#include "broker/core/status_macros.h"
#include "broker/store/redis_keys.h"

namespace slussen::store {

absl::StatusOr<std::vector<core::LoggedEvent>> RedisEventLog::ReadAfter(
    const std::string& region, const std::string& position, int limit) {
  const std::string from =
      position.empty() || position == "0-0" ? "-" : absl::StrCat("(", position);
  ASSIGN_OR_RETURN(const RedisValue entries,
                   pool_->Command({"XRANGE", keys::Events(region), from, "+",
                                   "COUNT", absl::StrCat(limit)}));
  std::vector<core::LoggedEvent> out;
  for (const RedisValue& entry : entries.elements) {
    if (entry.elements.size() != 2) {
      return absl::InternalError("redis: unexpected stream entry");
    }
    core::LoggedEvent logged{.region = region,
                             .position = entry.elements[0].str};
    const std::vector<RedisValue>& fields = entry.elements[1].elements;
    bool found = false;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "event") continue;
      found = logged.event.ParseFromString(fields[i + 1].str);
    }
    if (!found) {
      return absl::DataLossError(absl::StrCat(
          "event ", logged.position, " of region ", region, " is unreadable"));
    }
    logged.event.set_name(
        absl::StrCat("regions/", region, "/events/", logged.position));
    out.push_back(std::move(logged));
  }
  return out;
}

absl::StatusOr<std::string> RedisEventLog::LastPosition(
    const std::string& region) {
  ASSIGN_OR_RETURN(const RedisValue last,
                   pool_->Command({"XREVRANGE", keys::Events(region), "+", "-",
                                   "COUNT", "1"}));
  if (last.elements.empty()) return std::string("0-0");
  return last.elements[0].elements[0].str;
}

}  // namespace slussen::store
