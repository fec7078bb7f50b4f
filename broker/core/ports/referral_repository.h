// The storage interface the core needs for referrals and the offers made
// for them.
//
// The broker implements it on Redis (broker/store/redis_referral_store.h);
// tests of pure logic may implement it in memory (tests/fakes/). Every write
// stores a referral together with the event describing the change, and with
// the offer and the capacity the change moves, in one atomic step: there is
// never a change without its event, an offer without its held place, or the
// reverse. Implementations must be thread-safe.
//
// Errors: NOT_FOUND for a missing referral; ABORTED when the stored version
// is no longer the one read (a lost race: re-read and try again);
// UNAVAILABLE when the store cannot be reached (nothing was written, or, if
// the connection broke after sending, the write may have happened: callers
// retry with a request_id).
#ifndef SLUSSEN_BROKER_CORE_PORTS_REFERRAL_REPOSITORY_H_
#define SLUSSEN_BROKER_CORE_PORTS_REFERRAL_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/records.h"
#include "slussen/v1/deadline.pb.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/offer.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// Makes a create idempotent: the same organisation and request id return the
// referral the first call made.
struct IdempotencyKey {
  std::string organisation;
  std::string request_id;
  // A keyed hash of the request body, to tell a retry from a different
  // request that reuses the request id.
  std::string fingerprint;
};

// The outcome of a create.
struct CreateOutcome {
  // True if this call wrote the record; false if the idempotency key had
  // been used before.
  bool created = false;
  // When created: the record as written. Otherwise the record made by the
  // first call.
  ReferralRecord record;
  // When not created: the fingerprint stored with the first call.
  std::string stored_fingerprint;
  // When created, by a repository that keeps it: the region's count of
  // changes that may have freed capacity (service/match_scheduler.h) as it
  // stood at the write, read in the same atomic step; empty otherwise.
  std::string matching_changes;
};

// Which index a listing walks.
enum class ListIndex {
  // Every referral of the region.
  kRegion,
  // Referrals made by `ListQuery::organisation`, alone or as a party of a
  // joint referral (IsReferringParty).
  kReferringOrganisation,
  // Referrals held or served by `ListQuery::organisation`.
  kAssignedOrganisation,
};

// One page of a listing, newest first (ids sort by creation time).
struct ListQuery {
  // Regions to walk; their listings are merged by id.
  std::vector<std::string> regions;
  ListIndex index = ListIndex::kRegion;
  std::string organisation;
  // Only states / kinds in these sets; empty admits all.
  std::vector<slussen::v1::ReferralState> states;
  std::vector<slussen::v1::ReferralKind> kinds;
  // Only referrals made by this organisation, alone or as a party of a
  // joint referral (IsReferringParty); empty admits all.
  std::string referring_organisation;
  // Return referrals with ids strictly below this one; empty: from the
  // newest.
  std::string before_id;
  // At most this many referrals.
  int page_size = 50;
  // Examine at most this many index entries, so that a filter matching
  // little cannot make one call walk everything. The page may then hold
  // fewer than page_size referrals.
  int scan_limit = 1000;
};

struct ListPage {
  std::vector<ReferralRecord> records;
  // The last id examined, when more may follow; empty at the end.
  std::string resume_before_id;
};

// A change of an offering's capacity counters made with a referral's change.
struct CapacityDelta {
  // "providers/{p}/offerings/{o}", in the referral's region.
  std::string offering;
  // "-" for places and caseload, else the cohort id.
  std::string unit;
  int held = 0;
  int occupied = 0;
  // The unit must have room (capacity - occupied - held > 0) before the
  // change: an offer taking a place. FAILED_PRECONDITION otherwise.
  bool require_room = false;
  // After the change the unit's capacity is what it holds (occupied +
  // held): the provider said it has no room (a NO_CAPACITY decline), so its
  // published capacity was wrong. Its next PublishCapacity sets it again.
  bool close = false;
};

// Open clocks of one kind at one stage (ReferralRepository::CountClocks).
struct ClockTally {
  slussen::v1::ClockKind kind = slussen::v1::CLOCK_KIND_UNSPECIFIED;
  ClockStage stage = ClockStage::kOpen;
  int64_t clocks = 0;

  friend bool operator==(const ClockTally&, const ClockTally&) = default;
};

// A place in a region's open clocks, which are ordered by due time (to the
// millisecond), then by id: just after the clock `id` due at `due`. The
// clock need not be open any more.
struct OpenClockPosition {
  absl::Time due;
  std::string id;
};

// A clock written with a change, with the event it causes (if any). The
// write is refused (ABORTED) unless the stored clock is still at
// `record.version` (0: must not exist).
struct ClockWrite {
  ClockRecord record;
  std::optional<slussen::v1::Event> event;
  // The clock's steps from `record.next_fire` on (PlanSteps), kept with it
  // so that the store can fire them by itself (FirePlanned), and the event
  // they announce with, less its type and time (ClockEvent's). Empty: its
  // steps are left to DeadlineKeeper::FireDue's own reading and writing.
  std::vector<PlannedStep> plan;
  slussen::v1::Event plan_event;
  // When the plan stops short of the clock's last step (PlanSteps keeps at
  // most kMaxPlannedSteps, and stops at a step it cannot express): the
  // firing after its last step, which the store leaves to FireDue.
  std::optional<absl::Time> after_plan;
};

// Steps of clocks due at one instant (their plans'), fired together.
struct StepsAt {
  absl::Time at;
  int steps = 0;

  friend bool operator==(const StepsAt&, const StepsAt&) = default;
};

// What one FirePlanned call did.
struct PlannedFiring {
  // Clocks taken, due by the time it prepared until (at most the limit:
  // fewer means none are left).
  int clocks = 0;
  // Steps fired: their events appended.
  int steps = 0;
  // The same steps by the instant each was due at, soonest first (the
  // steps add up to `steps`): how late they fired.
  std::vector<StepsAt> fired;
  // Due clocks the store could not fire by itself (written without a
  // plan, or their plan disagrees with their next firing), left as they
  // are for the caller to fire.
  std::vector<std::string> unplanned;
};

// A change around one referral, written atomically with its event: the
// referral, and the offer made or answered with it, and the capacity it
// takes or frees. ABORTED if the referral (or the offer) changed since it
// was read.
struct ReferralChange {
  // The referral as read (version checked) and as it becomes.
  const ReferralRecord* read = nullptr;
  ReferralRecord changed;
  slussen::v1::Event event;
  // An offer answered or expired: as read (version checked). Null for a
  // new offer or none.
  const OfferRecord* offer_read = nullptr;
  // The offer as it becomes (a new offer when offer_read is null).
  std::optional<OfferRecord> offer;
  std::vector<CapacityDelta> capacity;
  // Clocks started, met, closed or reassigned by the change.
  std::vector<ClockWrite> clocks;
};

// One page of offers, oldest first.
struct OfferQuery {
  std::vector<std::string> regions;
  // Only offers to this organisation's offerings; empty: all.
  std::string provider_organisation;
  // Only these states; empty: all.
  std::vector<slussen::v1::OfferState> states;
  // Ids strictly after this one; empty: from the oldest.
  std::string after_id;
  int page_size = 50;
  int scan_limit = 1000;
};

struct OfferPage {
  std::vector<OfferRecord> records;
  // The last id examined, when more may follow.
  std::string resume_after_id;
};

class ReferralRepository {
 public:
  virtual ~ReferralRepository() = default;

  // Writes `record` (version 0, becomes 1), `events` (one per transition
  // of its history: the create's, and a decision written with it, such as
  // QUEUE) and the clocks the creation starts, unless `key` (when given)
  // was used before.
  virtual absl::StatusOr<CreateOutcome> Create(
      const ReferralRecord& record,
      const std::vector<slussen::v1::Event>& events,
      const std::optional<IdempotencyKey>& key,
      const std::vector<ClockWrite>& clocks) = 0;
  absl::StatusOr<CreateOutcome> Create(
      const ReferralRecord& record, const slussen::v1::Event& event,
      const std::optional<IdempotencyKey>& key,
      const std::vector<ClockWrite>& clocks = {}) {
    return Create(record, std::vector<slussen::v1::Event>{event}, key, clocks);
  }

  virtual absl::StatusOr<ReferralRecord> Get(const std::string& region,
                                             const std::string& id) = 0;

  // The referrals `ids` of `region`, read together (one round trip): one
  // entry per id, in order; nullopt where there is none.
  virtual absl::StatusOr<std::vector<std::optional<ReferralRecord>>>
  GetReferrals(const std::string& region,
               const std::vector<std::string>& ids) = 0;

  // Writes `change` if the stored versions are still those read; returns
  // the referral's new version. ABORTED otherwise. Indexes that follow a
  // field (the assigned organisation, matchable states, live holds) move
  // with it.
  virtual absl::StatusOr<int64_t> Apply(const ReferralChange& change) = 0;

  // Replaces `read` (at `read.version`) by `changed`, with `event`: Apply
  // without an offer or capacity.
  absl::StatusOr<int64_t> Update(const ReferralRecord& read,
                                 const ReferralRecord& changed,
                                 const slussen::v1::Event& event) {
    return Apply({.read = &read, .changed = changed, .event = event});
  }

  virtual absl::StatusOr<ListPage> List(const ListQuery& query) = 0;

  // The referrals of `region` waiting for capacity (RECEIVED or QUEUED).
  virtual absl::StatusOr<std::vector<ReferralRecord>> ListMatchable(
      const std::string& region) = 0;

  virtual absl::StatusOr<OfferRecord> GetOffer(const std::string& region,
                                               const std::string& id) = 0;

  virtual absl::StatusOr<OfferPage> ListOffers(const OfferQuery& query) = 0;

  // The ids of the offers of `region` still held whose hold expired at or
  // before `now`, oldest first.
  virtual absl::StatusOr<std::vector<std::string>> DueHolds(
      const std::string& region, absl::Time now) = 0;

  // The ids of `region`'s referrals of one participant, named by the
  // keyed hash of the personnummer (`by_personnummer`) or by the agencies'
  // participant pseudonym, in id order. Erased referrals are not found.
  virtual absl::StatusOr<std::vector<std::string>> FindParticipant(
      const std::string& region, const std::string& key,
      bool by_personnummer) = 0;

  // The ids of `region`'s referrals that finished at or before `before`
  // and still hold personal data, the oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> FinishedBefore(
      const std::string& region, absl::Time before, int limit) = 0;

  // The ids of `region`'s referrals whose participant has protected
  // personal data now (Referral.protected_personal_data), in no order.
  virtual absl::StatusOr<std::vector<std::string>> ProtectedReferrals(
      const std::string& region) = 0;

  // Every clock of a referral, in id order.
  virtual absl::StatusOr<std::vector<ClockRecord>> ListClocks(
      const std::string& region, const std::string& referral_id) = 0;

  // Every clock of each of `referral_ids`, in their order (each list in id
  // order). A matching pass asks this for every waiting referral of its
  // region: a store reads them together (the Redis store in two round
  // trips), rather than a round trip a referral. This default asks
  // ListClocks for each.
  virtual absl::StatusOr<std::vector<std::vector<ClockRecord>>>
  ListClocksOfEach(const std::string& region,
                   const std::vector<std::string>& referral_ids) {
    std::vector<std::vector<ClockRecord>> out;
    out.reserve(referral_ids.size());
    for (const std::string& id : referral_ids) {
      absl::StatusOr<std::vector<ClockRecord>> clocks = ListClocks(region, id);
      if (!clocks.ok()) return clocks.status();
      out.push_back(*std::move(clocks));
    }
    return out;
  }

  virtual absl::StatusOr<ClockRecord> GetClock(const std::string& region,
                                               const std::string& id) = 0;

  // The clocks `ids` of `region`, read together (one round trip): one
  // entry per id, in order; nullopt where there is no such clock.
  virtual absl::StatusOr<std::vector<std::optional<ClockRecord>>> GetClocks(
      const std::string& region, const std::vector<std::string>& ids) = 0;

  // The ids of the clocks of `region` whose next firing is at or before
  // `now`, soonest first, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> DueClocks(
      const std::string& region, absl::Time now, int limit) = 0;

  // The clocks of `region` started in [start, end), oldest first; at most
  // `limit`.
  virtual absl::StatusOr<std::vector<ClockRecord>> ListClocksStarted(
      const std::string& region, absl::Time start, absl::Time end,
      int limit) = 0;

  // The open clocks of `region` (not met or closed), by due time and then
  // id, the earliest first; only those after `after` when given; at most
  // `limit`.
  virtual absl::StatusOr<std::vector<ClockRecord>> ListOpenClocks(
      const std::string& region, const std::optional<OpenClockPosition>& after,
      int limit) = 0;
  absl::StatusOr<std::vector<ClockRecord>> ListOpenClocks(
      const std::string& region, int limit) {
    return ListOpenClocks(region, std::nullopt, limit);
  }

  // Writes one clock (a firing, a pause) with its event; the new version.
  // ABORTED if it changed since it was read.
  virtual absl::StatusOr<int64_t> ApplyClock(const ClockWrite& write) = 0;

  // Writes many clocks (a tick's firings) together, each with its event
  // and its own version check, each atomic on its own as with ApplyClock:
  // a write that lost its race does not stop the others. The outcome of
  // each write, in order: OK (written; its version is now
  // `record.version + 1`), ABORTED (the clock changed since it was read:
  // another replica fired it) or NOT_FOUND. The call as a whole fails only
  // when the store cannot be reached (UNAVAILABLE: some writes may have
  // been made, each whole or not at all).
  virtual absl::StatusOr<std::vector<absl::Status>> ApplyClocks(
      const std::vector<ClockWrite>& writes) = 0;

  // Fires, inside the store, the planned steps due at `now` of at most
  // `limit` of the clocks of `region` due by `prepare_until` (not before
  // `now`), soonest first, and prepares their steps due by then: each step
  // merges its fields into the clock and appends its event (the clock's
  // plan_event with the step's type, its time the step's instant). A step
  // due later than `now` has its event made now and appended as soon as a
  // call's `now` reaches it, so that a burst of steps at one instant (the
  // midnight burst) costs at that instant little more than its events'
  // bytes; a write of the clock before then withdraws it. Each call is
  // atomic, so of several replicas calling at once exactly one fires each
  // step. Clocks due without a usable plan are named in `unplanned` and
  // left untouched. UNIMPLEMENTED for a store that cannot (the caller then
  // reads and writes the clocks itself).
  virtual absl::StatusOr<PlannedFiring> FirePlanned(const std::string& region,
                                                    absl::Time now,
                                                    absl::Time prepare_until,
                                                    int limit) {
    (void)region, (void)now, (void)prepare_until, (void)limit;
    return absl::UnimplementedError("this store does not fire planned steps");
  }

  // The open clocks of `region` by kind and stage, as reading each would
  // find it (its planned steps fired so far taken, StageOf), in kind then
  // stage order, none of zero. A store may count a planned step from the
  // moment its region's firing passes the step's instant, before the
  // clock's own turn comes (the two differ while FirePlanned works
  // through a backlog). Kept as clocks are written and fire, so that
  // counting does not read every clock. UNIMPLEMENTED for a store that
  // does not keep the count.
  virtual absl::StatusOr<std::vector<ClockTally>> CountClocks(
      const std::string& region) {
    (void)region;
    return absl::UnimplementedError("this store does not count its clocks");
  }
};

// A repository that hands every call to another: the base of decorators
// (DeadlineKeeper, test interleavings), which override what they change.
class ForwardingReferralRepository : public ReferralRepository {
 public:
  // `inner` must outlive this object.
  explicit ForwardingReferralRepository(ReferralRepository* inner)
      : inner_(inner) {}

  using ReferralRepository::Create;
  absl::StatusOr<CreateOutcome> Create(
      const ReferralRecord& record,
      const std::vector<slussen::v1::Event>& events,
      const std::optional<IdempotencyKey>& key,
      const std::vector<ClockWrite>& clocks) override {
    return inner_->Create(record, events, key, clocks);
  }
  absl::StatusOr<ReferralRecord> Get(const std::string& region,
                                     const std::string& id) override {
    return inner_->Get(region, id);
  }
  absl::StatusOr<std::vector<std::optional<ReferralRecord>>> GetReferrals(
      const std::string& region, const std::vector<std::string>& ids) override {
    return inner_->GetReferrals(region, ids);
  }
  absl::StatusOr<int64_t> Apply(const ReferralChange& change) override {
    return inner_->Apply(change);
  }
  absl::StatusOr<ListPage> List(const ListQuery& query) override {
    return inner_->List(query);
  }
  absl::StatusOr<std::vector<ReferralRecord>> ListMatchable(
      const std::string& region) override {
    return inner_->ListMatchable(region);
  }
  absl::StatusOr<OfferRecord> GetOffer(const std::string& region,
                                       const std::string& id) override {
    return inner_->GetOffer(region, id);
  }
  absl::StatusOr<OfferPage> ListOffers(const OfferQuery& query) override {
    return inner_->ListOffers(query);
  }
  absl::StatusOr<std::vector<std::string>> DueHolds(const std::string& region,
                                                    absl::Time now) override {
    return inner_->DueHolds(region, now);
  }
  absl::StatusOr<std::vector<std::string>> FindParticipant(
      const std::string& region, const std::string& key,
      bool by_personnummer) override {
    return inner_->FindParticipant(region, key, by_personnummer);
  }
  absl::StatusOr<std::vector<std::string>> FinishedBefore(
      const std::string& region, absl::Time before, int limit) override {
    return inner_->FinishedBefore(region, before, limit);
  }
  absl::StatusOr<std::vector<std::string>> ProtectedReferrals(
      const std::string& region) override {
    return inner_->ProtectedReferrals(region);
  }
  absl::StatusOr<std::vector<ClockRecord>> ListClocks(
      const std::string& region, const std::string& referral_id) override {
    return inner_->ListClocks(region, referral_id);
  }
  absl::StatusOr<std::vector<std::vector<ClockRecord>>> ListClocksOfEach(
      const std::string& region,
      const std::vector<std::string>& referral_ids) override {
    return inner_->ListClocksOfEach(region, referral_ids);
  }
  absl::StatusOr<ClockRecord> GetClock(const std::string& region,
                                       const std::string& id) override {
    return inner_->GetClock(region, id);
  }
  absl::StatusOr<std::vector<std::string>> DueClocks(const std::string& region,
                                                     absl::Time now,
                                                     int limit) override {
    return inner_->DueClocks(region, now, limit);
  }
  absl::StatusOr<std::vector<ClockRecord>> ListClocksStarted(
      const std::string& region, absl::Time start, absl::Time end,
      int limit) override {
    return inner_->ListClocksStarted(region, start, end, limit);
  }
  using ReferralRepository::ListOpenClocks;
  absl::StatusOr<std::vector<ClockRecord>> ListOpenClocks(
      const std::string& region, const std::optional<OpenClockPosition>& after,
      int limit) override {
    return inner_->ListOpenClocks(region, after, limit);
  }
  absl::StatusOr<int64_t> ApplyClock(const ClockWrite& write) override {
    return inner_->ApplyClock(write);
  }
  absl::StatusOr<std::vector<std::optional<ClockRecord>>> GetClocks(
      const std::string& region, const std::vector<std::string>& ids) override {
    return inner_->GetClocks(region, ids);
  }
  absl::StatusOr<std::vector<absl::Status>> ApplyClocks(
      const std::vector<ClockWrite>& writes) override {
    return inner_->ApplyClocks(writes);
  }
  absl::StatusOr<PlannedFiring> FirePlanned(const std::string& region,
                                            absl::Time now,
                                            absl::Time prepare_until,
                                            int limit) override {
    return inner_->FirePlanned(region, now, prepare_until, limit);
  }
  absl::StatusOr<std::vector<ClockTally>> CountClocks(
      const std::string& region) override {
    return inner_->CountClocks(region);
  }

 protected:
  ReferralRepository* inner() const { return inner_; }

 private:
  ReferralRepository* const inner_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_REFERRAL_REPOSITORY_H_
