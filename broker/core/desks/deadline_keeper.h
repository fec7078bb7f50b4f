// The deadline keeper: the referral repository as the desks see it, with
// the referrals' deadline clocks kept in step. Every create and every change
// of a referral also starts, meets, closes or reassigns its clocks
// (deadlines.h), written in the same atomic step as the referral, so no
// acknowledged referral is ever without its clocks. Every clock is written
// with its plan (ScheduleClock), the steps it takes if nothing changes it.
// FireDue moves clocks on as time passes: warning, breach, escalation, each
// step one event; the store fires planned steps by itself (FirePlanned),
// the keeper reads and writes the rest, each clock atomically and version
// checked, so that of several broker replicas exactly one fires a step.
//
//   DeadlineKeeper keeper(&redis_store, &calendar, DefaultDeadlineRuleSets());
//   ReferralDesk desk(&keeper, ...);        // clocks follow every change
//   ASSIGN_OR_RETURN(int fired, keeper.FireDue("13", clock.Now()));
//
// FireDue tells a FiringObserver, if given, of every step it fires with
// the instant it was due at, which the service layer turns into how late
// steps fire (the metric slussen_deadline_firing_lag_seconds).
//
// Thread-safe if the inner repository is.
#ifndef SLUSSEN_BROKER_CORE_DESKS_DEADLINE_KEEPER_H_
#define SLUSSEN_BROKER_CORE_DESKS_DEADLINE_KEEPER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/deadline_rule_repository.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/deadline.pb.h"

namespace slussen::core {

// The event announcing a clock's step (or its being met).
slussen::v1::Event ClockEvent(const slussen::v1::Clock& clock,
                              slussen::v1::EventType type, absl::Time now);

// Told of the steps DeadlineKeeper::FireDue fires, on its thread, once
// the store has them.
class FiringObserver {
 public:
  virtual ~FiringObserver() = default;
  // `steps` steps of clocks of `region` that were due at `due` fired
  // (the store's own firing, FirePlanned, or the keeper's).
  virtual void OnStepsFired(const std::string& region, absl::Time due,
                            int steps) = 0;
};

// Sets `write`'s next firing and its plan (PlanSteps, with the event its
// steps announce) from its clock: every clock write the keeper makes goes
// through here.
void ScheduleClock(ClockWrite* write, const SwedishCalendar& calendar);

class DeadlineKeeper final : public ForwardingReferralRepository {
 public:
  // Clocks FireDue takes per region and call at most: a backlog (the
  // midnight burst, a broker that was down for days) drains over several
  // calls rather than in one.
  static constexpr int kFireBatch = 1000;
  // Clocks a store's FirePlanned call takes at most: one call holds Redis
  // for a few milliseconds.
  static constexpr int kPlannedBatch = 250;
  // How far ahead of their instant planned steps' events are prepared (the
  // store's FirePlanned): long enough for the ticks before midnight to
  // prepare a million clocks' burst (BENCHMARKS.md), short enough that few
  // writes find their clock's next step already prepared (they withdraw
  // it).
  static constexpr absl::Duration kPrepareAhead = absl::Minutes(2);

  // `inner` and `calendar` must outlive the keeper; so must `rules`, where
  // new rule-set versions are kept (nullptr: the built-in ones only).
  DeadlineKeeper(ReferralRepository* inner, const SwedishCalendar* calendar,
                 std::vector<slussen::v1::DeadlineRuleSet> built_in,
                 DeadlineRuleRepository* rules = nullptr);

  // Every rule-set version, the newest first (the built-in ones last).
  std::vector<slussen::v1::DeadlineRuleSet> rule_sets() const;

  // Reads the stored versions again (another replica may have added one):
  // new clocks start under the newest version of each rule set.
  absl::Status RefreshRuleSets();

  // Adds the next version of rule set `id` ("impulse", or a new id for a
  // framework agreement), checked, with its author and time; the version
  // as named ("deadlineRuleSets/{id}/versions/{n}"). All versions of an id
  // keep one referral kind and agreement. FAILED_PRECONDITION without a
  // repository.
  absl::StatusOr<slussen::v1::DeadlineRuleSet> AddRuleSetVersion(
      const std::string& id, slussen::v1::DeadlineRuleSet set,
      const Caller& caller, absl::Time now);

  // Fires every step due at `now` of the clocks of `region` (at most a
  // batch of clocks a call: a backlog drains over several calls); the
  // number of steps this call fired (steps another replica fired are not
  // counted). The store fires planned steps by itself (FirePlanned); the
  // clocks it cannot, or all when it cannot at all, are read together and
  // their steps written together, each write version-checked on its own.
  // `observer`, if given, is told of each step fired (also when the call
  // fails after firing some).
  absl::StatusOr<int> FireDue(const std::string& region, absl::Time now,
                              FiringObserver* observer = nullptr);

  // Pauses or resumes a clock (deadlines.h), with the checks there.
  absl::StatusOr<ClockRecord> Pause(const std::string& region,
                                    const std::string& id,
                                    slussen::v1::DelayCause cause,
                                    const std::string& note,
                                    const Caller& caller, absl::Time now);
  absl::StatusOr<ClockRecord> Resume(const std::string& region,
                                     const std::string& id, absl::Time now);

  // Clocks added to creates and changes; the rest is the inner
  // repository's.
  using ReferralRepository::Create;
  absl::StatusOr<CreateOutcome> Create(
      const ReferralRecord& record,
      const std::vector<slussen::v1::Event>& events,
      const std::optional<IdempotencyKey>& key,
      const std::vector<ClockWrite>& clocks) override;
  absl::StatusOr<int64_t> Apply(const ReferralChange& change) override;

 private:
  // The clock writes of `transition`, which made `changed` (at
  // history index `index`) out of a referral with clocks `existing`. An
  // offer made with it (`offer`) sets its answer clock's due time to the
  // end of its hold.
  std::vector<ClockWrite> WritesFor(const ReferralRecord& changed,
                                    const slussen::v1::Transition& transition,
                                    int index,
                                    const std::vector<ClockRecord>& existing,
                                    const slussen::v1::Offer* offer = nullptr);

  // Fires the steps due at `now` of the clocks `due` of `region` by
  // reading and writing them (one pipeline each way a round); the steps
  // fired, each told to `observer` (if given). With `rewrite`, each is
  // written even if it has no step due.
  absl::StatusOr<int> FireEach(const std::string& region,
                               const std::vector<std::string>& due,
                               absl::Time now, bool rewrite,
                               FiringObserver* observer);

  // The write that moves `read` on at `now`: its next step with the step's
  // event, or, without an event, its next firing time put right when the
  // stored one is stale; nullopt when there is nothing to write.
  // With `rewrite`, it is written even when neither holds (its plan and
  // index rewritten: the store could not fire it by itself).
  std::optional<ClockWrite> NextWrite(ClockRecord read, absl::Time now,
                                      bool rewrite = false) const;

  // The rule set `referral` starts clocks under, if any (kept alive by
  // the pointer when a refresh replaces the sets).
  std::shared_ptr<const slussen::v1::DeadlineRuleSet> RuleSetOf(
      const slussen::v1::Referral& referral) const;

  const SwedishCalendar* const calendar_;
  const std::vector<slussen::v1::DeadlineRuleSet> built_in_;
  DeadlineRuleRepository* const rules_;
  mutable absl::Mutex mu_;
  // Every version, the newest first; and the newest of each id (shared
  // with the writes that read it: a create copies no rule set).
  std::vector<slussen::v1::DeadlineRuleSet> all_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const std::vector<slussen::v1::DeadlineRuleSet>> effective_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_DEADLINE_KEEPER_H_
