// The lifecycle of a referral: which named action may be taken in which
// state, by which role, and the state it leads to.
//
// The table in lifecycle.cc is the single statement of the state machine
// drawn in referral.proto; everything that changes a referral's state asks
// it. Thread-safe: constant data and pure functions.
//
//   ASSIGN_OR_RETURN(v1::ReferralState next,
//                    NextState(referral, v1::ACTION_CANCEL, role));
#ifndef SLUSSEN_BROKER_CORE_MODEL_LIFECYCLE_H_
#define SLUSSEN_BROKER_CORE_MODEL_LIFECYCLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "slussen/v1/common.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// Whether no action leads out of `state`.
bool IsTerminal(slussen::v1::ReferralState state);

// The actions `role` may take on `referral` now, in enum order.
std::vector<slussen::v1::Action> AllowedActions(
    const slussen::v1::Referral& referral, slussen::v1::Role role);

// PERMISSION_DENIED unless `role` may take `action` in some state. Checked
// before a referral is even read, so the answer reveals nothing about it.
absl::Status CheckRoleMayTake(slussen::v1::Action action,
                              slussen::v1::Role role);

// The state `action` leads to from the referral's state when taken by
// `role`: PERMISSION_DENIED if the role may never take the action,
// FAILED_PRECONDITION (naming the states that allow it) if the referral does
// not allow it now.
absl::StatusOr<slussen::v1::ReferralState> NextState(
    const slussen::v1::Referral& referral, slussen::v1::Action action,
    slussen::v1::Role role);

// The state `transition` leads to, given the `next` state NextState gave
// for its action: a decline for a reason about the participant (could not
// contact, the participant declined) returns the referral to the referring
// agency (RETURNED) instead of to the queue; anything else leads to `next`.
slussen::v1::ReferralState StateAfter(const slussen::v1::Transition& transition,
                                      slussen::v1::ReferralState next);

// Short names for messages: "QUEUED", "CANCEL", "AGENCY".
absl::string_view StateName(slussen::v1::ReferralState state);
absl::string_view ActionName(slussen::v1::Action action);
absl::string_view RoleName(slussen::v1::Role role);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_LIFECYCLE_H_
