// The matchmaker: one matching pass over a region, by the broker itself.
//
// A pass expires the region's offers whose hold ran out, reads a snapshot
// (the referrals waiting for capacity, the region's offerings with their
// live counters, the providers and framework agreements), runs the pure
// matcher (matcher.h), and applies its decisions one by one through the
// placement desk: queue, reject, offer. Each decision is written atomically
// with its checks, so a decision that lost a race (another replica took the
// place, the agency cancelled) is simply not applied; the pass reports it
// and the scheduler runs the region again.
//
//   Matchmaker matchmaker(&referrals, &directory, &placements, &clock,
//                         &calendar);
//   ASSIGN_OR_RETURN(Matchmaker::Pass pass, matchmaker.RunRegion("13"));
//
// An arrival need not wait for a pass over everyone: PlaceArrival places
// one new referral against the capacity the passes before it left. A
// place still free after a full pass is one no waiting referral can take,
// so taking it passes no one; reading the region's offerings (not its
// waiting referrals) is enough, and the cost is that of the change, not
// of the backlog. The scheduler (match_scheduler.h) uses it only while no
// freed capacity waits for a full pass. An arrival reads the providers and
// framework agreements from a copy at most a second old (kept while every
// offering's provider and the referral's agreement are in it), and the
// offerings with their live counters from Redis; a full pass reads all.
//
// Thread-safe if its collaborators are; passes of one region on several
// replicas at once are safe (the scheduler avoids them to save work).
#ifndef SLUSSEN_BROKER_CORE_DESKS_MATCHMAKER_H_
#define SLUSSEN_BROKER_CORE_DESKS_MATCHMAKER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "broker/core/desks/placement_desk.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/matcher.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/core/ports/referral_repository.h"

namespace slussen::core {

// What the matcher saw of a region, with the stored records behind it.
struct RegionSnapshot {
  MatchInput input;
  // Parallel to input.referrals / input.offerings.
  std::vector<ReferralRecord> referrals;
  std::vector<Versioned<slussen::v1::Offering>> offerings;
  // Provider id -> the organisation that operates it.
  std::map<std::string, std::string> provider_organisations;
};

// The referrals of one activity type left waiting after a full pass.
struct QueueStat {
  int waiting = 0;
  // The create time of the one waiting longest.
  absl::Time oldest = absl::InfiniteFuture();
};

class Matchmaker {
 public:
  struct Pass {
    int expired = 0;
    int queued = 0;
    int rejected = 0;
    int offered = 0;
    // Decisions not applied because the referral or the place changed
    // meanwhile: run the region again.
    int lost_races = 0;
    // A full pass (RunRegion): who is left waiting, by activity type.
    std::map<std::string, QueueStat> queues;
  };

  // All must outlive the matchmaker.
  Matchmaker(ReferralRepository* referrals, DirectoryRepository* directory,
             PlacementDesk* placements, const Clock* clock,
             const SwedishCalendar* calendar)
      : referrals_(referrals),
        directory_(directory),
        placements_(placements),
        clock_(clock),
        calendar_(calendar) {}

  // Expires due holds, then matches the region once.
  absl::StatusOr<Pass> RunRegion(const std::string& region);

  // Places the referral `id` of `region` if it still waits (RECEIVED, or
  // QUEUED again after a resubmit): queues it, rejects it, or offers it a
  // unit free now, as a full pass would
  // if every unit free now were one nobody waiting can take. Reads the
  // region's offerings and the one referral, not the others waiting.
  absl::StatusOr<Pass> PlaceArrival(const std::string& region,
                                    const std::string& id);

  // What PlaceArrival would do now with `record`, a new referral not yet
  // written (RECEIVED): only queue it (no offering has a unit free for
  // it), queue it and offer it a unit, or anything else (reject it).
  // Reads the region's offerings, as PlaceArrival does.
  enum class ArrivalOutlook { kOnlyQueued, kQueuedAndOffered, kOther };
  absl::StatusOr<ArrivalOutlook> Outlook(const ReferralRecord& record) const;
  // The same against `capacity`, a CapacityFor read earlier (the caller
  // answers for what may have changed since).
  ArrivalOutlook Outlook(const ReferralRecord& record,
                         const RegionSnapshot& capacity) const;
  // What an arrival like `record` is placed against: the region's
  // offerings and the directory (no referrals).
  absl::StatusOr<RegionSnapshot> CapacityFor(
      const ReferralRecord& record) const;

  // The civil day of now where the region's calendar is: a cohort's
  // intake opens at its start, so a full pass is due each new day.
  absl::CivilDay Today() const;

  // The activity types of the directory.
  absl::StatusOr<std::vector<slussen::v1::ActivityType>> ActivityTypes() const {
    return directory_->ListActivityTypes();
  }

  // The region as the matcher sees it now; each referral's priority has
  // the due time of its earliest open deadline clock.
  absl::StatusOr<RegionSnapshot> Snapshot(const std::string& region) const;

 private:
  // The providers and framework agreements, as read at `read`, as the
  // matcher takes them.
  struct Directory {
    absl::Time read;
    // By provider id.
    std::map<std::string, slussen::v1::Provider> providers;
    std::vector<MatchAgreement> agreements;
  };
  absl::StatusOr<std::shared_ptr<const Directory>> ReadDirectory() const;
  // The snapshot's capacity side: the region's offerings with their
  // providers, the framework agreements; no referrals yet. For an
  // `arrival` (of that referral), the directory may be the copy above.
  absl::StatusOr<RegionSnapshot> CapacitySnapshot(
      const std::string& region,
      const slussen::v1::Referral* arrival = nullptr) const;
  // Writes `decisions`, made over `snapshot`, one by one; a decision that
  // lost a race is counted and skips the rest of its referral's.
  absl::Status Apply(const std::vector<MatchDecision>& decisions,
                     RegionSnapshot& snapshot, Pass& pass);

  ReferralRepository* const referrals_;
  DirectoryRepository* const directory_;
  PlacementDesk* const placements_;
  const Clock* const clock_;
  const SwedishCalendar* const calendar_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Directory> directory_copy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_MATCHMAKER_H_
