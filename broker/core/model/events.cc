#include "broker/core/model/events.h"

#include "broker/core/model/access.h"

namespace slussen::core {

namespace v1 = ::slussen::v1;

v1::EventType EventTypeFor(v1::Action action) {
  switch (action) {
    case v1::ACTION_CREATE:
      return v1::EVENT_TYPE_REFERRAL_CREATED;
    case v1::ACTION_QUEUE:
    case v1::ACTION_REQUEUE:
      return v1::EVENT_TYPE_REFERRAL_QUEUED;
    case v1::ACTION_REJECT:
      return v1::EVENT_TYPE_REFERRAL_REJECTED;
    case v1::ACTION_OFFER:
      return v1::EVENT_TYPE_OFFER_MADE;
    case v1::ACTION_ACCEPT:
      return v1::EVENT_TYPE_OFFER_ACCEPTED;
    case v1::ACTION_DECLINE:
      return v1::EVENT_TYPE_OFFER_DECLINED;
    case v1::ACTION_EXPIRE_OFFER:
      return v1::EVENT_TYPE_OFFER_EXPIRED;
    case v1::ACTION_RECORD_CONTACT:
      return v1::EVENT_TYPE_CONTACT_RECORDED;
    case v1::ACTION_START:
      return v1::EVENT_TYPE_PARTICIPATION_STARTED;
    case v1::ACTION_RECORD_ATTENDANCE_DEVIATION:
      return v1::EVENT_TYPE_ATTENDANCE_DEVIATION;
    case v1::ACTION_COMPLETE:
      return v1::EVENT_TYPE_PARTICIPATION_COMPLETED;
    case v1::ACTION_EXIT:
      return v1::EVENT_TYPE_PARTICIPATION_EXITED;
    case v1::ACTION_RECORD_FOLLOW_UP:
      return v1::EVENT_TYPE_FOLLOW_UP_RECORDED;
    case v1::ACTION_CANCEL:
      return v1::EVENT_TYPE_REFERRAL_CANCELLED;
    case v1::ACTION_RESUBMIT:
      return v1::EVENT_TYPE_REFERRAL_RESUBMITTED;
    case v1::ACTION_WITHDRAW_CONSENT:
      return v1::EVENT_TYPE_CONSENT_WITHDRAWN;
    case v1::ACTION_MOVE_PLACE:
      return v1::EVENT_TYPE_COHORT_DECIDED;
    case v1::ACTION_SET_PROTECTED_PERSONAL_DATA:
      return v1::EVENT_TYPE_PROTECTED_PERSONAL_DATA_CHANGED;
    default:
      return v1::EVENT_TYPE_UNSPECIFIED;
  }
}

v1::Event ReferralEvent(const ReferralRecord& record,
                        const v1::Transition& transition) {
  v1::Event event;
  event.set_type(EventTypeFor(transition.action()));
  *event.mutable_time() = transition.time();
  *event.mutable_actor() = transition.actor();
  event.set_request_id(transition.request_id());
  event.set_referral(record.referral.name());
  event.set_referral_kind(record.referral.kind());
  event.set_referring_organisation(record.referral.referring_organisation());
  *event.mutable_transition() = transition;
  event.mutable_transition()->clear_note();
  StripParticipantFacts(event);
  event.set_offer(transition.offer());
  event.set_offering(transition.offering());
  event.set_provider(record.referral.assigned_provider());
  event.set_provider_organisation(record.assigned_organisation);
  event.set_protected_personal_data(record.referral.protected_personal_data());
  // The other agencies of a joint referral follow it; not once protected
  // personal data leaves only the referring agency knowing of it.
  if (!record.referral.protected_personal_data()) {
    for (const v1::JointParty& party : record.referral.joint().parties()) {
      event.add_joint_organisations(party.organisation());
    }
  }
  return event;
}

}  // namespace slussen::core
