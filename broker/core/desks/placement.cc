#include "broker/core/desks/placement.h"

#include "broker/core/model/proto_time.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

v1::OfferState OfferStateAfter(v1::Action action) {
  switch (action) {
    case v1::ACTION_ACCEPT:
      return v1::OFFER_STATE_ACCEPTED;
    case v1::ACTION_DECLINE:
      return v1::OFFER_STATE_DECLINED;
    case v1::ACTION_EXPIRE_OFFER:
      return v1::OFFER_STATE_EXPIRED;
    default:
      return v1::OFFER_STATE_WITHDRAWN;
  }
}

void Unassign(v1::Referral& referral, ReferralRecord& record) {
  record.assigned_organisation.clear();
  referral.clear_assigned_provider();
  referral.clear_assigned_offering();
  referral.clear_current_offer();
  referral.clear_cohort();
}

}  // namespace

std::string PlacementUnit(const v1::Referral& referral) {
  const std::string& cohort = referral.cohort();
  return cohort.empty() ? "-" : cohort.substr(cohort.rfind('/') + 1);
}

void ApplyPlacementEffects(const ReferralRecord& read,
                           const OfferRecord* offer_read,
                           const v1::Transition& transition, absl::Time now,
                           const Caller& caller, ReferralChange& change) {
  const v1::Referral& before = read.referral;
  v1::Referral& after = change.changed.referral;
  const v1::Action action = transition.action();
  const std::string& offering = before.assigned_offering();
  if (offering.empty()) return;
  CapacityDelta delta{.offering = offering, .unit = PlacementUnit(before)};
  if (action == v1::ACTION_MOVE_PLACE) {
    const bool offered = before.state() == v1::REFERRAL_STATE_OFFERED;
    after.set_cohort(transition.cohort());
    CapacityDelta into{.offering = offering,
                       .unit = PlacementUnit(after),
                       .require_room = true};
    (offered ? delta.held : delta.occupied) = -1;
    (offered ? into.held : into.occupied) = 1;
    change.capacity.push_back(delta);
    change.capacity.push_back(into);
    if (offered && offer_read != nullptr) {
      change.offer_read = offer_read;
      OfferRecord offer = *offer_read;
      offer.offer.set_cohort(transition.cohort());
      offer.unit = into.unit;
      change.offer = std::move(offer);
    }
    return;
  }
  // An annotation (contact, deviation, protected personal data, ...)
  // keeps the place as it is, a held offer included.
  if (after.state() == before.state()) return;

  switch (before.state()) {
    case v1::REFERRAL_STATE_OFFERED: {
      delta.held = -1;
      if (action == v1::ACTION_ACCEPT) delta.occupied = 1;
      if (offer_read != nullptr) {
        change.offer_read = offer_read;
        OfferRecord offer = *offer_read;
        v1::Offer& o = offer.offer;
        o.set_state(OfferStateAfter(action));
        *o.mutable_close_time() = ToProtoTimestamp(now);
        if (action == v1::ACTION_ACCEPT || action == v1::ACTION_DECLINE) {
          *o.mutable_answered_by() = caller.ToActor();
        }
        if (action == v1::ACTION_DECLINE) {
          // The note stays in the transition (access.h OfferViewFor).
          o.set_decline_reason(transition.decline_reason());
        }
        change.offer = std::move(offer);
      }
      // "No capacity" says the published capacity was wrong, not that the
      // referral does not fit: the unit closes at what it holds, and the
      // referral waits, the offering still among its candidates for when
      // the provider publishes capacity again. "Could not contact" says
      // nothing against the offering either: the referral goes back to
      // the agency (lifecycle.h StateAfter), and once resubmitted the same
      // provider may take it. Any other decline (not eligible, the
      // participant declined, other), and an expiry, excludes the
      // offering from now on.
      const v1::DeclineReason reason = transition.decline_reason();
      const bool no_capacity = action == v1::ACTION_DECLINE &&
                               reason == v1::DECLINE_REASON_NO_CAPACITY;
      delta.close = no_capacity;
      if ((action == v1::ACTION_DECLINE && !no_capacity &&
           reason != v1::DECLINE_REASON_COULD_NOT_CONTACT) ||
          action == v1::ACTION_EXPIRE_OFFER) {
        after.add_excluded_offerings(offering);
      }
      if (action == v1::ACTION_ACCEPT) {
        after.clear_current_offer();
      } else {
        Unassign(after, change.changed);
      }
      break;
    }
    case v1::REFERRAL_STATE_ACCEPTED:
      if (after.state() == v1::REFERRAL_STATE_ACCEPTED ||
          after.state() == v1::REFERRAL_STATE_STARTED) {
        return;  // annotations and the start keep the place
      }
      delta.occupied = -1;
      Unassign(after, change.changed);
      break;
    case v1::REFERRAL_STATE_STARTED:
      if (after.state() == v1::REFERRAL_STATE_STARTED) return;
      // A started cohort's seat stays used; places and cases free up.
      if (before.cohort().empty()) delta.occupied = -1;
      if (after.state() == v1::REFERRAL_STATE_WITHDRAWN) {
        Unassign(after, change.changed);
      }
      break;
    default:
      return;
  }
  if (delta.held != 0 || delta.occupied != 0 || delta.close) {
    change.capacity.push_back(delta);
  }
}

}  // namespace slussen::core
