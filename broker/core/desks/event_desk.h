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
// A coordinator sees no event of a referral whose participant has
// protected personal data: those written since carry the flag
// (MaySeeEvent), and those written before the protection was set are left
// out by the set of protected referrals, read at most once a second per
// region.
//
// Thread-safe if the log is; a Watch belongs to one caller.
#ifndef SLUSSEN_BROKER_CORE_DESKS_EVENT_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_EVENT_DESK_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/event_log.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/event_service.pb.h"

namespace slussen::core {

class EventDesk {
 public:
  // All must outlive the desk; without `referrals` only the events' own
  // flag hides a protected participant's events. ListEvents reads
  // `listing` (`log` if not given): a log that may lag behind what was
  // written (the broker's EventFeed answers from memory as far as it has
  // read) suits watchers, who are told of news as it comes, but a listing
  // must show every event written before it, and none removed since.
  explicit EventDesk(EventLog* log, ReferralRepository* referrals = nullptr,
                     EventLog* listing = nullptr)
      : log_(log),
        listing_(listing != nullptr ? listing : log),
        referrals_(referrals) {}

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

  // OUT_OF_RANGE naming `field` when events of `region` after `position`
  // were removed by retention (a reader resuming there would miss them).
  absl::Status CheckNothingRemovedAfter(const std::string& region,
                                        const std::string& position,
                                        absl::string_view field);

  // Whether `caller` may see `event` of `region`, `hidden` the protected
  // referrals' ids (null: none to hide).
  static bool Shows(const Caller& caller, const std::string& region,
                    const slussen::v1::Event& event,
                    const std::set<std::string>* hidden);
  // For a coordinator: the ids of `region`'s protected referrals (cached a
  // second); null for anyone else, or without a repository.
  absl::StatusOr<std::shared_ptr<const std::set<std::string>>> Hidden(
      const Caller& caller, const std::string& region);

  EventLog* const log_;
  EventLog* const listing_;
  ReferralRepository* const referrals_;
  absl::Mutex mu_;
  struct Cached {
    absl::Time read;
    std::shared_ptr<const std::set<std::string>> ids;
  };
  std::map<std::string, Cached> hidden_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_EVENT_DESK_H_
