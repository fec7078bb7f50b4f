// The event desk: what a watcher may see of the region event streams, from
// where it left off. WatchEvents (the service) polls a Watch; ListEvents
// pages through one region's events.
//
// A watcher sees only the events it may (access.h, MaySeeEvent); events
// carry references and codes, never personal data. Each event sent comes
// with a resume token holding the watcher's position in every region it
// watches, so a watcher that reconnects with the last token it received,
// also to another replica or after a restart, misses nothing and sees
// nothing twice.
//
//   ASSIGN_OR_RETURN(EventDesk::Watch watch, desk.StartWatch(caller, request));
//   while (...) {
//     ASSIGN_OR_RETURN(auto batch, desk.Poll(caller, watch, 100));
//   }
//
// Thread-safe if the log is; a Watch belongs to one caller.
#ifndef SLUSSEN_BROKER_CORE_EVENT_DESK_H_
#define SLUSSEN_BROKER_CORE_EVENT_DESK_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/core/caller.h"
#include "broker/core/event_log.h"
#include "slussen/v1/event_service.pb.h"

namespace slussen::core {

class EventDesk {
 public:
  // `log` must outlive the desk.
  explicit EventDesk(EventLog* log) : log_(log) {}

  struct Watch {
    // Region -> the position after which to read.
    std::map<std::string, std::string> positions;
    std::set<int> types;
  };

  // Checks the request and finds where the watch starts: after the token's
  // positions, or at the newest events now.
  absl::StatusOr<Watch> StartWatch(
      const Caller& caller, const slussen::v1::WatchEventsRequest& request);

  // The next events the caller may see (at most `limit` read per region),
  // oldest first per region; `watch` moves past every event read.
  absl::StatusOr<std::vector<slussen::v1::WatchEventsResponse>> Poll(
      const Caller& caller, Watch& watch, int limit);

  absl::StatusOr<slussen::v1::ListEventsResponse> ListEvents(
      const Caller& caller, const slussen::v1::ListEventsRequest& request);

 private:
  // The regions `caller` may watch for `parent` ("regions/13" or
  // "regions/-").
  static absl::StatusOr<std::vector<std::string>> Regions(
      const Caller& caller, absl::string_view field, const std::string& parent);

  EventLog* const log_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_EVENT_DESK_H_
