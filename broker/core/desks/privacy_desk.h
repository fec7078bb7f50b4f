// The privacy desk: the audit trail (subject access, chain verification),
// erasure of a participant on request, and erasure at the end of the
// retention period.
//
// The audit trail and erasure of a region are for its coordinators and for
// admins (PERMISSION_DENIED for anyone else). A participant is named by the
// personnummer (hashed at once, never kept) or by the agencies' participant
// pseudonym.
//
// Erasure removes the participant from every finished referral of the
// region (access.h ErasePersonalData) in one atomic write per referral
// with an event and an ERASE audit record; statistics keep what they count.
// Open referrals are refused: the participation must end first.
//
// Thread-safe if its collaborators are; it holds no mutable state.
#ifndef SLUSSEN_BROKER_CORE_DESKS_PRIVACY_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_PRIVACY_DESK_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/privacy_service.pb.h"

namespace slussen::core {

class PrivacyDesk {
 public:
  // All must outlive the desk.
  PrivacyDesk(ReferralRepository* referrals, AuditRepository& audit,
              const Clock* clock, const Pseudonymizer* pseudonymizer,
              const SwedishCalendar* calendar);

  absl::StatusOr<slussen::v1::ListAuditRecordsResponse> ListAuditRecords(
      const Caller& caller,
      const slussen::v1::ListAuditRecordsRequest& request);
  absl::StatusOr<slussen::v1::VerifyAuditChainResponse> VerifyAuditChain(
      const Caller& caller,
      const slussen::v1::VerifyAuditChainRequest& request);
  absl::StatusOr<slussen::v1::EraseParticipantResponse> EraseParticipant(
      const Caller& caller,
      const slussen::v1::EraseParticipantRequest& request);

  // Erases the personal data of `region`'s referrals that finished at least
  // `retention` before now, at most `limit` of them; how many it erased.
  absl::StatusOr<int> EraseExpired(const std::string& region,
                                   absl::Duration retention, int limit);

 private:
  // The region of `parent` if `caller` may work on its privacy.
  absl::StatusOr<std::string> PrivacyRegion(const Caller& caller,
                                            absl::string_view parent) const;

  // The referrals of the participant a request names, and (by
  // personnummer) the pseudonym of the number. Agencies choose their
  // participant pseudonyms, so one used by several agencies may name
  // several people: FAILED_PRECONDITION then (name them by personnummer).
  // A participant's referrals in a region, without those with protected
  // personal data, which coordinators and admins are not to learn of;
  // `withheld` names what those were (the referrals, their consents and
  // offers), for leaving their audit records out too.
  struct Subject {
    std::vector<ReferralRecord> referrals;
    std::string personnummer_pseudonym;
    std::set<std::string> withheld;
  };
  template <typename Request>
  absl::StatusOr<Subject> FindSubject(const std::string& region,
                                      const Request& request) const;

  // Erases `read` (a finished referral) for `actor` with `reason`.
  absl::Status Erase(const ReferralRecord& read, const Caller& actor,
                     absl::string_view reason) const;

  ReferralRepository* const referrals_;
  AuditRepository& audit_;
  const Clock* const clock_;
  const Pseudonymizer* const pseudonymizer_;
  const SwedishCalendar* const calendar_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_PRIVACY_DESK_H_
