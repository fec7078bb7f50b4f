// The placement desk: offers and places. Providers answer the offers made
// to them and decide cohorts that miss their minimum; the broker itself
// (ROLE_SYSTEM: the matchmaker and the hold clock) queues, rejects, offers
// and expires. Every change goes through Transitions, so a referral, its
// offer and the capacity it holds move in one atomic step.
//
//   ASSIGN_OR_RETURN(v1::Offer accepted, desk.AcceptOffer(caller, request));
//
// Offers are visible to the provider they were made to and to the
// coordinators of their region; to anyone else they are NOT_FOUND. Why an
// offer fits and why it was declined are personal: they are read from the
// referral's history under the participant's consent (access.h
// OfferViewFor), and such a read is audited.
//
// Thread-safe if its collaborators are; it holds no mutable state.
#ifndef SLUSSEN_BROKER_CORE_DESKS_PLACEMENT_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_PLACEMENT_DESK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/core/desks/directory_desk.h"
#include "broker/core/desks/transitions.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/ids.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/offer.pb.h"
#include "slussen/v1/offer_service.pb.h"
#include "slussen/v1/provider_service.pb.h"

namespace slussen::core {

// The broker acting by itself.
Caller SystemCaller();

class PlacementDesk {
 public:
  // All must outlive the desk.
  PlacementDesk(ReferralRepository* referrals, DirectoryDesk* directory,
                AuditRepository& audit, const Clock* clock, IdGenerator* ids,
                const SwedishCalendar* calendar);

  absl::StatusOr<slussen::v1::Offer> GetOffer(
      const Caller& caller, const slussen::v1::GetOfferRequest& request);
  absl::StatusOr<slussen::v1::ListOffersResponse> ListOffers(
      const Caller& caller, const slussen::v1::ListOffersRequest& request);
  absl::StatusOr<slussen::v1::Offer> AcceptOffer(
      const Caller& caller, const slussen::v1::AcceptOfferRequest& request);
  absl::StatusOr<slussen::v1::Offer> DeclineOffer(
      const Caller& caller, const slussen::v1::DeclineOfferRequest& request);

  // Decides a cohort: START records it; CANCEL closes it and re-queues
  // everyone offered or accepted into it; MERGE moves them all to the other
  // cohort. Returns the decided cohort.
  absl::StatusOr<slussen::v1::Cohort> DecideCohort(
      const Caller& caller, const slussen::v1::DecideCohortRequest& request);

  // --- The broker's own actions (ROLE_SYSTEM) ---
  absl::StatusOr<ReferralRecord> Queue(const ReferralRecord& read);
  absl::StatusOr<ReferralRecord> Reject(const ReferralRecord& read,
                                        std::vector<std::string> reasons);
  // Offers `referral` a place of `offering` (in `cohort`, a cohort name,
  // for cohorts), holding it for the offering's hold time. ABORTED /
  // FAILED_PRECONDITION when the referral changed or the place went.
  struct OfferPlan {
    const slussen::v1::Offering* offering = nullptr;
    std::string provider_organisation;
    std::string cohort;
    slussen::v1::MatchExplanation explanation;
  };
  absl::StatusOr<ReferralRecord> MakeOffer(const ReferralRecord& read,
                                           const OfferPlan& plan);
  // Expires offer `id` of `region` if it is still held and its hold ran
  // out; OK (nothing to do) otherwise.
  absl::Status ExpireHold(const std::string& region, const std::string& id);

 private:
  // The offer if `caller` may see it by the offer alone (MaySeeOffer
  // without its referral); NOT_FOUND otherwise.
  absl::StatusOr<OfferRecord> LoadOffer(const Caller& caller,
                                        absl::string_view field,
                                        absl::string_view name) const;
  // `offers` (of `region`) as `caller` may see them, read with their
  // referrals, leaving out those it may not (MaySeeOffer); the reads that
  // show personal data are audited first.
  absl::StatusOr<std::vector<slussen::v1::Offer>> View(
      const Caller& caller, const std::vector<OfferRecord>& offers) const;
  // View of one offer; NOT_FOUND if `caller` may not see it.
  absl::StatusOr<slussen::v1::Offer> ViewOne(const Caller& caller,
                                             const OfferRecord& offer) const;
  // Runs the provider's answer `action` to offer `name`.
  absl::StatusOr<slussen::v1::Offer> Answer(
      const Caller& caller, absl::string_view name, slussen::v1::Action action,
      const std::string& request_id,
      std::function<void(slussen::v1::Transition&)> describe);
  // Every referral placed in `cohort` (offered or accepted).
  absl::StatusOr<std::vector<ReferralRecord>> PlacedIn(
      const std::string& region, const std::string& organisation,
      const std::string& cohort) const;

  ReferralRepository* const referrals_;
  DirectoryDesk* const directory_;
  AuditRepository& audit_;
  const Clock* const clock_;
  IdGenerator* const ids_;
  const SwedishCalendar* const calendar_;
  const Transitions transitions_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_PLACEMENT_DESK_H_
