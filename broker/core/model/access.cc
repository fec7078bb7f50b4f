#include "broker/core/model/access.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

bool ConsentInForce(const v1::Consent& consent, absl::Time now) {
  if (consent.state() != v1::CONSENT_STATE_ACTIVE) return false;
  if (consent.has_end_time() && ToAbslTime(consent.end_time()) <= now) {
    return false;
  }
  return true;
}

// The data categories the consent lets `caller` receive.
std::set<int> CoveredCategories(const Caller& caller,
                                const v1::Consent& consent, absl::Time now) {
  std::set<int> covered;
  if (!ConsentInForce(consent, now)) return covered;
  // An agency (the other parties of a joint referral) is covered only by
  // a scope that names it: no class of parties is an agency's.
  const v1::PartyClass party =
      caller.role == v1::ROLE_PROVIDER ? v1::PARTY_CLASS_ASSIGNED_PROVIDER
      : caller.role == v1::ROLE_AGENCY ? v1::PARTY_CLASS_UNSPECIFIED
                                       : v1::PARTY_CLASS_REGION_COORDINATORS;
  for (const v1::ConsentScope& scope : consent.scopes()) {
    const bool applies =
        (scope.recipient_case() == v1::ConsentScope::kPartyClass &&
         party != v1::PARTY_CLASS_UNSPECIFIED &&
         scope.party_class() == party) ||
        (scope.recipient_case() == v1::ConsentScope::kOrganisation &&
         scope.organisation() == caller.organisation);
    if (!applies) continue;
    covered.insert(scope.data_categories().begin(),
                   scope.data_categories().end());
  }
  return covered;
}

}  // namespace

void ClearCaseDetails(v1::Referral& referral) {
  switch (referral.details_case()) {
    case v1::Referral::kRehabServiceOrder:
      referral.mutable_rehab_service_order()->clear_plan_purpose();
      break;
    case v1::Referral::kJointMapping:
      referral.mutable_joint_mapping()->clear_reason();
      break;
    case v1::Referral::kActivity:
      referral.mutable_activity()->clear_note();
      break;
    case v1::Referral::kTeamHandover:
      referral.mutable_team_handover()->clear_case_summary();
      break;
    case v1::Referral::kImpulse:
    case v1::Referral::DETAILS_NOT_SET:
      break;
  }
  referral.clear_second_referral_reason();
  for (v1::Transition& t : *referral.mutable_history()) t.clear_note();
}

namespace {

constexpr char kWithheld[] =
    "withheld: the participant's consent does not cover you";

void Redact(const Caller& caller, absl::Time now, v1::Referral& referral) {
  const std::set<int> covered =
      CoveredCategories(caller, referral.consent(), now);
  if (!covered.count(v1::DATA_CATEGORY_ELIGIBILITY)) {
    referral.clear_participant();
    for (v1::Transition& t : *referral.mutable_history()) {
      if (t.reasons().empty()) continue;
      t.clear_reasons();
      t.add_reasons(kWithheld);
    }
  }
  if (!covered.count(v1::DATA_CATEGORY_CASE_DETAILS)) {
    ClearCaseDetails(referral);
  }
  if (!covered.count(v1::DATA_CATEGORY_OUTCOME)) {
    for (v1::Transition& t : *referral.mutable_history()) t.clear_sus();
  }
}

}  // namespace

bool CanSee(const Caller& caller, const ReferralRecord& record) {
  switch (caller.role) {
    case v1::ROLE_AGENCY:
      // The lead, and the other agencies of a joint referral; with
      // protected personal data, only the lead (the referring agency).
      return record.referral.referring_organisation() == caller.organisation ||
             (!record.referral.protected_personal_data() &&
              IsReferringParty(record.referral, caller.organisation));
    case v1::ROLE_PROVIDER:
      return !record.assigned_organisation.empty() &&
             record.assigned_organisation == caller.organisation;
    case v1::ROLE_COORDINATOR:
      // A referral whose participant has protected personal data exists
      // for coordinators only inside anonymous counts.
      return !caller.region.empty() && record.region == caller.region &&
             !record.referral.protected_personal_data();
    case v1::ROLE_SYSTEM:
      return true;  // the broker itself: matching, clocks
    default:
      return false;
  }
}

absl::Status CheckOwnRegion(const Caller& caller, absl::string_view region,
                            absl::string_view what) {
  if (caller.role != v1::ROLE_COORDINATOR || region == kAnyRegion ||
      region == caller.region) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("a coordinator of region ", caller.region,
                   " sees its own "
                   "region's ",
                   what, ", not region ", region, "'s"));
}

absl::Status CheckMayReadReferrals(const Caller& caller) {
  switch (caller.role) {
    case v1::ROLE_AGENCY:
    case v1::ROLE_PROVIDER:
    case v1::ROLE_COORDINATOR:
      return absl::OkStatus();
    default:
      return absl::PermissionDeniedError(
          absl::StrCat("role ", RoleName(caller.role),
                       " may not read referrals; agencies, providers and "
                       "coordinators may"));
  }
}

bool MaySeeParticipant(const Caller& caller, const ReferralRecord& record,
                       absl::Time now) {
  if (caller.role == v1::ROLE_AGENCY &&
      record.referral.referring_organisation() == caller.organisation) {
    return true;
  }
  return CoveredCategories(caller, record.referral.consent(), now)
             .count(v1::DATA_CATEGORY_ELIGIBILITY) > 0;
}

bool ShowsPersonalData(const Caller& caller, const ReferralRecord& record,
                       absl::Time now) {
  if (record.audit_subject.empty()) return false;
  if (record.referral.protected_personal_data()) return true;
  if (caller.role == v1::ROLE_AGENCY &&
      record.referral.referring_organisation() == caller.organisation) {
    return true;
  }
  const std::set<int> covered =
      CoveredCategories(caller, record.referral.consent(), now);
  return covered.count(v1::DATA_CATEGORY_ELIGIBILITY) > 0 ||
         covered.count(v1::DATA_CATEGORY_CASE_DETAILS) > 0;
}

void ErasePersonalData(ReferralRecord& record, absl::Time now) {
  record.referral.clear_participant();
  ClearCaseDetails(record.referral);
  for (v1::Transition& t : *record.referral.mutable_history()) {
    t.clear_reasons();
    t.clear_sus();
  }
  record.personal_identity_pseudonym.clear();
  record.audit_subject.clear();
  *record.referral.mutable_personal_data_erase_time() = ToProtoTimestamp(now);
}

v1::Consent ConsentView(const ReferralRecord& record, absl::Time now) {
  v1::Consent consent = record.referral.consent();
  consent.set_name(
      absl::StrCat("regions/", record.region, "/consents/", record.id));
  if (consent.state() == v1::CONSENT_STATE_ACTIVE && consent.has_end_time() &&
      ToAbslTime(consent.end_time()) <= now) {
    consent.set_state(v1::CONSENT_STATE_EXPIRED);
  }
  return consent;
}

v1::Referral ViewFor(const Caller& caller, const ReferralRecord& record,
                     v1::ReferralView view, absl::Time now) {
  v1::Referral out = record.referral;
  out.set_etag(absl::StrCat(record.version));
  if (out.has_consent()) *out.mutable_consent() = ConsentView(record, now);
  for (v1::Action action : AllowedActions(record.referral, caller.role)) {
    if (JointPartyMayTake(caller, record.referral, action)) {
      out.add_allowed_actions(action);
    }
  }
  // What the consent gives each party of a joint referral now.
  for (v1::JointParty& party : *out.mutable_joint()->mutable_parties()) {
    const Caller as_party{.organisation = party.organisation(),
                          .role = v1::ROLE_AGENCY};
    for (int category :
         CoveredCategories(as_party, record.referral.consent(), now)) {
      party.add_data_categories(static_cast<v1::DataCategory>(category));
    }
  }
  if (out.joint().parties().empty()) out.clear_joint();
  if (view != v1::REFERRAL_VIEW_FULL) out.clear_history();
  const bool own =
      caller.role == v1::ROLE_AGENCY &&
      record.referral.referring_organisation() == caller.organisation;
  if (!own) Redact(caller, now, out);
  return out;
}

v1::Offer OfferViewFor(const Caller& caller, const OfferRecord& offer,
                       const ReferralRecord* referral, absl::Time now) {
  v1::Offer out = offer.offer;
  out.set_etag(absl::StrCat(offer.version));
  out.mutable_explanation()->clear_reasons();
  out.clear_decline_note();
  if (referral == nullptr) return out;
  if (referral->referral.protected_personal_data()) {
    out.set_protected_personal_data(true);
    *out.mutable_participant_contact() = referral->referral.referrer();
  }
  const std::set<int> covered =
      CoveredCategories(caller, referral->referral.consent(), now);
  const bool eligibility = covered.count(v1::DATA_CATEGORY_ELIGIBILITY) > 0;
  const bool case_details = covered.count(v1::DATA_CATEGORY_CASE_DETAILS) > 0;
  for (const v1::Transition& t : referral->referral.history()) {
    if (t.offer() != offer.offer.name()) continue;
    if (t.action() == v1::ACTION_OFFER && eligibility) {
      *out.mutable_explanation()->mutable_reasons() = t.reasons();
    }
    if (t.action() == v1::ACTION_DECLINE && case_details) {
      out.set_decline_note(t.note());
    }
  }
  return out;
}

bool ShowsPersonalData(const v1::Offer& view) {
  return !view.explanation().reasons().empty() ||
         !view.decline_note().empty() || view.protected_personal_data();
}

bool MaySeeOffer(const Caller& caller, const OfferRecord& offer,
                 const ReferralRecord* referral) {
  switch (caller.role) {
    case v1::ROLE_PROVIDER:
      return offer.provider_organisation == caller.organisation;
    case v1::ROLE_COORDINATOR:
      return offer.region == caller.region &&
             (referral == nullptr ||
              !referral->referral.protected_personal_data());
    case v1::ROLE_SYSTEM:
      return true;
    default:
      return false;
  }
}

void StripParticipantFacts(v1::Event& event) {
  if (event.has_transition()) {
    event.mutable_transition()->clear_reasons();
    event.mutable_transition()->clear_sus();
  }
}

bool MayRegisterInSus(const Caller& caller, const ReferralRecord& record,
                      absl::Time now) {
  if (record.referral.protected_personal_data() ||
      record.referral.has_personal_data_erase_time()) {
    return false;
  }
  return CoveredCategories(caller, record.referral.consent(), now)
             .count(v1::DATA_CATEGORY_OUTCOME) > 0;
}

bool MaySeeEvent(const Caller& caller, const std::string& region,
                 const v1::Event& event) {
  switch (caller.role) {
    case v1::ROLE_SYSTEM:
      return true;
    case v1::ROLE_COORDINATOR:
      return caller.region == region && !event.protected_personal_data();
    case v1::ROLE_AGENCY:
      return !caller.organisation.empty() &&
             (event.referring_organisation() == caller.organisation ||
              std::count(event.joint_organisations().begin(),
                         event.joint_organisations().end(),
                         caller.organisation) > 0);
    case v1::ROLE_PROVIDER:
      return (!event.provider_organisation().empty() &&
              event.provider_organisation() == caller.organisation) ||
             event.actor().organisation() == caller.organisation;
    default:
      return false;
  }
}

}  // namespace slussen::core
