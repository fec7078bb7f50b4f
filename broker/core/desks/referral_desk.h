// The referral desk: the core's use cases for referrals (create, get, list,
// and the named actions of the agency and, after acceptance, the provider),
// over the storage interface.
//
// It validates every request, checks who may see and do what (access.h,
// lifecycle.h), pseudonymises personnummer, builds the change and the event
// describing it, and has the repository write both in one atomic step. A
// lost race (another replica changed the referral in between) is retried on
// a fresh read unless the caller pinned an etag.
//
//   ReferralDesk desk(&repository, &clock, &ids, &pseudonymizer, &calendar,
//                     audit);
//   ASSIGN_OR_RETURN(v1::Referral made, desk.CreateReferral(caller, request));
//
// Thread-safe if its collaborators are; it holds no mutable state. All
// collaborators must outlive it.
#ifndef SLUSSEN_BROKER_CORE_DESKS_REFERRAL_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_REFERRAL_DESK_H_

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/core/desks/transitions.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/names.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/core/ports/ids.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"

namespace slussen::core {

class ReferralDesk {
 public:
  // `audit` records the reads of personal data: required, so that no desk
  // can be made that reads without auditing. `directory` checks that what a
  // referral names (its activity type, framework agreement, team,
  // preferred provider) exists; null leaves that out (tests of the
  // referral logic alone).
  ReferralDesk(ReferralRepository* repository, const Clock* clock,
               IdGenerator* ids, const Pseudonymizer* pseudonymizer,
               const SwedishCalendar* calendar, AuditRepository& audit,
               DirectoryRepository* directory = nullptr);

  // Whether a new referral, valid and about to be written RECEIVED, would
  // only be queued by matching now: then the create writes it QUEUED at
  // once, the QUEUE transition (by the system) and its event with it, in
  // one write rather than two (match_scheduler.h decides).
  using QueueAtOnce = std::function<bool(const ReferralRecord& record)>;

  // With `matching_changes`, sets it to CreateOutcome::matching_changes of
  // the write (empty when the repository keeps none, or the request was a
  // retry of one already written).
  absl::StatusOr<slussen::v1::Referral> CreateReferral(
      const Caller& caller, const slussen::v1::CreateReferralRequest& request,
      const QueueAtOnce& queue_at_once = nullptr,
      std::string* matching_changes = nullptr);

  absl::StatusOr<slussen::v1::Referral> GetReferral(
      const Caller& caller, const slussen::v1::GetReferralRequest& request);

  // The referral `caller` just created, as it is now (after matching), for
  // the create's answer. Not audited as a read: the creation's own audit
  // record covers the data the creator sent and gets back.
  absl::StatusOr<slussen::v1::Referral> ViewAfterCreate(
      const Caller& caller, const std::string& name);

  absl::StatusOr<slussen::v1::ListReferralsResponse> ListReferrals(
      const Caller& caller, const slussen::v1::ListReferralsRequest& request);

  absl::StatusOr<slussen::v1::Referral> CancelReferral(
      const Caller& caller, const slussen::v1::CancelReferralRequest& request);
  // A returned referral (the provider could not contact the participant,
  // or the participant declined) back to the queue, at its old place.
  absl::StatusOr<slussen::v1::Referral> ResubmitReferral(
      const Caller& caller,
      const slussen::v1::ResubmitReferralRequest& request);
  // The referring agency sets or lifts protected personal data: from then
  // on only it and the provider holding the referral see the referral, and
  // the participant's kommun is gone (Referral.protected_personal_data).
  absl::StatusOr<slussen::v1::Referral> SetProtectedPersonalData(
      const Caller& caller,
      const slussen::v1::SetProtectedPersonalDataRequest& request);

  // What a provider records after accepting.
  absl::StatusOr<slussen::v1::Referral> RecordContact(
      const Caller& caller, const slussen::v1::RecordContactRequest& request);
  absl::StatusOr<slussen::v1::Referral> StartReferral(
      const Caller& caller, const slussen::v1::StartReferralRequest& request);
  absl::StatusOr<slussen::v1::Referral> RecordAttendanceDeviation(
      const Caller& caller,
      const slussen::v1::RecordAttendanceDeviationRequest& request);
  absl::StatusOr<slussen::v1::Referral> CompleteReferral(
      const Caller& caller,
      const slussen::v1::CompleteReferralRequest& request);
  absl::StatusOr<slussen::v1::Referral> ExitReferral(
      const Caller& caller, const slussen::v1::ExitReferralRequest& request);
  absl::StatusOr<slussen::v1::Referral> RecordFollowUp(
      const Caller& caller, const slussen::v1::RecordFollowUpRequest& request);

 private:
  // ALREADY_EXISTS when the participant of `record` (the same personnummer,
  // or the same pseudonym of the caller's organisation) has another open
  // referral to the same activity type, unless the referral says why a
  // second one is right (second_referral_reason). The open referral is
  // named when it is the caller's own; another organisation's is not. A
  // retry of the create that made it (`request_id`) is no second referral.
  absl::Status CheckNoOpenTwin(const Caller& caller,
                               const ReferralRecord& record,
                               const std::string& request_id) const;
  // Runs `action` for `caller` and renders the referral for it.
  absl::StatusOr<slussen::v1::Referral> Act(const Caller& caller,
                                            Transitions::Request request);

  ReferralRepository* const repository_;
  const Clock* const clock_;
  IdGenerator* const ids_;
  const Pseudonymizer* const pseudonymizer_;
  const SwedishCalendar* const calendar_;
  DirectoryRepository* const directory_;
  AuditRepository& audit_;
  const Transitions transitions_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_REFERRAL_DESK_H_
