// The queue desk: where a waiting referral stands, why, and when it can
// expect to start; the whole queue for coordinators; the priority policy.
//
// Positions are computed on demand from the region's snapshot with the same
// matcher the matchmaker runs, so what a caller reads is what the next pass
// would do. Estimates for places and caseload use the days the started
// participants finish their programme (their start plus the schedule's
// weeks); for cohorts, the published cohorts. Reasons that rest on the
// participant's attributes (days left in the sickness insurance) are shown only
// to those the consent lets see them.
//
// Thread-safe if its collaborators are; it holds no mutable state.
#ifndef SLUSSEN_BROKER_CORE_DESKS_QUEUE_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_QUEUE_DESK_H_

#include "absl/status/statusor.h"
#include "broker/core/desks/matchmaker.h"
#include "broker/core/desks/transitions.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/event_log.h"
#include "slussen/v1/coordinator_service.pb.h"
#include "slussen/v1/queue_service.pb.h"

namespace slussen::core {

class QueueDesk {
 public:
  // All must outlive the desk.
  QueueDesk(Matchmaker* matchmaker, ReferralRepository* referrals,
            const Clock* clock)
      : matchmaker_(matchmaker),
        referrals_(referrals),
        clock_(clock),
        transitions_(referrals, clock) {}

  absl::StatusOr<slussen::v1::QueuePosition> GetQueuePosition(
      const Caller& caller,
      const slussen::v1::GetQueuePositionRequest& request);
  absl::StatusOr<slussen::v1::ListQueueEntriesResponse> ListQueueEntries(
      const Caller& caller,
      const slussen::v1::ListQueueEntriesRequest& request);
  // Every queue of `region` someone waits in or joined in the last
  // kForecastWindowWeeks: length, oldest wait, the estimated wait of a
  // referral arriving now (the estimate after the last in line), stale
  // offerings feeding it, and its shortfall forecast (model/forecast.h)
  // against its activity type's threshold. No personal data.
  absl::StatusOr<slussen::v1::QueueOverview> Overview(
      const std::string& region);

  // Tells the region's coordinators of every queue whose forecast passes
  // its activity type's threshold: an EVENT_TYPE_QUEUE_SHORTFALL_FORECAST
  // in `log`, once per queue and week (AppendOnce, so replicas checking
  // at the same time tell it once). The number of events appended.
  absl::StatusOr<int> WarnShortfalls(const std::string& region, EventLog& log);

  absl::StatusOr<slussen::v1::PriorityPolicy> GetPriorityPolicy(
      const Caller& caller,
      const slussen::v1::GetPriorityPolicyRequest& request);

  // The region's waiting referrals placed by the policy in force and by
  // the request's candidate, side by side, with nothing written
  // (coordinators of the region).
  absl::StatusOr<slussen::v1::PriorityPolicyPreview> PreviewPriorityPolicy(
      const Caller& caller,
      const slussen::v1::PreviewPriorityPolicyRequest& request);

 private:
  Matchmaker* const matchmaker_;
  ReferralRepository* const referrals_;
  const Clock* const clock_;
  const Transitions transitions_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_QUEUE_DESK_H_
