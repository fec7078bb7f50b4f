// The deadline keeper: the referral repository as the desks see it, with
// the referrals' deadline clocks kept in step. Every create and every change
// of a referral also starts, meets, closes or reassigns its clocks
// (deadlines.h), written in the same atomic step as the referral, so no
// acknowledged referral is ever without its clocks. FireDue moves clocks on
// as time passes: warning, breach, escalation, each step one event, written
// with a version check so that of several broker replicas exactly one fires
// it.
//
//   DeadlineKeeper keeper(&redis_store, &calendar, DefaultDeadlineRuleSets());
//   ReferralDesk desk(&keeper, ...);        // clocks follow every change
//   ASSIGN_OR_RETURN(int fired, keeper.FireDue("13", clock.Now()));
//
// Thread-safe if the inner repository is.
#ifndef SLUSSEN_BROKER_CORE_DEADLINE_KEEPER_H_
#define SLUSSEN_BROKER_CORE_DEADLINE_KEEPER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/core/calendar.h"
#include "broker/core/caller.h"
#include "broker/core/referral_repository.h"
#include "slussen/v1/deadline.pb.h"

namespace slussen::core {

// The event announcing a clock's step (or its being met).
slussen::v1::Event ClockEvent(const slussen::v1::Clock& clock,
                              slussen::v1::EventType type, absl::Time now);

class DeadlineKeeper final : public ReferralRepository {
 public:
  // `inner` and `calendar` must outlive the keeper.
  DeadlineKeeper(ReferralRepository* inner, const SwedishCalendar* calendar,
                 std::vector<slussen::v1::DeadlineRuleSet> rule_sets);

  const std::vector<slussen::v1::DeadlineRuleSet>& rule_sets() const {
    return rule_sets_;
  }

  // Fires every step due at `now` of the clocks of `region`; the number of
  // steps this call fired (steps another replica fired are not counted).
  absl::StatusOr<int> FireDue(const std::string& region, absl::Time now);

  // Pauses or resumes a clock (deadlines.h), with the checks there.
  absl::StatusOr<ClockRecord> Pause(const std::string& region,
                                    const std::string& id,
                                    slussen::v1::DelayCause cause,
                                    const std::string& note,
                                    const Caller& caller, absl::Time now);
  absl::StatusOr<ClockRecord> Resume(const std::string& region,
                                     const std::string& id, absl::Time now);

  // ReferralRepository: clocks added to creates and changes; the rest is
  // the inner repository's.
  using ReferralRepository::Create;
  absl::StatusOr<CreateOutcome> Create(
      const ReferralRecord& record, const slussen::v1::Event& event,
      const std::optional<IdempotencyKey>& key,
      const std::vector<ClockWrite>& clocks) override;
  absl::StatusOr<int64_t> Apply(const ReferralChange& change) override;

  absl::StatusOr<ReferralRecord> Get(const std::string& region,
                                     const std::string& id) override {
    return inner_->Get(region, id);
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
  absl::StatusOr<std::vector<ClockRecord>> ListClocks(
      const std::string& region, const std::string& referral_id) override {
    return inner_->ListClocks(region, referral_id);
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
  absl::StatusOr<std::vector<ClockRecord>> ListOpenClocks(
      const std::string& region, int limit) override {
    return inner_->ListOpenClocks(region, limit);
  }
  absl::StatusOr<int64_t> ApplyClock(const ClockWrite& write) override {
    return inner_->ApplyClock(write);
  }

 private:
  // The clock writes of `transition`, which made `changed` (at
  // history index `index`) out of a referral with clocks `existing`.
  std::vector<ClockWrite> WritesFor(const ReferralRecord& changed,
                                    const slussen::v1::Transition& transition,
                                    int index,
                                    const std::vector<ClockRecord>& existing);

  ReferralRepository* const inner_;
  const SwedishCalendar* const calendar_;
  const std::vector<slussen::v1::DeadlineRuleSet> rule_sets_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DEADLINE_KEEPER_H_
