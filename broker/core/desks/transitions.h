// Running a named action on a stored referral: the one path every change of
// a referral's state takes after it was created.
//
// Run loads the referral (NOT_FOUND when the caller may not see it, with the
// same words as when it does not exist), answers a retried request_id with
// the state it produced, checks the etag, the caller's role and the
// lifecycle, builds the transition, what it does to the place (placement.h)
// and the event, and has the repository write it all in one atomic step. A
// lost race is retried on a fresh read unless the caller pinned an etag.
//
//   ASSIGN_OR_RETURN(ReferralRecord done,
//                    transitions.Run(caller, {.name = name,
//                                             .action = v1::ACTION_CANCEL}));
//
// Thread-safe if its collaborators are; it holds no mutable state.
#ifndef SLUSSEN_BROKER_CORE_DESKS_TRANSITIONS_H_
#define SLUSSEN_BROKER_CORE_DESKS_TRANSITIONS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/names.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

class Transitions {
 public:
  struct Request {
    ReferralName name;
    slussen::v1::Action action = slussen::v1::ACTION_UNSPECIFIED;
    // Optional: the change fails with ABORTED unless the referral is still
    // at this etag.
    std::string etag;
    // Optional: a retry with this id returns the referral unchanged.
    std::string request_id;
    // Fills the action's details (reasons, note) into the transition.
    std::function<void(slussen::v1::Transition&)> describe;
    // Checks the loaded referral before anything is decided (for example
    // that the offer answered is its live one).
    std::function<absl::Status(const ReferralRecord&)> check;
    // Adds to the change what only the caller knows (a new offer).
    std::function<void(const ReferralRecord& read, ReferralChange&)> extend;
  };

  // Both must outlive this object.
  Transitions(ReferralRepository* repository, const Clock* clock)
      : repository_(repository), clock_(clock) {}

  // The referral after the action.
  absl::StatusOr<ReferralRecord> Run(const Caller& caller,
                                     const Request& request) const;

  // The stored referral if `caller` may see it; NOT_FOUND otherwise.
  absl::StatusOr<ReferralRecord> Load(const Caller& caller,
                                      const ReferralName& name) const;

 private:
  ReferralRepository* const repository_;
  const Clock* const clock_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_TRANSITIONS_H_
