// The events of each region, in order: what WatchEvents and ListEvents
// read. Every change of a referral, offer or clock appends its event in the
// same atomic step as the change (referral_repository.h); this is the
// reading side.
//
// A position is the event's place in its region's stream ("1767225600000-0"
// in Redis; an entry may hold several events, the clock steps one firing
// took: "1767225600000-0.3" is the fourth of its entry, and the entry's
// last has the entry's own position). Reading after a position never skips
// or repeats an event, also across broker restarts.
//
// Thread-safe implementations.
#ifndef SLUSSEN_BROKER_CORE_PORTS_EVENT_LOG_H_
#define SLUSSEN_BROKER_CORE_PORTS_EVENT_LOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "slussen/v1/event.pb.h"

namespace slussen::core {

struct LoggedEvent {
  std::string region;
  std::string position;
  // With its name, "regions/{region}/events/{position}".
  slussen::v1::Event event;
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Up to `limit` events of `region` after `position` ("" or "0-0": from
  // the oldest kept), oldest first.
  virtual absl::StatusOr<std::vector<LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position, int limit) = 0;

  // The position of the newest event of `region`; when it has none, the
  // last one the retention removed (RemovedBefore), "0-0" if none was.
  virtual absl::StatusOr<std::string> LastPosition(
      const std::string& region) = 0;

  // For one reader of several regions (service/event_feed.h): the events
  // of the entries after each region's entry position ("<ms>-<seq>" or
  // "0-0", never with an index), at most `limit` entries each and always
  // whole entries; regions with none are left out. An implementation that
  // CanWait waits up to `wait` for the first event when there is none yet;
  // the others answer at once. This one reads each region with ReadAfter.
  virtual absl::StatusOr<std::map<std::string, std::vector<LoggedEvent>>>
  ReadAfterEach(const std::map<std::string, std::string>& positions, int limit,
                absl::Duration wait);
  virtual bool CanWait() const { return false; }

  // Appends `event`, which concerns no referral (a queue's forecast
  // warning), to `region`'s stream, unless an event was appended under
  // `once` in the last `keep`: several replicas may decide the same thing,
  // and it is told once. True when this call appended it. UNIMPLEMENTED
  // where the log is read-only.
  virtual absl::StatusOr<bool> AppendOnce(const std::string& region,
                                          const std::string& once,
                                          const slussen::v1::Event& event,
                                          absl::Duration keep);

  // Retention: removes `region`'s events from before `cutoff`; how many.
  // UNIMPLEMENTED where the log is read-only.
  virtual absl::StatusOr<int64_t> RemoveBefore(const std::string& region,
                                               absl::Time cutoff);
  // The position of the last event of `region` removed ("" while none
  // was): a reader resuming from before it has missed events, one resuming
  // from it or later has not.
  virtual absl::StatusOr<std::string> RemovedBefore(const std::string& region);
};

// Whether `position` has the form of a stream position: "<ms>-<seq>",
// perhaps followed by ".<index>" (at most six digits).
bool IsStreamPosition(absl::string_view position);

// Orders two positions as their events are ordered: <0, 0 or >0. "" is
// "0-0", before every event; an entry's own position is after those of its
// events with an index. Both must have the form of IsStreamPosition (or
// be empty).
int CompareStreamPositions(absl::string_view a, absl::string_view b);

// A watcher's place in several regions' streams, as an opaque token:
// "13=1767225600000-0,19=0-0". Positions are checked for their form.
std::string EncodeWatchPositions(
    const std::map<std::string, std::string>& positions);
absl::StatusOr<std::map<std::string, std::string>> DecodeWatchPositions(
    absl::string_view field, absl::string_view token);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_EVENT_LOG_H_
