// Joint referrals (samordnad insats, Referral.joint): one referral that
// several agencies make together for one participant, to an activity a
// samordningsförbund funds. The agency that creates it is the lead
// (`referring_organisation`); each other party has a role:
//
//   lead         sees the whole referral, takes every agency action;
//   co-referrer  sees it as far as the consent gives it (access.h redacts),
//                lists it, follows its events; may cancel it and record
//                that the participant withdrew consent;
//   informed     sees, lists and follows it the same way; takes no action.
//
//   RETURN_IF_ERROR(ValidateJointReferral(referral, "referral."));
//   if (IsReferringParty(record.referral, caller.organisation)) ...
//   RETURN_IF_ERROR(CheckJointPartyMayTake(caller, referral, action));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_JOINT_H_
#define SLUSSEN_BROKER_CORE_MODEL_JOINT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/caller.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// At most this many parties besides the lead: Finsam's four agencies
// (Försäkringskassan, Arbetsförmedlingen, a kommun, a region) with room
// for a second kommun of a förbund of several.
inline constexpr int kMaxJointParties = 4;

// The part `organisation` plays in `referral`: LEAD for the referring
// organisation, the listed role for a party, UNSPECIFIED for any other (and
// for every organisation but the referring one when the referral is not
// joint).
slussen::v1::JointPartyRole JointRoleOf(const slussen::v1::Referral& referral,
                                        absl::string_view organisation);

// Whether `organisation` made the referral, alone or jointly: the lead or
// one of the parties.
bool IsReferringParty(const slussen::v1::Referral& referral,
                      absl::string_view organisation);

// The parties' organisations, in the order given (not the lead's).
std::vector<std::string> JointOrganisations(
    const slussen::v1::Referral& referral);

// Whether an agency caller that is a party but not the lead may take
// `action`: a co-referrer may cancel and record a withdrawn consent, an
// informed party nothing. True for everyone else (the lead, other roles:
// their own rules apply).
bool JointPartyMayTake(const Caller& caller,
                       const slussen::v1::Referral& referral,
                       slussen::v1::Action action);

// PERMISSION_DENIED naming the party's role and the lead when
// !JointPartyMayTake.
absl::Status CheckJointPartyMayTake(const Caller& caller,
                                    const slussen::v1::Referral& referral,
                                    slussen::v1::Action action);

// The rules of `referral.joint` for a new referral (`prefix` is the path of
// the referral, e.g. "referral."): only for an activity referral, not with
// protected personal data; funding_organisation an organisation id; 1..4
// parties, each an organisation id once, role CO_REFERRER or INFORMED, and
// named by a scope of the consent (its organisation), which is what the
// party will see. OK when the referral is not joint. Whether the lead is
// among the parties is the caller's to check (CheckLeadIsNoParty).
absl::Status ValidateJointReferral(const slussen::v1::Referral& referral,
                                   absl::string_view prefix);

// INVALID_ARGUMENT when `lead` (the creating agency) is listed among the
// parties of `referral.joint`.
absl::Status CheckLeadIsNoParty(const slussen::v1::Referral& referral,
                                absl::string_view lead,
                                absl::string_view prefix);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_JOINT_H_
