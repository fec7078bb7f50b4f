// What a change of state does to the referral's place: the offer it holds
// and the capacity it takes. One function says it for every action, so the
// referral, its offer and the offering's counters always move together.
//
//   OFFERED  --ACCEPT-->               offer ACCEPTED;   held -1, occupied +1
//   OFFERED  --DECLINE/EXPIRE_OFFER--> offer DECLINED/EXPIRED; held -1; the
//                                      offering is excluded from now on,
//                                      except after a NO_CAPACITY decline:
//                                      then the unit closes at what it
//                                      holds until capacity is published
//   OFFERED  --CANCEL/WITHDRAW_CONSENT/REQUEUE--> offer WITHDRAWN; held -1
//   ACCEPTED --CANCEL/WITHDRAW_CONSENT/REQUEUE--> occupied -1
//   STARTED  --COMPLETE/EXIT/WITHDRAW_CONSENT-->  occupied -1 (places and
//                                      caseload; a cohort's seat stays used)
//   OFFERED/ACCEPTED --MOVE_PLACE-->   the place (and the offer) move to the
//                                      transition's cohort, which needs room
// Leaving for QUEUED or WITHDRAWN also ends the assignment (the provider no
// longer sees the referral); COMPLETED and EXITED keep it for follow-up.
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_DESKS_PLACEMENT_H_
#define SLUSSEN_BROKER_CORE_DESKS_PLACEMENT_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/offer.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// The capacity unit the referral's place is counted in: its cohort's id, or
// "-" for places and caseload.
std::string PlacementUnit(const slussen::v1::Referral& referral);

// Applies to `change` (whose `changed` record already has its new state and
// transition) what `action` does to the place of `read`: the offer (from
// `offer_read`, the live offer when `read` is OFFERED), the capacity, the
// assignment. `transition` supplies the answer's details (decline reason,
// note).
void ApplyPlacementEffects(const ReferralRecord& read,
                           const OfferRecord* offer_read,
                           const slussen::v1::Transition& transition,
                           absl::Time now, const Caller& caller,
                           ReferralChange& change);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_PLACEMENT_H_
