// A ReferralRepository in memory, for tests of the core's logic (the
// desks, the deadline keeper) and the request fuzzer. It keeps the
// contract the Redis store keeps, and the contract suite
// (tests/contract/repository_contract.h) runs the same cases against
// both: atomic change-with-event, version checks, idempotency keys, open
// twins refused, listings paged as the Redis store pages them (referrals
// newest first, offers oldest first, with a scan limit), and clocks as
// the Redis store keeps them, their planned steps fired by the store
// itself (FirePlanned) with the same events, versions and next firings at
// the same instants, so that the keeper's unit tests take production's
// path.
//
// Tests can make the next Update lose a race (FailNextUpdatesWithAborted)
// to exercise the desk's retry, and read the events written. Given an
// audit repository, changes are audited in it as the Redis store audits
// them; without one (desk tests that count only the reads they audit),
// they are not.
//
// Thread-safe: one mutex around everything, so each call is atomic as a
// Redis script is.
#ifndef SLUSSEN_TESTS_FAKES_IN_MEMORY_REFERRAL_REPOSITORY_H_
#define SLUSSEN_TESTS_FAKES_IN_MEMORY_REFERRAL_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/ports/referral_repository.h"
#include "tests/fakes/in_memory_audit_repository.h"

namespace slussen::testing {

class InMemoryReferralRepository final : public core::ReferralRepository {
 public:
  InMemoryReferralRepository() = default;
  // Records each change of a record with an audit subject in `audit`
  // (which must outlive it), as the Redis store records it in the
  // change's own script.
  explicit InMemoryReferralRepository(InMemoryAuditRepository* audit)
      : audit_(audit) {}

  using core::ReferralRepository::Create;
  absl::StatusOr<core::CreateOutcome> Create(
      const core::ReferralRecord& record,
      const std::vector<slussen::v1::Event>& events,
      const std::optional<core::IdempotencyKey>& key,
      const std::vector<core::ClockWrite>& clocks) override;
  absl::StatusOr<core::ReferralRecord> Get(const std::string& region,
                                           const std::string& id) override;
  absl::StatusOr<std::vector<std::optional<core::ReferralRecord>>> GetReferrals(
      const std::string& region, const std::vector<std::string>& ids) override;
  absl::StatusOr<int64_t> Apply(const core::ReferralChange& change) override;
  absl::StatusOr<core::ListPage> List(const core::ListQuery& query) override;
  absl::StatusOr<std::vector<core::ReferralRecord>> ListMatchable(
      const std::string& region) override;
  absl::StatusOr<core::OfferRecord> GetOffer(const std::string& region,
                                             const std::string& id) override;
  absl::StatusOr<core::OfferPage> ListOffers(
      const core::OfferQuery& query) override;
  absl::StatusOr<std::vector<std::string>> DueHolds(const std::string& region,
                                                    absl::Time now) override;
  absl::StatusOr<std::vector<std::string>> FindParticipant(
      const std::string& region, const std::string& key,
      bool by_personnummer) override;
  absl::StatusOr<std::vector<std::string>> ProtectedReferrals(
      const std::string& region) override;
  absl::StatusOr<std::vector<std::string>> FinishedBefore(
      const std::string& region, absl::Time before, int limit) override;
  absl::StatusOr<std::vector<core::ClockRecord>> ListClocks(
      const std::string& region, const std::string& referral_id) override;
  absl::StatusOr<core::ClockRecord> GetClock(const std::string& region,
                                             const std::string& id) override;
  absl::StatusOr<std::vector<std::optional<core::ClockRecord>>> GetClocks(
      const std::string& region, const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<std::string>> DueClocks(const std::string& region,
                                                     absl::Time now,
                                                     int limit) override;
  absl::StatusOr<std::vector<core::ClockRecord>> ListClocksStarted(
      const std::string& region, absl::Time start, absl::Time end,
      int limit) override;
  using core::ReferralRepository::ListOpenClocks;
  absl::StatusOr<std::vector<core::ClockRecord>> ListOpenClocks(
      const std::string& region,
      const std::optional<core::OpenClockPosition>& after, int limit) override;
  absl::StatusOr<int64_t> ApplyClock(const core::ClockWrite& write) override;
  absl::StatusOr<std::vector<absl::Status>> ApplyClocks(
      const std::vector<core::ClockWrite>& writes) override;
  // As the Redis store's script (redis_referral_store_clocks.cc): steps
  // due at `now` appended, those due by `prepare_until` prepared (their
  // events made now, appended when a call's `now` reaches them, withdrawn
  // by a write of their clock), the region's "fired" time moved on.
  absl::StatusOr<core::PlannedFiring> FirePlanned(const std::string& region,
                                                  absl::Time now,
                                                  absl::Time prepare_until,
                                                  int limit) override;
  // Counted by reading every clock (the Redis store keeps counts).
  absl::StatusOr<std::vector<core::ClockTally>> CountClocks(
      const std::string& region) override;

  // The capacity of one unit ("-" or a cohort id) of an offering, so that
  // offers can take it.
  void SetCapacity(const std::string& offering, const std::string& unit,
                   int capacity);
  // occupied + held of the unit.
  int Taken(const std::string& offering, const std::string& unit) const;

  // The counters of one unit, as the Redis store keeps them in the
  // offering's hash (u:<unit>:cap, :occupied, :held); zeros when absent.
  // For InMemoryDirectoryRepository, whose reads fill them in.
  struct UnitCounters {
    int capacity = 0;
    int occupied = 0;
    int held = 0;
    // A NO_CAPACITY decline closed it at what it holds (CapacityDelta::close)
    // until capacity is published again.
    bool closed = false;
  };
  UnitCounters Counters(const std::string& offering,
                        const std::string& unit) const;
  // What publishing capacity does to the counters, atomically with the
  // offers that move them (InMemoryDirectoryRepository::PublishCapacity):
  // FAILED_PRECONDITION naming the unit, and nothing written, if a unit of
  // `units` holds more than its new capacity (checked only with
  // `check_fits`) or a `removed` unit holds anything; then sets each
  // capacity and deletes the counters of the removed units, in that order.
  absl::Status PublishUnits(
      const std::string& offering,
      const std::vector<std::pair<std::string, int>>& units,
      const std::vector<std::string>& removed, bool check_fits);

  // The next `count` updates answer ABORTED, as if another replica had
  // changed the referral in between (the stored version is bumped).
  void FailNextUpdatesWithAborted(int count);

  // The events written, every region's, in the order written.
  std::vector<slussen::v1::Event> events() const;
  // The events written to `region`'s stream, in the order written.
  std::vector<slussen::v1::Event> events(const std::string& region) const;

 private:
  using Key = std::pair<std::string, std::string>;  // region, id

  // A step of a clock's plan as the Redis store keeps it: when (ms), the
  // event type and the fields it sets. A plan that stops short of the
  // clock's last step ends with a tail, a step at the firing after, which
  // FirePlanned leaves to the keeper.
  struct Step {
    int64_t at_ms = 0;
    slussen::v1::EventType type = slussen::v1::EVENT_TYPE_UNSPECIFIED;
    slussen::v1::Clock set;
    bool tail = false;
  };
  // A clock as the Redis store keeps it: as last written (its version the
  // one written), its plan and the event its steps announce, and its
  // places in the region's sorted sets. FirePlanned writes none of it but
  // the place; a read merges the steps fired since (ReadClock).
  struct StoredClock {
    core::ClockRecord written;
    std::vector<Step> plan;
    slussen::v1::Event plan_event;
    // In the due set (ms): the next step to take; none: never due.
    std::optional<int64_t> place;
    // In the open clocks (the due time, ms) while open.
    std::optional<int64_t> open_due;
    // In the clocks started (ms), from its first write on.
    int64_t started_ms = 0;
  };
  // What the Redis store keeps of a region's firing: how far its planned
  // steps have fired, and the events prepared for each instant after that
  // (by instant, then clock id).
  struct RegionFiring {
    std::optional<int64_t> fired_ms;
    std::map<int64_t, std::map<std::string, std::vector<slussen::v1::Event>>>
        prepared;
  };

  // The plan `write` stores: as the Redis store's EncodePlan, none when
  // it does not start at the clock's next firing, its times go back or a
  // step's fields are too long to store.
  static std::vector<Step> PlanOf(const core::ClockWrite& write);
  // ABORTED unless every clock write's version matches what is stored
  // (NOT_FOUND when a clock to change is gone).
  absl::Status CheckClocks(const std::vector<core::ClockWrite>& writes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteClocks(const std::vector<core::ClockWrite>& writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The clock as a reader of the Redis store sees it: as written, with the
  // steps before its place and at or before its region's fired time merged
  // in, its version one more for each.
  core::ClockRecord ReadClock(const StoredClock& stored) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<core::ClockRecord> ReadClock(const std::string& region,
                                             const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Members of one of a region's sorted sets of clocks, with their scores
  // (ms); read as the Redis store reads the set: by score, then id, at
  // most `limit`, each as ReadClock reads it.
  using Scored = std::pair<int64_t, const StoredClock*>;
  std::vector<core::ClockRecord> ReadInOrder(std::vector<Scored> scored,
                                             int limit) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Log(const std::string& region, const slussen::v1::Event& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Appends the audit record of `event`'s change of `record` when it has
  // a subject; a no-op without an audit repository.
  void Audit(const core::ReferralRecord& record,
             const slussen::v1::Event& event,
             slussen::v1::AuditOperation operation, const std::string& subject)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  InMemoryAuditRepository* const audit_ = nullptr;
  mutable absl::Mutex mu_;
  std::map<Key, core::ReferralRecord> records_ ABSL_GUARDED_BY(mu_);
  // "region\norg\nrequest id" -> {id, fingerprint}
  std::map<std::string, std::pair<std::string, std::string>> idempotency_
      ABSL_GUARDED_BY(mu_);
  // Every event with its region, in the order written.
  std::vector<std::pair<std::string, slussen::v1::Event>> events_
      ABSL_GUARDED_BY(mu_);
  std::map<Key, core::OfferRecord> offers_ ABSL_GUARDED_BY(mu_);
  struct Unit {
    int capacity = 0;
    int occupied = 0;
    int held = 0;
    bool closed = false;
  };
  // (offering, unit) -> counters.
  std::map<std::pair<std::string, std::string>, Unit> units_
      ABSL_GUARDED_BY(mu_);
  int abort_updates_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<Key, StoredClock> clocks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RegionFiring> firing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_FAKES_IN_MEMORY_REFERRAL_REPOSITORY_H_
