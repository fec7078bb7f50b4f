#include "broker/core/desks/transitions.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "broker/core/desks/placement.h"
#include "broker/core/model/access.h"
#include "broker/core/model/events.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

// Lost races are retried this many times before answering ABORTED.
constexpr int kMaxAttempts = 5;

// Whether `request_id` was already applied to this referral by this
// organisation with this action: a retry to answer with the current state.
bool AlreadyApplied(const v1::Referral& referral, const Caller& caller,
                    v1::Action action, absl::string_view request_id) {
  if (request_id.empty()) return false;
  for (const v1::Transition& t : referral.history()) {
    if (t.request_id() == request_id && t.action() == action &&
        t.actor().organisation() == caller.organisation) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<ReferralRecord> Transitions::Load(
    const Caller& caller, const ReferralName& name) const {
  absl::StatusOr<ReferralRecord> record =
      repository_->Get(name.region, name.id);
  if (absl::IsNotFound(record.status()) ||
      (record.ok() && !CanSee(caller, *record))) {
    return absl::NotFoundError(
        absl::StrCat("referral ", name.ToString(), " not found"));
  }
  return record;
}

absl::StatusOr<ReferralRecord> Transitions::Run(const Caller& caller,
                                                const Request& request) const {
  RETURN_IF_ERROR(CheckRoleMayTake(request.action, caller.role));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(const ReferralRecord read, Load(caller, request.name));
    if (AlreadyApplied(read.referral, caller, request.action,
                       request.request_id)) {
      return read;
    }
    RETURN_IF_ERROR(
        CheckJointPartyMayTake(caller, read.referral, request.action));
    const std::string etag = absl::StrCat(read.version);
    if (!request.etag.empty() && request.etag != etag) {
      return absl::AbortedError(absl::StrCat(
          "etag ", QuoteValue(request.etag), " of ", read.referral.name(),
          " is no longer current (now ", QuoteValue(etag),
          "): it changed since it was read; get it again"));
    }
    if (request.check) RETURN_IF_ERROR(request.check(read));
    absl::StatusOr<v1::ReferralState> allowed =
        NextState(read.referral, request.action, caller.role);
    if (absl::IsFailedPrecondition(allowed.status())) {
      // Named, so that the answer (and its PreconditionFailure) says which.
      return absl::FailedPreconditionError(
          absl::StrCat(read.referral.name(), ": ", allowed.status().message()));
    }
    ASSIGN_OR_RETURN(const v1::ReferralState next, std::move(allowed));
    // The live offer, which the action answers or withdraws.
    std::optional<OfferRecord> offer;
    if (read.referral.state() == v1::REFERRAL_STATE_OFFERED &&
        !read.referral.current_offer().empty()) {
      ASSIGN_OR_RETURN(
          const OfferName offer_name,
          ParseOfferName("current_offer", read.referral.current_offer()));
      ASSIGN_OR_RETURN(offer,
                       repository_->GetOffer(offer_name.region, offer_name.id));
    }
    const absl::Time now = clock_->Now();
    v1::Transition transition;
    transition.set_action(request.action);
    transition.set_from_state(read.referral.state());
    transition.set_to_state(next);
    *transition.mutable_time() = ToProtoTimestamp(now);
    *transition.mutable_actor() = caller.ToActor();
    transition.set_request_id(request.request_id);
    transition.set_offering(read.referral.assigned_offering());
    transition.set_offer(read.referral.current_offer());
    if (request.describe) request.describe(transition);
    transition.set_to_state(StateAfter(transition, next));

    ReferralChange change{.read = &read, .changed = read};
    v1::Referral& referral = change.changed.referral;
    referral.set_state(transition.to_state());
    *referral.mutable_update_time() = ToProtoTimestamp(now);
    ApplyPlacementEffects(read, offer ? &*offer : nullptr, transition, now,
                          caller, change);
    if (request.extend) request.extend(read, change);
    *referral.add_history() = transition;
    change.event = ReferralEvent(change.changed, transition);
    if (change.event.provider_organisation().empty()) {
      // A change that takes the referral from the provider holding or
      // serving it (a cancel, an expired hold) names that provider, so
      // that its live view hears the referral left it.
      change.event.set_provider_organisation(read.assigned_organisation);
      change.event.set_provider(read.referral.assigned_provider());
    }

    absl::StatusOr<int64_t> version = repository_->Apply(change);
    if (version.ok()) {
      change.changed.version = *version;
      return change.changed;
    }
    if (!absl::IsAborted(version.status()) || !request.etag.empty()) {
      return version.status();
    }
  }
  return absl::AbortedError(
      absl::StrCat(request.name.ToString(),
                   " kept changing while the action was applied; try again"));
}

}  // namespace slussen::core
