#include "broker/core/model/joint.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

absl::string_view RoleWord(v1::JointPartyRole role) {
  switch (role) {
    case v1::JOINT_PARTY_ROLE_LEAD:
      return "the lead";
    case v1::JOINT_PARTY_ROLE_CO_REFERRER:
      return "a co-referrer";
    case v1::JOINT_PARTY_ROLE_INFORMED:
      return "kept informed";
    default:
      return "no party";
  }
}

}  // namespace

v1::JointPartyRole JointRoleOf(const v1::Referral& referral,
                               absl::string_view organisation) {
  if (organisation.empty()) return v1::JOINT_PARTY_ROLE_UNSPECIFIED;
  if (referral.referring_organisation() == organisation) {
    return v1::JOINT_PARTY_ROLE_LEAD;
  }
  for (const v1::JointParty& party : referral.joint().parties()) {
    if (party.organisation() == organisation) return party.role();
  }
  return v1::JOINT_PARTY_ROLE_UNSPECIFIED;
}

bool IsReferringParty(const v1::Referral& referral,
                      absl::string_view organisation) {
  return JointRoleOf(referral, organisation) !=
         v1::JOINT_PARTY_ROLE_UNSPECIFIED;
}

std::vector<std::string> JointOrganisations(const v1::Referral& referral) {
  std::vector<std::string> out;
  for (const v1::JointParty& party : referral.joint().parties()) {
    out.push_back(party.organisation());
  }
  return out;
}

bool JointPartyMayTake(const Caller& caller, const v1::Referral& referral,
                       v1::Action action) {
  if (caller.role != v1::ROLE_AGENCY) return true;
  switch (JointRoleOf(referral, caller.organisation)) {
    case v1::JOINT_PARTY_ROLE_CO_REFERRER:
      return action == v1::ACTION_CANCEL ||
             action == v1::ACTION_WITHDRAW_CONSENT;
    case v1::JOINT_PARTY_ROLE_INFORMED:
      return false;
    default:
      return true;
  }
}

absl::Status CheckJointPartyMayTake(const Caller& caller,
                                    const v1::Referral& referral,
                                    v1::Action action) {
  if (JointPartyMayTake(caller, referral, action)) return absl::OkStatus();
  const v1::JointPartyRole role = JointRoleOf(referral, caller.organisation);
  return absl::PermissionDeniedError(absl::StrCat(
      caller.organisation, " is ", RoleWord(role), " of joint referral ",
      referral.name(), " and may not take action ", v1::Action_Name(action),
      "; ",
      role == v1::JOINT_PARTY_ROLE_CO_REFERRER
          ? "a co-referrer may cancel it and record a withdrawn consent; "
          : "",
      "the lead, ", referral.referring_organisation(), ", takes the rest"));
}

absl::Status ValidateJointReferral(const v1::Referral& referral,
                                   absl::string_view prefix) {
  if (!referral.has_joint()) return absl::OkStatus();
  const std::string field = absl::StrCat(prefix, "joint");
  if (!referral.has_activity()) {
    return FieldViolation(
        field,
        "is only for an activity referral (referral.activity): a joint "
        "referral (samordnad insats) refers to an activity a "
        "samordningsförbund funds");
  }
  if (referral.protected_personal_data()) {
    return FieldViolation(
        field,
        "cannot be set with protected_personal_data: protection lets only "
        "the referring agency know that the referral exists, a joint "
        "referral shows it to every party; the lead refers alone");
  }
  const v1::JointReferral& joint = referral.joint();
  RETURN_IF_ERROR(ValidateOrganisationId(Path(field, "funding_organisation"),
                                         joint.funding_organisation()));
  const std::string parties = Path(field, "parties");
  if (joint.parties().empty()) {
    return MissingField(parties,
                        "at least one agency referring together with you");
  }
  if (joint.parties_size() > kMaxJointParties) {
    return InvalidField(parties,
                        absl::StrCat("must name at most ", kMaxJointParties,
                                     " agencies besides the lead"),
                        joint.parties_size());
  }
  std::set<std::string> named_in_consent;
  for (const v1::ConsentScope& scope : referral.consent().scopes()) {
    if (scope.recipient_case() == v1::ConsentScope::kOrganisation) {
      named_in_consent.insert(scope.organisation());
    }
  }
  std::set<std::string> seen;
  for (int i = 0; i < joint.parties_size(); ++i) {
    const v1::JointParty& party = joint.parties(i);
    const std::string at = absl::StrCat(parties, "[", i, "]");
    const std::string organisation = Path(at, "organisation");
    RETURN_IF_ERROR(ValidateOrganisationId(organisation, party.organisation()));
    if (!seen.insert(party.organisation()).second) {
      return InvalidField(organisation, "must name each agency once",
                          party.organisation());
    }
    if (party.role() != v1::JOINT_PARTY_ROLE_CO_REFERRER &&
        party.role() != v1::JOINT_PARTY_ROLE_INFORMED) {
      return InvalidField(
          Path(at, "role"),
          "must be JOINT_PARTY_ROLE_CO_REFERRER or "
          "JOINT_PARTY_ROLE_INFORMED (the lead is the creating agency)",
          v1::JointPartyRole_Name(party.role()));
    }
    if (!named_in_consent.count(party.organisation())) {
      return InvalidField(
          organisation,
          absl::StrCat("must be named by a scope of referral.consent "
                       "(scopes[].organisation) with the data it may see: "
                       "a party sees what the participant's consent gives "
                       "it, and without a scope that is nothing"),
          party.organisation());
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLeadIsNoParty(const v1::Referral& referral,
                                absl::string_view lead,
                                absl::string_view prefix) {
  for (int i = 0; i < referral.joint().parties_size(); ++i) {
    if (referral.joint().parties(i).organisation() == lead) {
      return InvalidField(
          absl::StrCat(prefix, "joint.parties[", i, "].organisation"),
          "must not be your own organisation: the agency that creates a "
          "joint referral is its lead",
          lead);
    }
  }
  return absl::OkStatus();
}

}  // namespace slussen::core
