// The coordinator's desk: the worklist of open deadline clocks (overdue
// first), a clock, and its pauses; the deadline rules in force.
//
// Who sees what: a coordinator sees every clock of its region; a provider
// the clocks that await it; an agency the clocks of the referrals it made.
// A clock is visible exactly when its referral is (access.h); otherwise it
// is NOT_FOUND. A clock is paused or resumed by the organisation it awaits
// or by the region's coordinator.
//
// Thread-safe if its collaborators are.
#ifndef SLUSSEN_BROKER_CORE_DESKS_COORDINATOR_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_COORDINATOR_DESK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/desks/queue_desk.h"
#include "broker/core/desks/transitions.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/clock.h"
#include "slussen/v1/coordinator_service.pb.h"

namespace slussen::core {

class CoordinatorDesk {
 public:
  // All must outlive the desk.
  // `audit` records the SUS export's reads of personal data.
  CoordinatorDesk(DeadlineKeeper* keeper, QueueDesk* queues, const Clock* clock,
                  const SwedishCalendar* calendar, AuditRepository& audit)
      : keeper_(keeper),
        queues_(queues),
        clock_(clock),
        calendar_(calendar),
        audit_(audit),
        transitions_(keeper, clock) {}

  absl::StatusOr<slussen::v1::ListWorklistResponse> ListWorklist(
      const Caller& caller, const slussen::v1::ListWorklistRequest& request);
  absl::StatusOr<slussen::v1::Clock> GetClock(
      const Caller& caller, const slussen::v1::GetClockRequest& request);
  absl::StatusOr<slussen::v1::Clock> PauseClock(
      const Caller& caller, const slussen::v1::PauseClockRequest& request);
  absl::StatusOr<slussen::v1::Clock> ResumeClock(
      const Caller& caller, const slussen::v1::ResumeClockRequest& request);
  absl::StatusOr<slussen::v1::QueueOverview> GetQueueOverview(
      const Caller& caller,
      const slussen::v1::GetQueueOverviewRequest& request);
  absl::StatusOr<slussen::v1::ResponseTimeStatistics> GetResponseTimeStatistics(
      const Caller& caller,
      const slussen::v1::GetResponseTimeStatisticsRequest& request);
  absl::StatusOr<slussen::v1::OutcomeReport> GetOutcomeReport(
      const Caller& caller,
      const slussen::v1::GetOutcomeReportRequest& request);
  // The SUS registrations of a period (reports.h SusExportOf): for the
  // region's coordinators, or a provider (the referrals it held or
  // served). The rows that name a participant are audited as reads.
  absl::StatusOr<slussen::v1::SusExport> ExportSusRegistrations(
      const Caller& caller,
      const slussen::v1::ExportSusRegistrationsRequest& request);
  // Admins only.
  absl::StatusOr<slussen::v1::DeadlineRuleSet> CreateDeadlineRuleSet(
      const Caller& caller,
      const slussen::v1::CreateDeadlineRuleSetRequest& request);
  absl::StatusOr<slussen::v1::ListDeadlineRuleSetsResponse>
  ListDeadlineRuleSets(const Caller& caller,
                       const slussen::v1::ListDeadlineRuleSetsRequest& request);

 private:
  // The clock named `name` and its referral, if `caller` may see them.
  struct Visible {
    ClockRecord clock;
    ReferralRecord referral;
  };
  absl::StatusOr<Visible> Load(const Caller& caller, absl::string_view field,
                               const std::string& name);
  // A worklist page being made.
  struct Page {
    const Caller& caller;
    const slussen::v1::ListWorklistRequest& request;
    const std::string& region;
    int page_size = 0;
    uint64_t fingerprint = 0;
    absl::Time now;
    absl::Time horizon;
    slussen::v1::ListWorklistResponse* response = nullptr;
    // The page token cursor of the last item added.
    std::string last_cursor;
  };
  // Adds to `page` the items after `after` (from the first when nullopt),
  // and the token of the next page if another follows.
  absl::Status FillWorklist(Page& page, std::optional<OpenClockPosition> after);
  // Adds the clocks of `candidates` (in order) that the page shows, until
  // it is full; true when it is full and another item follows.
  absl::StatusOr<bool> AddItems(
      Page& page, const std::vector<const ClockRecord*>& candidates);
  // PERMISSION_DENIED unless `caller` is the awaited organisation or the
  // region's coordinator.
  static absl::Status CheckMayPause(const Caller& caller,
                                    const ClockRecord& clock);
  // The region of `parent` ("regions/{region}") if `caller` is its
  // coordinator: the reports are theirs.
  static absl::StatusOr<std::string> CoordinatedRegion(
      const Caller& caller, const std::string& parent);

  // The referrals `query` walks, page by page (FAILED_PRECONDITION past
  // the most one report reads).
  absl::StatusOr<std::vector<ReferralRecord>> EveryReferral(
      ListQuery query) const;

  DeadlineKeeper* const keeper_;
  QueueDesk* const queues_;
  const Clock* const clock_;
  const SwedishCalendar* const calendar_;
  AuditRepository& audit_;
  const Transitions transitions_;
};

// What `kind` awaits, in words ("a call-back to the referring unit").
std::string AwaitedAction(slussen::v1::ClockKind kind);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_COORDINATOR_DESK_H_
