#include "broker/core/model/referral_validation.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

// Consent may be recorded a little ahead of the server's clock.
constexpr absl::Duration kClockSkew = absl::Minutes(5);
constexpr int kMaxScopes = 20;
constexpr int kMaxLanguages = 10;

absl::Status ValidateAttributes(absl::string_view field,
                                const v1::ParticipantAttributes& a) {
  if (a.has_age_years()) {
    RETURN_IF_ERROR(
        ValidateIntRange(Path(field, "age_years"), a.age_years(), 16, 69));
  }
  RETURN_IF_ERROR(ValidateEnum<v1::Gender>(Path(field, "gender"), a.gender(),
                                           /*required=*/false));
  if (!a.kommun_code().empty()) {
    RETURN_IF_ERROR(
        ValidateKommunCode(Path(field, "kommun_code"), a.kommun_code()));
  }
  RETURN_IF_ERROR(ValidateEnumSet<v1::BenefitStatus>(
      Path(field, "benefit_statuses"), a.benefit_statuses()));
  if (a.benefit_statuses_size() > 1) {
    for (int status : a.benefit_statuses()) {
      if (status == v1::BENEFIT_STATUS_NONE) {
        return InvalidField(
            Path(field, "benefit_statuses"),
            "must not combine BENEFIT_STATUS_NONE with other "
            "statuses",
            absl::StrCat(a.benefit_statuses_size(), " statuses"));
      }
    }
  }
  if (a.has_sickness_insurance_days_left()) {
    RETURN_IF_ERROR(
        ValidateIntRange(Path(field, "sickness_insurance_days_left"),
                         a.sickness_insurance_days_left(), 0, 914));
  }
  if (a.has_hours_per_week()) {
    RETURN_IF_ERROR(ValidateIntRange(Path(field, "hours_per_week"),
                                     a.hours_per_week(), 1, 40));
  }
  if (a.languages_size() > kMaxLanguages) {
    return InvalidField(
        Path(field, "languages"),
        absl::StrCat("must hold at most ", kMaxLanguages, " languages"),
        a.languages_size());
  }
  std::set<absl::string_view> languages;
  for (int i = 0; i < a.languages_size(); ++i) {
    const std::string item = absl::StrCat(field, ".languages[", i, "]");
    RETURN_IF_ERROR(ValidateLanguageCode(item, a.languages(i)));
    if (!languages.insert(a.languages(i)).second) {
      return InvalidField(item, "must not repeat an earlier language",
                          a.languages(i));
    }
  }
  return ValidateEnumSet<v1::Exclusion>(Path(field, "exclusions"),
                                        a.exclusions());
}

absl::Status ValidateParticipant(const v1::Participant& participant,
                                 bool needs_personnummer, absl::CivilDay today,
                                 std::optional<Personnummer>* personnummer) {
  constexpr absl::string_view kField = "referral.participant";
  RETURN_IF_ERROR(
      ValidatePseudonym(Path(kField, "pseudonym"), participant.pseudonym()));
  const std::string pnr_field = Path(kField, "personal_identity_number");
  if (participant.personal_identity_number().empty()) {
    if (needs_personnummer) {
      return MissingField(pnr_field,
                          "a joint mapping identifies the participant to the "
                          "other agency by personnummer");
    }
  } else {
    ASSIGN_OR_RETURN(*personnummer,
                     ParsePersonnummer(participant.personal_identity_number(),
                                       today, pnr_field));
  }
  return ValidateAttributes(Path(kField, "attributes"),
                            participant.attributes());
}

absl::Status ValidateScope(absl::string_view field,
                           const v1::ConsentScope& scope) {
  switch (scope.recipient_case()) {
    case v1::ConsentScope::kOrganisation:
      RETURN_IF_ERROR(ValidateOrganisationId(Path(field, "organisation"),
                                             scope.organisation()));
      break;
    case v1::ConsentScope::kPartyClass:
      RETURN_IF_ERROR(ValidateEnum<v1::PartyClass>(Path(field, "party_class"),
                                                   scope.party_class(), true));
      break;
    case v1::ConsentScope::RECIPIENT_NOT_SET:
      return MissingField(Path(field, "recipient"),
                          "one of organisation or party_class");
  }
  if (scope.data_categories().empty()) {
    return MissingField(Path(field, "data_categories"),
                        "at least one data category");
  }
  return ValidateEnumSet<v1::DataCategory>(Path(field, "data_categories"),
                                           scope.data_categories());
}

bool HasPartyClass(const v1::Consent& consent, v1::PartyClass party) {
  for (const v1::ConsentScope& scope : consent.scopes()) {
    if (scope.recipient_case() == v1::ConsentScope::kPartyClass &&
        scope.party_class() == party) {
      return true;
    }
  }
  return false;
}

absl::Status ValidateConsent(const v1::Consent& consent, v1::ReferralKind kind,
                             absl::Time now) {
  constexpr absl::string_view kField = "referral.consent";
  if (consent.scopes().empty() || consent.scopes_size() > kMaxScopes) {
    return InvalidField(Path(kField, "scopes"),
                        absl::StrCat("must hold 1..", kMaxScopes, " scopes"),
                        consent.scopes_size());
  }
  for (int i = 0; i < consent.scopes_size(); ++i) {
    RETURN_IF_ERROR(ValidateScope(absl::StrCat(kField, ".scopes[", i, "]"),
                                  consent.scopes(i)));
  }
  // The referral is shared with a provider, or with the other agency of a
  // joint mapping: without consent to that, it could go nowhere.
  const v1::PartyClass needed = kind == v1::REFERRAL_KIND_JOINT_MAPPING
                                    ? v1::PARTY_CLASS_COUNTERPART_AGENCY
                                    : v1::PARTY_CLASS_ASSIGNED_PROVIDER;
  if (!HasPartyClass(consent, needed)) {
    return InvalidField(
        Path(kField, "scopes"),
        absl::StrCat("must include a scope for ", v1::PartyClass_Name(needed),
                     ": the referral is shared with that party"),
        absl::StrCat(consent.scopes_size(), " scopes without it"));
  }
  RETURN_IF_ERROR(ValidateEnum<v1::ConsentPurpose>(Path(kField, "purpose"),
                                                   consent.purpose(), true));
  RETURN_IF_ERROR(ValidateEnum<v1::ConsentForm>(Path(kField, "form"),
                                                consent.form(), true));
  const std::string start_field = Path(kField, "start_time");
  if (!consent.has_start_time()) {
    return MissingField(start_field, "when the participant gave consent");
  }
  RETURN_IF_ERROR(ValidateTimestamp(start_field, consent.start_time()));
  const absl::Time start = ToAbslTime(consent.start_time());
  if (start > now + kClockSkew) {
    return InvalidField(start_field, "must not lie in the future",
                        absl::FormatTime(start));
  }
  if (consent.has_end_time()) {
    const std::string end_field = Path(kField, "end_time");
    RETURN_IF_ERROR(ValidateTimestamp(end_field, consent.end_time()));
    const absl::Time end = ToAbslTime(consent.end_time());
    if (end <= start) {
      return InvalidField(end_field, "must lie after start_time",
                          absl::FormatTime(end));
    }
    if (end <= now) {
      return InvalidField(end_field,
                          "lies in the past: the consent has expired",
                          absl::FormatTime(end));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateImpulse(const v1::Referral& referral,
                             absl::string_view region) {
  constexpr absl::string_view kField = "referral.impulse";
  constexpr absl::string_view kNoPersonalData =
      "must be empty for an impulse: an impulse carries no personal data, "
      "only who to call back, the kommun and a need category";
  if (referral.has_participant()) {
    return FieldViolation("referral.participant", kNoPersonalData);
  }
  if (referral.has_consent()) {
    return FieldViolation("referral.consent", kNoPersonalData);
  }
  if (referral.has_referrer()) {
    return FieldViolation("referral.referrer",
                          "must be empty for an impulse: who to call back "
                          "goes in referral.impulse.call_back");
  }
  if (!referral.second_referral_reason().empty()) {
    return FieldViolation("referral.second_referral_reason", kNoPersonalData);
  }
  const v1::Impulse& impulse = referral.impulse();
  if (!impulse.has_call_back()) {
    return MissingField(Path(kField, "call_back"),
                        "the socialsekreterare to call back");
  }
  RETURN_IF_ERROR(ValidateContactRoute(Path(kField, "call_back"),
                                       impulse.call_back(), true));
  const std::string kommun_field = Path(kField, "kommun_code");
  RETURN_IF_ERROR(ValidateKommunCode(kommun_field, impulse.kommun_code()));
  if (RegionOfKommun(impulse.kommun_code()) != region) {
    return InvalidField(kommun_field,
                        absl::StrCat("must lie in the referral's region ",
                                     region, " (its first two digits)"),
                        impulse.kommun_code());
  }
  return ValidateEnum<v1::NeedCategory>(Path(kField, "need_category"),
                                        impulse.need_category(), true);
}

absl::Status ValidateRehabServiceOrder(const v1::RehabServiceOrder& order) {
  constexpr absl::string_view kField = "referral.rehab_service_order";
  RETURN_IF_ERROR(ValidateFrameworkAgreementName(
      Path(kField, "framework_agreement"), order.framework_agreement()));
  RETURN_IF_ERROR(ValidateCode(Path(kField, "service"), order.service()));
  RETURN_IF_ERROR(
      ValidateText(Path(kField, "plan_purpose"), order.plan_purpose(),
                   {.min_chars = 1, .max_chars = 2000, .free_text = true}));
  if (!order.doctor_confirmed_plan()) {
    return InvalidField(Path(kField, "doctor_confirmed_plan"),
                        "must be true: an avrop needs a rehabilitation plan "
                        "a doctor has confirmed",
                        "false");
  }
  if (!order.preferred_provider().empty()) {
    RETURN_IF_ERROR(ValidateProviderName(Path(kField, "preferred_provider"),
                                         order.preferred_provider()));
  }
  return absl::OkStatus();
}

absl::Status ValidateJointMapping(const v1::JointMappingRequest& request) {
  constexpr absl::string_view kField = "referral.joint_mapping";
  const std::string counterpart = Path(kField, "counterpart");
  if (request.counterpart() != v1::AGENCY_KIND_FORSAKRINGSKASSAN &&
      request.counterpart() != v1::AGENCY_KIND_ARBETSFORMEDLINGEN) {
    return InvalidField(counterpart,
                        "must be AGENCY_KIND_FORSAKRINGSKASSAN or "
                        "AGENCY_KIND_ARBETSFORMEDLINGEN: a joint mapping is "
                        "between FK and AF",
                        request.counterpart());
  }
  return ValidateText(Path(kField, "reason"), request.reason(),
                      {.min_chars = 1, .max_chars = 2000, .free_text = true});
}

absl::Status ValidateActivity(const v1::ActivityReferral& activity) {
  constexpr absl::string_view kField = "referral.activity";
  RETURN_IF_ERROR(
      ValidateCode(Path(kField, "activity_type"), activity.activity_type()));
  if (!activity.preferred_provider().empty()) {
    RETURN_IF_ERROR(ValidateProviderName(Path(kField, "preferred_provider"),
                                         activity.preferred_provider()));
  }
  return ValidateText(Path(kField, "note"), activity.note(),
                      {.max_chars = 2000, .free_text = true});
}

absl::Status ValidateTeamHandover(const v1::TeamHandover& handover) {
  constexpr absl::string_view kField = "referral.team_handover";
  RETURN_IF_ERROR(ValidateProviderName(Path(kField, "team"), handover.team()));
  return ValidateText(Path(kField, "case_summary"), handover.case_summary(),
                      {.min_chars = 1, .max_chars = 4000, .free_text = true});
}

// The input fields of `in`, without output-only fields.
v1::Referral InputFields(const v1::Referral& in) {
  v1::Referral out;
  if (in.has_referrer()) *out.mutable_referrer() = in.referrer();
  out.set_protected_personal_data(in.protected_personal_data());
  out.set_second_referral_reason(in.second_referral_reason());
  if (in.has_participant()) {
    v1::Participant* p = out.mutable_participant();
    p->set_pseudonym(in.participant().pseudonym());
    p->set_personal_identity_number(
        in.participant().personal_identity_number());
    if (in.participant().has_attributes()) {
      *p->mutable_attributes() = in.participant().attributes();
    }
  }
  if (in.has_consent()) {
    v1::Consent* c = out.mutable_consent();
    *c->mutable_scopes() = in.consent().scopes();
    c->set_purpose(in.consent().purpose());
    if (in.consent().has_start_time()) {
      *c->mutable_start_time() = in.consent().start_time();
    }
    if (in.consent().has_end_time()) {
      *c->mutable_end_time() = in.consent().end_time();
    }
    c->set_form(in.consent().form());
  }
  if (in.has_joint()) {
    v1::JointReferral* joint = out.mutable_joint();
    joint->set_funding_organisation(in.joint().funding_organisation());
    for (const v1::JointParty& party : in.joint().parties()) {
      v1::JointParty* kept = joint->add_parties();
      kept->set_organisation(party.organisation());
      kept->set_role(party.role());
    }
  }
  switch (in.details_case()) {
    case v1::Referral::kImpulse:
      *out.mutable_impulse() = in.impulse();
      break;
    case v1::Referral::kRehabServiceOrder:
      *out.mutable_rehab_service_order() = in.rehab_service_order();
      break;
    case v1::Referral::kJointMapping:
      *out.mutable_joint_mapping() = in.joint_mapping();
      break;
    case v1::Referral::kActivity:
      *out.mutable_activity() = in.activity();
      break;
    case v1::Referral::kTeamHandover:
      *out.mutable_team_handover() = in.team_handover();
      break;
    case v1::Referral::DETAILS_NOT_SET:
      break;
  }
  return out;
}

absl::Status ValidateDetails(const v1::Referral& referral,
                             absl::string_view region) {
  switch (referral.details_case()) {
    case v1::Referral::kImpulse:
      return ValidateImpulse(referral, region);
    case v1::Referral::kRehabServiceOrder:
      return ValidateRehabServiceOrder(referral.rehab_service_order());
    case v1::Referral::kJointMapping:
      return ValidateJointMapping(referral.joint_mapping());
    case v1::Referral::kActivity:
      return ValidateActivity(referral.activity());
    case v1::Referral::kTeamHandover:
      return ValidateTeamHandover(referral.team_handover());
    case v1::Referral::DETAILS_NOT_SET:
      break;
  }
  return MissingField("referral.details",
                      "exactly one of impulse, rehab_service_order, "
                      "joint_mapping, activity, team_handover");
}

}  // namespace

absl::Status ValidatePseudonym(absl::string_view field,
                               absl::string_view pseudonym) {
  if (pseudonym.empty()) {
    return MissingField(field,
                        "the agency's pseudonymous reference for the "
                        "participant, 4..64 characters of [A-Za-z0-9._-]");
  }
  if (LooksLikePersonnummer(pseudonym) || ContainsPersonnummer(pseudonym)) {
    return InvalidFieldWithheld(
        field,
        "looks like a personnummer; a pseudonym must not identify the "
        "person: give the number in participant.personal_identity_number");
  }
  bool ok = pseudonym.size() >= 4 && pseudonym.size() <= 64;
  for (char c : pseudonym) {
    const auto u = static_cast<unsigned char>(c);
    ok = ok && (absl::ascii_isalnum(u) || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return InvalidField(field, "must be 4..64 characters of [A-Za-z0-9._-]",
                        pseudonym);
  }
  return absl::OkStatus();
}

absl::Status ValidateSusRegistration(absl::string_view field,
                                     const v1::SusRegistration& sus,
                                     bool at_start) {
  if (sus.ByteSizeLong() == 0) return absl::OkStatus();
  const std::string income = Path(field, "income_sources");
  if (sus.income_sources().empty()) {
    return MissingField(income,
                        at_start ? "at least one source of income before the "
                                   "start (INCOME_SOURCE_NONE if none)"
                                 : "at least one source of income after the "
                                   "end (INCOME_SOURCE_NONE if none)");
  }
  RETURN_IF_ERROR(
      ValidateEnumSet<v1::IncomeSource>(income, sus.income_sources()));
  if (sus.income_sources_size() > 1 &&
      std::count(sus.income_sources().begin(), sus.income_sources().end(),
                 v1::INCOME_SOURCE_NONE) > 0) {
    return InvalidField(income,
                        "INCOME_SOURCE_NONE must stand alone: no income "
                        "besides others is a contradiction",
                        "INCOME_SOURCE_NONE with others");
  }
  RETURN_IF_ERROR(ValidateEnum<v1::EducationLevel>(
      Path(field, "education_level"), sus.education_level(), at_start));
  RETURN_IF_ERROR(ValidateEnum<v1::WorkKind>(Path(field, "work_kind"),
                                             sus.work_kind(),
                                             /*required=*/false));
  if (at_start) {
    constexpr absl::string_view kEndOnly =
        "is registered at the end, not at the start";
    if (sus.work_kind() != v1::WORK_KIND_UNSPECIFIED) {
      return InvalidField(Path(field, "work_kind"), kEndOnly,
                          v1::WorkKind_Name(sus.work_kind()));
    }
    if (sus.studies()) {
      return InvalidField(Path(field, "studies"), kEndOnly, "true");
    }
    if (sus.registered_with_af()) {
      return InvalidField(Path(field, "registered_with_af"), kEndOnly, "true");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateProtection(const v1::Referral& referral,
                                absl::string_view prefix) {
  if (!referral.protected_personal_data()) return absl::OkStatus();
  if (referral.has_impulse()) {
    return InvalidField(absl::StrCat(prefix, "protected_personal_data"),
                        "must be false for an impulse: an impulse names no "
                        "participant; say it on the referral that follows",
                        "true");
  }
  const std::string kommun =
      absl::StrCat(prefix, "participant.attributes.kommun_code");
  if (!referral.participant().attributes().kommun_code().empty()) {
    return InvalidFieldWithheld(
        kommun,
        "must be empty for a participant with protected personal data: "
        "Slussen keeps no kommun of theirs, and matches by the activity's "
        "kommun");
  }
  if (referral.referrer().display_name().empty()) {
    return MissingField(absl::StrCat(prefix, "referrer"),
                        "a participant with protected personal data is "
                        "reached through the referring agency: name its "
                        "contact (display_name, and phone or email)");
  }
  return absl::OkStatus();
}

v1::ReferralKind KindOf(const v1::Referral& referral) {
  switch (referral.details_case()) {
    case v1::Referral::kImpulse:
      return v1::REFERRAL_KIND_IMPULSE;
    case v1::Referral::kRehabServiceOrder:
      return v1::REFERRAL_KIND_REHAB_SERVICE_ORDER;
    case v1::Referral::kJointMapping:
      return v1::REFERRAL_KIND_JOINT_MAPPING;
    case v1::Referral::kActivity:
      return v1::REFERRAL_KIND_ACTIVITY;
    case v1::Referral::kTeamHandover:
      return v1::REFERRAL_KIND_TEAM_HANDOVER;
    case v1::Referral::DETAILS_NOT_SET:
      break;
  }
  return v1::REFERRAL_KIND_UNSPECIFIED;
}

absl::StatusOr<NewReferral> ValidateCreateReferral(
    const v1::CreateReferralRequest& request, absl::Time now,
    absl::CivilDay today) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  NewReferral out;
  ASSIGN_OR_RETURN(out.region, ParseRegionParent("parent", request.parent(),
                                                 /*allow_any_region=*/false));
  if (!request.has_referral()) return MissingField("referral");
  out.referral = InputFields(request.referral());
  const v1::Referral& referral = out.referral;
  RETURN_IF_ERROR(ValidateDetails(referral, out.region));
  const v1::ReferralKind kind = KindOf(referral);
  RETURN_IF_ERROR(ValidateProtection(referral, "referral."));
  if (kind != v1::REFERRAL_KIND_IMPULSE) {
    if (referral.has_referrer()) {
      RETURN_IF_ERROR(ValidateContactRoute("referral.referrer",
                                           referral.referrer(),
                                           referral.protected_personal_data()));
    }
    if (!referral.has_participant()) {
      return MissingField("referral.participant",
                          "every referral but an impulse names its "
                          "participant by pseudonym");
    }
    RETURN_IF_ERROR(ValidateParticipant(referral.participant(),
                                        kind == v1::REFERRAL_KIND_JOINT_MAPPING,
                                        today, &out.personnummer));
    if (!referral.has_consent()) {
      return MissingField("referral.consent",
                          "the participant's consent to sharing; every "
                          "referral but an impulse rests on it");
    }
    RETURN_IF_ERROR(ValidateConsent(referral.consent(), kind, now));
    RETURN_IF_ERROR(ValidateText("referral.second_referral_reason",
                                 referral.second_referral_reason(),
                                 {.max_chars = 2000, .free_text = true}));
  }
  RETURN_IF_ERROR(ValidateJointReferral(referral, "referral."));
  out.referral.set_kind(kind);
  if (out.referral.has_participant()) {
    out.referral.mutable_participant()->clear_personal_identity_number();
  }
  return out;
}

absl::StatusOr<int> ValidatePageSize(absl::string_view field, int requested,
                                     int default_size, int max) {
  if (requested == 0) return default_size;
  RETURN_IF_ERROR(ValidateIntRange(field, requested, 0, max));
  return requested;
}

absl::Status ValidateReferralFilter(absl::string_view field,
                                    const v1::ReferralFilter& filter) {
  RETURN_IF_ERROR(ValidateEnumSet<v1::ReferralState>(Path(field, "states"),
                                                     filter.states()));
  RETURN_IF_ERROR(
      ValidateEnumSet<v1::ReferralKind>(Path(field, "kinds"), filter.kinds()));
  if (!filter.referring_organisation().empty()) {
    RETURN_IF_ERROR(
        ValidateOrganisationId(Path(field, "referring_organisation"),
                               filter.referring_organisation()));
  }
  return absl::OkStatus();
}

absl::Status ValidateOutcomeReasons(
    absl::string_view field,
    const google::protobuf::RepeatedField<int>& reasons) {
  return ValidateEnumSet<v1::OutcomeReason>(field, reasons);
}

absl::Status ValidateCancelReason(v1::CancelReason reason,
                                  absl::string_view note) {
  RETURN_IF_ERROR(ValidateEnum<v1::CancelReason>("reason", reason, true));
  if (reason == v1::CANCEL_REASON_OTHER && note.empty()) {
    return MissingField("note", "say why, with CANCEL_REASON_OTHER");
  }
  return ValidateText("note", note, {.max_chars = 2000, .free_text = true});
}

}  // namespace slussen::core
