// Events that describe changes of referrals, as written to the region's
// event stream together with the change.
//
// An event carries references, codes and states; never personal data or free
// text (a transition's note is dropped), because watchers in other
// organisations read the stream. Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_EVENTS_H_
#define SLUSSEN_BROKER_CORE_MODEL_EVENTS_H_

#include "broker/core/model/records.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// The event type announcing `action`.
slussen::v1::EventType EventTypeFor(slussen::v1::Action action);

// The event for `transition` of `record` (whose referral already carries the
// transition's result).
slussen::v1::Event ReferralEvent(const ReferralRecord& record,
                                 const slussen::v1::Transition& transition);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_EVENTS_H_
