#include "broker/store/redis_event_log.h"

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/status_macros.h"
#include "broker/store/redis_keys.h"
#include "google/protobuf/io/coded_stream.h"

namespace slussen::store {
namespace {

// The events of a stream entry's fields: its `event` (one), or its
// `events` (a batch of clock steps fired together: each event as protobuf
// lays out an element of a repeated message field 1). nullopt when it has
// neither or one does not parse.
std::optional<std::vector<slussen::v1::Event>> EntryEvents(
    const std::vector<RedisValue>& fields) {
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& value = fields[i + 1].str;
    if (fields[i].str == "event") {
      std::vector<slussen::v1::Event> out(1);
      if (!out[0].ParseFromString(value)) return std::nullopt;
      return out;
    }
    if (fields[i].str != "events") continue;
    std::vector<slussen::v1::Event> out;
    google::protobuf::io::CodedInputStream in(
        reinterpret_cast<const uint8_t*>(value.data()),
        static_cast<int>(value.size()));
    while (!in.ExpectAtEnd()) {
      uint32_t length = 0;
      std::string bytes;
      if (in.ReadTag() != 0x0A || !in.ReadVarint32(&length) ||
          !in.ReadString(&bytes, static_cast<int>(length)) ||
          !out.emplace_back().ParseFromString(bytes)) {
        return std::nullopt;
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::vector<core::LoggedEvent>> RedisEventLog::ReadAfter(
    const std::string& region, const std::string& position, int limit) {
  // "<entry>.<k>": the entry holds more events after its k-th; "<entry>":
  // all of it has been read.
  const std::vector<std::string> entry_index =
      absl::StrSplit(position, absl::MaxSplits('.', 1));
  const std::string& entry = entry_index[0];
  int after_index = -1;
  if (entry_index.size() == 2 &&
      !absl::SimpleAtoi(entry_index[1], &after_index)) {
    return absl::InvalidArgumentError(
        absl::StrCat("event position ", position, " is not one of a stream"));
  }
  std::string from = "-";
  if (after_index >= 0) {
    from = entry;
  } else if (!entry.empty() && entry != "0-0") {
    from = absl::StrCat("(", entry);
  }
  ASSIGN_OR_RETURN(const RedisValue entries,
                   pool_->Command({"XRANGE", keys::Events(region), from, "+",
                                   "COUNT", absl::StrCat(limit)}));
  std::vector<core::LoggedEvent> out;
  for (const RedisValue& item : entries.elements) {
    if (item.elements.size() != 2) {
      return absl::InternalError("redis: unexpected stream entry");
    }
    const std::string& id = item.elements[0].str;
    std::optional<std::vector<slussen::v1::Event>> events =
        EntryEvents(item.elements[1].elements);
    if (!events.has_value()) {
      return absl::DataLossError(
          absl::StrCat("event ", id, " of region ", region, " is unreadable"));
    }
    const int first = id == entry ? after_index + 1 : 0;
    const int count = static_cast<int>(events->size());
    for (int k = first; k < count; ++k) {
      if (static_cast<int>(out.size()) == limit) return out;
      core::LoggedEvent logged{
          .region = region,
          .position = k + 1 == count ? id : absl::StrCat(id, ".", k),
          .event = std::move((*events)[k])};
      logged.event.set_name(
          absl::StrCat("regions/", region, "/events/", logged.position));
      out.push_back(std::move(logged));
    }
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
