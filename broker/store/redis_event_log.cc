#include "broker/store/redis_event_log.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"
#include "broker/store/redis_change.h"
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

// Appends the events of the stream entry `item` ([id, fields]) to `out`,
// as far as `limit`: those after the `after_index`-th when the entry is
// `after_entry`, else all.
absl::Status AppendEntryEvents(const std::string& region,
                               const RedisValue& item,
                               const std::string& after_entry, int after_index,
                               size_t limit,
                               std::vector<core::LoggedEvent>& out) {
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
  const int first = id == after_entry ? after_index + 1 : 0;
  const int count = static_cast<int>(events->size());
  for (int k = first; k < count && out.size() < limit; ++k) {
    core::LoggedEvent logged{
        .region = region,
        .position = k + 1 == count ? id : absl::StrCat(id, ".", k),
        .event = std::move((*events)[k])};
    logged.event.set_name(
        absl::StrCat("regions/", region, "/events/", logged.position));
    out.push_back(std::move(logged));
  }
  return absl::OkStatus();
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
    RETURN_IF_ERROR(
        AppendEntryEvents(region, item, entry, after_index, limit, out));
    if (static_cast<int>(out.size()) == limit) return out;
  }
  return out;
}

RedisChange::Fields EventEntry(const slussen::v1::Event& event) {
  return {{"type", absl::StrCat(event.type())},
          {"event", event.SerializeAsString()}};
}

absl::StatusOr<bool> RedisEventLog::AppendOnce(const std::string& region,
                                               const std::string& once,
                                               const slussen::v1::Event& event,
                                               absl::Duration keep) {
  const std::string mark = keys::EventOnce(region, once);
  RedisChange change;
  change.IfExistsReturn(mark)
      .SetWithTtl(mark, "1", absl::ToInt64Milliseconds(keep))
      .XAdd(keys::Events(region), EventEntry(event));
  ASSIGN_OR_RETURN(const RedisChange::Result result, change.Apply(*pool_));
  return !result.existing.has_value();
}

absl::StatusOr<int64_t> RedisEventLog::RemoveBefore(const std::string& region,
                                                    absl::Time cutoff) {
  const int64_t ms = std::max<int64_t>(0, absl::ToUnixMillis(cutoff));
  ASSIGN_OR_RETURN(
      const RedisValue removed,
      pool_->Eval(lua::EventsRemoveBefore(),
                  {keys::Events(region), keys::EventsRemovedBefore(region)},
                  {absl::StrCat(ms, "-0")}));
  return removed.integer;
}

absl::StatusOr<std::string> RedisEventLog::RemovedBefore(
    const std::string& region) {
  ASSIGN_OR_RETURN(const RedisValue before,
                   pool_->Command({"GET", keys::EventsRemovedBefore(region)}));
  return before.is_nil() ? std::string() : before.str;
}

absl::StatusOr<std::string> RedisEventLog::LastPosition(
    const std::string& region) {
  // With the mark of the retention, in the same round trip: an empty
  // stream was never written, or had every entry removed, after which a
  // watch starts past the last one removed.
  ASSIGN_OR_RETURN(
      const std::vector<RedisValue> replies,
      pool_->Pipeline(
          {{"XREVRANGE", keys::Events(region), "+", "-", "COUNT", "1"},
           {"GET", keys::EventsRemovedBefore(region)}}));
  for (const RedisValue& reply : replies) {
    if (reply.type == RedisValue::Type::kError) {
      return StatusFromErrorReply(reply.str);
    }
  }
  const RedisValue& last = replies[0];
  if (!last.elements.empty()) return last.elements[0].elements[0].str;
  return replies[1].is_nil() ? std::string("0-0") : replies[1].str;
}

absl::StatusOr<std::map<std::string, std::vector<core::LoggedEvent>>>
RedisEventLog::ReadAfterEach(
    const std::map<std::string, std::string>& positions, int limit,
    absl::Duration wait) {
  std::map<std::string, std::vector<core::LoggedEvent>> out;
  if (positions.empty()) return out;
  for (const auto& [region, position] : positions) {
    if (!core::IsStreamPosition(position) ||
        position.find('.') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("event position ", position, " of region ", region,
                       " is not an entry's position"));
    }
  }
  // One stream of an XREAD reply: [key, [entry, ...]].
  const auto take = [&](const std::string& region,
                        const RedisValue& stream) -> absl::Status {
    if (stream.elements.size() != 2) {
      return absl::InternalError("redis: unexpected XREAD reply");
    }
    for (const RedisValue& item : stream.elements[1].elements) {
      RETURN_IF_ERROR(AppendEntryEvents(region, item, "", -1,
                                        std::numeric_limits<size_t>::max(),
                                        out[region]));
    }
    return absl::OkStatus();
  };
  const std::string count = absl::StrCat(limit);
  if (!pool_->options().cluster) {
    std::vector<std::string> argv = {"XREAD", "COUNT", count};
    // Within the command timeout, so that waiting is not taken for a
    // Redis that does not answer.
    const absl::Duration block =
        std::min(wait, pool_->options().command_timeout / 2);
    if (block > absl::ZeroDuration()) {
      argv.insert(argv.end(),
                  {"BLOCK", absl::StrCat(std::max<int64_t>(
                                1, absl::ToInt64Milliseconds(block)))});
    }
    argv.push_back("STREAMS");
    std::map<std::string, std::string> region_of;
    for (const auto& [region, position] : positions) {
      region_of[keys::Events(region)] = region;
      argv.push_back(keys::Events(region));
    }
    for (const auto& [region, position] : positions) argv.push_back(position);
    ASSIGN_OR_RETURN(const RedisValue reply, pool_->Command(argv));
    for (const RedisValue& stream : reply.elements) {
      const auto region = stream.elements.empty()
                              ? region_of.end()
                              : region_of.find(stream.elements[0].str);
      if (region == region_of.end()) {
        return absl::InternalError("redis: unexpected XREAD reply");
      }
      RETURN_IF_ERROR(take(region->second, stream));
    }
    return out;
  }
  std::vector<std::string> regions;
  std::vector<std::vector<std::string>> commands;
  for (const auto& [region, position] : positions) {
    regions.push_back(region);
    commands.push_back(
        {"XREAD", "COUNT", count, "STREAMS", keys::Events(region), position});
  }
  absl::StatusOr<std::vector<RedisValue>> replies = pool_->Pipeline(commands);
  if (!replies.ok()) {
    // A node is down: read the others one by one, so that its regions
    // alone wait.
    replies = std::vector<RedisValue>(commands.size());
    absl::Status last;
    int read = 0;
    for (size_t i = 0; i < commands.size(); ++i) {
      absl::StatusOr<RedisValue> reply = pool_->Command(commands[i]);
      if (!reply.ok()) {
        last = reply.status();
        continue;
      }
      (*replies)[i] = *std::move(reply);
      ++read;
    }
    if (read == 0) return last;
  }
  for (size_t i = 0; i < regions.size(); ++i) {
    const RedisValue& reply = (*replies)[i];
    if (reply.type == RedisValue::Type::kError) continue;  // its node's
    for (const RedisValue& stream : reply.elements) {
      RETURN_IF_ERROR(take(regions[i], stream));
    }
  }
  return out;
}

}  // namespace slussen::store
