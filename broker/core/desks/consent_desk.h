// The consent desk: reading and withdrawing participants' consents.
//
// A consent is given with the referral it covers (CreateReferral) and named
// after it: "regions/{r}/consents/{referral id}". Whoever may see the
// referral may read its consent (NOT_FOUND otherwise, and for an impulse,
// which carries none). Withdrawal, recorded by the referring agency or the
// provider the participant told, ends the participation: an open referral
// goes to WITHDRAWN through the lifecycle (its offer withdrawn, its place
// freed, its clocks closed, one event), and from then on nobody but the
// referring agency sees the participant's data, because sharing rests only
// on a consent in force (access.h). A finished referral keeps its state;
// the withdrawal is recorded and stops the sharing the same way.
//
// Reads that reveal which participant a consent is about are audited.
//
// Thread-safe if its collaborators are; it holds no mutable state.
#ifndef SLUSSEN_BROKER_CORE_DESKS_CONSENT_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_CONSENT_DESK_H_

#include "absl/status/statusor.h"
#include "broker/core/desks/transitions.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/consent.pb.h"
#include "slussen/v1/consent_service.pb.h"

namespace slussen::core {

class ConsentDesk {
 public:
  // All must outlive the desk; `audit` records the reads of personal data.
  ConsentDesk(ReferralRepository* referrals, AuditRepository& audit,
              const Clock* clock);

  absl::StatusOr<slussen::v1::Consent> GetConsent(
      const Caller& caller, const slussen::v1::GetConsentRequest& request);
  absl::StatusOr<slussen::v1::ListConsentsResponse> ListConsents(
      const Caller& caller, const slussen::v1::ListConsentsRequest& request);
  absl::StatusOr<slussen::v1::Consent> WithdrawConsent(
      const Caller& caller, const slussen::v1::WithdrawConsentRequest& request);

 private:
  // The referral of a consent name, if `caller` may see it and it carries
  // a consent; NOT_FOUND otherwise.
  absl::StatusOr<ReferralRecord> LoadConsent(const Caller& caller,
                                             absl::string_view name) const;

  ReferralRepository* const referrals_;
  AuditRepository& audit_;
  const Clock* const clock_;
  const Transitions transitions_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_CONSENT_DESK_H_
