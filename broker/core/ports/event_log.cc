#include "broker/core/ports/event_log.h"

#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"

namespace slussen::core {
namespace {

// A position as (ms, seq, index), an entry's own position last of it.
std::tuple<uint64_t, uint64_t, uint64_t> PositionKey(
    absl::string_view position) {
  uint64_t ms = 0, seq = 0;
  uint64_t index = std::numeric_limits<uint64_t>::max();
  const std::vector<absl::string_view> entry_index =
      absl::StrSplit(position, absl::MaxSplits('.', 1));
  const std::vector<absl::string_view> parts =
      absl::StrSplit(entry_index[0], absl::MaxSplits('-', 1));
  if (parts.size() == 2) {
    (void)absl::SimpleAtoi(parts[0], &ms);
    (void)absl::SimpleAtoi(parts[1], &seq);
  }
  if (entry_index.size() == 2) (void)absl::SimpleAtoi(entry_index[1], &index);
  return {ms, seq, index};
}

}  // namespace

absl::StatusOr<bool> EventLog::AppendOnce(const std::string& region,
                                          const std::string& once,
                                          const slussen::v1::Event& event,
                                          absl::Duration keep) {
  return absl::UnimplementedError("this event log is read-only");
}

absl::StatusOr<int64_t> EventLog::RemoveBefore(const std::string& region,
                                               absl::Time cutoff) {
  return absl::UnimplementedError("this event log is read-only");
}

absl::StatusOr<std::string> EventLog::RemovedBefore(const std::string& region) {
  return std::string();
}

absl::StatusOr<std::map<std::string, std::vector<LoggedEvent>>>
EventLog::ReadAfterEach(const std::map<std::string, std::string>& positions,
                        int limit, absl::Duration /*wait*/) {
  std::map<std::string, std::vector<LoggedEvent>> out;
  for (const auto& [region, position] : positions) {
    absl::StatusOr<std::vector<LoggedEvent>> events =
        ReadAfter(region, position, std::numeric_limits<int>::max());
    if (!events.ok()) return events.status();
    if (events->empty()) continue;
    // Whole entries: up to the `limit`-th entry's last event.
    std::vector<LoggedEvent>& kept = out[region];
    int entries = 0;
    for (LoggedEvent& logged : *events) {
      kept.push_back(std::move(logged));
      if (kept.back().position.find('.') == std::string::npos &&
          ++entries == limit) {
        break;
      }
    }
  }
  return out;
}

int CompareStreamPositions(absl::string_view a, absl::string_view b) {
  const auto ka = a.empty() ? PositionKey("0-0") : PositionKey(a);
  const auto kb = b.empty() ? PositionKey("0-0") : PositionKey(b);
  return ka < kb ? -1 : (kb < ka ? 1 : 0);
}

bool IsStreamPosition(absl::string_view position) {
  const std::vector<absl::string_view> entry_index =
      absl::StrSplit(position, absl::MaxSplits('.', 1));
  const std::vector<absl::string_view> parts =
      absl::StrSplit(entry_index[0], '-');
  if (parts.size() != 2) return false;
  const auto is_number = [](absl::string_view part, size_t digits) {
    if (part.empty() || part.size() > digits) return false;
    for (char c : part) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  return is_number(parts[0], 20) && is_number(parts[1], 20) &&
         (entry_index.size() == 1 || is_number(entry_index[1], 6));
}

std::string EncodeWatchPositions(
    const std::map<std::string, std::string>& positions) {
  return absl::StrJoin(positions, ",", absl::PairFormatter("="));
}

absl::StatusOr<std::map<std::string, std::string>> DecodeWatchPositions(
    absl::string_view field, absl::string_view token) {
  std::map<std::string, std::string> positions;
  if (token.empty()) return positions;
  // 21 regions at "rr=<20 digits>-<20 digits>.<6 digits>" each fit.
  if (token.size() > 1200) {
    return InvalidField(field,
                        "is not a resume token this broker gave (at most "
                        "1200 characters)",
                        token);
  }
  for (absl::string_view item : absl::StrSplit(token, ',')) {
    const std::vector<absl::string_view> pair = absl::StrSplit(item, '=');
    if (pair.size() != 2 || !IsRegionCode(pair[0]) ||
        !IsStreamPosition(pair[1]) ||
        !positions.emplace(std::string(pair[0]), std::string(pair[1])).second) {
      return InvalidField(field,
                          "is not a resume token this broker gave (give back "
                          "the resume_token of the last event received)",
                          token);
    }
  }
  return positions;
}

}  // namespace slussen::core
