#include "broker/core/model/referral_validation.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::SampleActivityReferral;
using ::slussen::testing::SampleImpulse;
using ::slussen::testing::SampleJointMapping;
using ::slussen::testing::SampleOfEveryKind;
using ::slussen::testing::SampleRehabServiceOrder;
using ::slussen::testing::SampleTeamHandover;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::string_view kWithheld = "(value withheld: personal data)";

// The samples date their consent from absl::Now(), so validation runs
// against the real clock too.
absl::StatusOr<NewReferral> Validate(const v1::CreateReferralRequest& request) {
  const absl::Time now = absl::Now();
  return ValidateCreateReferral(request, now,
                                absl::ToCivilDay(now, absl::UTCTimeZone()));
}

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

google::protobuf::Timestamp At(absl::Time time) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(time));
  return ts;
}

// --- Valid requests ----------------------------------------------------

TEST(ValidateCreateReferral, AcceptsEveryKind) {
  const v1::ReferralKind kinds[] = {
      v1::REFERRAL_KIND_IMPULSE, v1::REFERRAL_KIND_REHAB_SERVICE_ORDER,
      v1::REFERRAL_KIND_JOINT_MAPPING, v1::REFERRAL_KIND_ACTIVITY,
      v1::REFERRAL_KIND_TEAM_HANDOVER};
  const std::vector<v1::CreateReferralRequest> samples = SampleOfEveryKind();
  ASSERT_EQ(samples.size(), 5u);
  for (size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE(v1::ReferralKind_Name(kinds[i]));
    const absl::StatusOr<NewReferral> out = Validate(samples[i]);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->region, "13");
    EXPECT_EQ(out->referral.kind(), kinds[i]);
    EXPECT_EQ(out->referral.details_case(),
              samples[i].referral().details_case());
  }
}

TEST(ValidateCreateReferral, AcceptsAnImpulseInAnyRegion) {
  const absl::StatusOr<NewReferral> out = Validate(SampleImpulse("01"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->region, "01");
}

TEST(ValidateCreateReferral, KeepsTheInputFields) {
  const v1::CreateReferralRequest request = SampleActivityReferral();
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->referral.activity().activity_type(), "halsosam");
  EXPECT_EQ(out->referral.activity().note(),
            request.referral().activity().note());
  EXPECT_EQ(out->referral.participant().pseudonym(), "hb-2026-0042");
  EXPECT_EQ(out->referral.participant().attributes().age_years(), 34);
  EXPECT_EQ(out->referral.referrer().display_name(), "Per Lind");
  EXPECT_EQ(out->referral.consent().scopes_size(), 2);
  EXPECT_EQ(out->referral.consent().start_time().seconds(),
            request.referral().consent().start_time().seconds());
  EXPECT_FALSE(out->personnummer.has_value());
}

TEST(ValidateCreateReferral, StripsOutputOnlyFields) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  v1::Referral* r = request.mutable_referral();
  r->set_name("regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  r->set_kind(v1::REFERRAL_KIND_IMPULSE);  // wrong on purpose: derived
  r->set_state(v1::REFERRAL_STATE_COMPLETED);
  r->set_referring_organisation("someone-else");
  r->add_allowed_actions(v1::ACTION_CANCEL);
  r->add_history()->set_note("forged");
  r->mutable_create_time()->set_seconds(1);
  r->mutable_update_time()->set_seconds(2);
  r->set_etag("99");
  r->set_assigned_provider("providers/forged");
  r->set_current_offer("regions/13/offers/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  r->mutable_participant()->set_has_personal_identity_number(true);
  r->mutable_consent()->set_name("regions/13/consents/x");
  r->mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  r->mutable_consent()->mutable_recorded_by()->set_organisation("forged");
  r->mutable_consent()->mutable_withdraw_time()->set_seconds(3);
  r->mutable_consent()->mutable_withdrawn_by()->set_organisation("forged");

  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  const v1::Referral& o = out->referral;
  EXPECT_EQ(o.name(), "");
  EXPECT_EQ(o.kind(), v1::REFERRAL_KIND_ACTIVITY);
  EXPECT_EQ(o.state(), v1::REFERRAL_STATE_UNSPECIFIED);
  EXPECT_EQ(o.referring_organisation(), "");
  EXPECT_EQ(o.allowed_actions_size(), 0);
  EXPECT_EQ(o.history_size(), 0);
  EXPECT_FALSE(o.has_create_time());
  EXPECT_FALSE(o.has_update_time());
  EXPECT_EQ(o.etag(), "");
  EXPECT_EQ(o.assigned_provider(), "");
  EXPECT_EQ(o.current_offer(), "");
  EXPECT_FALSE(o.participant().has_personal_identity_number());
  EXPECT_EQ(o.consent().name(), "");
  EXPECT_EQ(o.consent().state(), v1::CONSENT_STATE_UNSPECIFIED);
  EXPECT_FALSE(o.consent().has_recorded_by());
  EXPECT_FALSE(o.consent().has_withdraw_time());
  EXPECT_FALSE(o.consent().has_withdrawn_by());
}

TEST(ValidateCreateReferral, ParsesAndRemovesTheClearPersonnummer) {
  const absl::StatusOr<NewReferral> out = Validate(SampleJointMapping());
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->personnummer.has_value());
  EXPECT_EQ(out->personnummer->digits, "191212121212");
  EXPECT_EQ(out->referral.participant().personal_identity_number(), "");
  EXPECT_EQ(out->referral.participant().pseudonym(), "hb-2026-0042");
  // Nowhere in the stored referral.
  EXPECT_THAT(out->referral.SerializeAsString(), Not(HasSubstr("1212-1212")));
  EXPECT_THAT(out->referral.SerializeAsString(),
              Not(HasSubstr("191212121212")));
}

TEST(ValidateCreateReferral, OptionalPersonnummerIsParsedForOtherKinds) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  // '+': born 1912, not 2012.
  request.mutable_referral()
      ->mutable_participant()
      ->set_personal_identity_number("121212+1212");
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->personnummer.has_value());
  EXPECT_EQ(out->personnummer->digits, "191212121212");
  EXPECT_EQ(out->referral.participant().personal_identity_number(), "");
}

TEST(ValidateCreateReferral, AcceptsBoundaryValues) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  v1::ParticipantAttributes* a =
      request.mutable_referral()->mutable_participant()->mutable_attributes();
  a->set_age_years(16);
  a->set_sickness_insurance_days_left(0);
  a->set_hours_per_week(40);
  a->clear_languages();
  for (const char* code :
       {"sv", "ar", "so", "en", "fa", "ti", "pl", "fi", "es", "de"}) {
    a->add_languages(code);
  }
  a->clear_benefit_statuses();
  a->add_benefit_statuses(v1::BENEFIT_STATUS_NONE);
  request.mutable_referral()->mutable_activity()->set_note(Repeat("å", 2000));
  EXPECT_TRUE(Validate(request).ok()) << Validate(request).status();

  a->set_age_years(69);
  a->set_sickness_insurance_days_left(914);
  a->set_hours_per_week(1);
  EXPECT_TRUE(Validate(request).ok()) << Validate(request).status();
}

TEST(ValidateCreateReferral, AcceptsConsentStartedWithinTheClockSkew) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  *request.mutable_referral()->mutable_consent()->mutable_start_time() =
      At(absl::Now() + absl::Minutes(4));
  EXPECT_TRUE(Validate(request).ok()) << Validate(request).status();
}

// --- Invalid requests, one broken field at a time ----------------------

struct InvalidCase {
  std::string name;
  // The valid sample to start from.
  std::function<v1::CreateReferralRequest()> sample;
  std::function<void(v1::CreateReferralRequest&)> mutate;
  // The message must start with this field path followed by a space.
  std::string field;
};

// Names the case in test listings (instead of a byte dump).
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

using Request = v1::CreateReferralRequest;

v1::Participant& Participant(Request& r) {
  return *r.mutable_referral()->mutable_participant();
}
v1::ParticipantAttributes& Attributes(Request& r) {
  return *Participant(r).mutable_attributes();
}
v1::Consent& Consent(Request& r) {
  return *r.mutable_referral()->mutable_consent();
}
v1::Impulse& ImpulseOf(Request& r) {
  return *r.mutable_referral()->mutable_impulse();
}
v1::ContactRoute& CallBack(Request& r) {
  return *ImpulseOf(r).mutable_call_back();
}
v1::RehabServiceOrder& Order(Request& r) {
  return *r.mutable_referral()->mutable_rehab_service_order();
}
v1::ActivityReferral& Activity(Request& r) {
  return *r.mutable_referral()->mutable_activity();
}

// Shorthands for the samples.
const auto kImpulse = [] { return SampleImpulse(); };
const auto kRehab = [] { return SampleRehabServiceOrder(); };
const auto kJoint = [] { return SampleJointMapping(); };
const auto kActivity = [] { return SampleActivityReferral(); };
const auto kTeam = [] { return SampleTeamHandover(); };

std::vector<InvalidCase> InvalidCases() {
  constexpr char kAttrs[] = "referral.participant.attributes";
  auto attr = [&](absl::string_view f) {
    return std::string(kAttrs) + "." + std::string(f);
  };
  return {
      // The request.
      {"ParentEmpty", kActivity, [](Request& r) { r.clear_parent(); },
       "parent"},
      {"ParentBadRegion", kActivity,
       [](Request& r) { r.set_parent("regions/02"); }, "parent"},
      {"ParentAnyRegion", kActivity,
       [](Request& r) { r.set_parent("regions/-"); }, "parent"},
      {"ParentWithoutCollection", kActivity,
       [](Request& r) { r.set_parent("13"); }, "parent"},
      {"RequestIdBadCharacters", kActivity,
       [](Request& r) { r.set_request_id("req 1/2"); }, "request_id"},
      {"RequestIdTooLong", kActivity,
       [](Request& r) { r.set_request_id(std::string(65, 'a')); },
       "request_id"},
      {"ReferralMissing", kActivity, [](Request& r) { r.clear_referral(); },
       "referral"},
      {"NoDetails", kActivity,
       [](Request& r) { r.mutable_referral()->clear_activity(); },
       "referral.details"},

      // Impulse.
      {"ImpulseWithParticipant", kImpulse,
       [](Request& r) { Participant(r).set_pseudonym("hb-2026-0042"); },
       "referral.participant"},
      {"ImpulseWithEmptyParticipant", kImpulse,
       [](Request& r) { r.mutable_referral()->mutable_participant(); },
       "referral.participant"},
      {"ImpulseWithConsent", kImpulse,
       [](Request& r) {
         Consent(r).set_purpose(v1::CONSENT_PURPOSE_COORDINATED_REHABILITATION);
       },
       "referral.consent"},
      {"ImpulseWithReferrer", kImpulse,
       [](Request& r) {
         r.mutable_referral()->mutable_referrer()->set_display_name("Per");
       },
       "referral.referrer"},
      {"ImpulseCallBackMissing", kImpulse,
       [](Request& r) { ImpulseOf(r).clear_call_back(); },
       "referral.impulse.call_back"},
      {"ImpulseCallBackWithoutName", kImpulse,
       [](Request& r) { CallBack(r).clear_display_name(); },
       "referral.impulse.call_back.display_name"},
      {"ImpulseCallBackWithoutPhoneOrEmail", kImpulse,
       [](Request& r) {
         CallBack(r).clear_phone();
         CallBack(r).clear_email();
       },
       "referral.impulse.call_back.phone"},
      {"ImpulseCallBackBadPhone", kImpulse,
       [](Request& r) { CallBack(r).set_phone("ring 035"); },
       "referral.impulse.call_back.phone"},
      {"ImpulseCallBackBadEmail", kImpulse,
       [](Request& r) { CallBack(r).set_email("anna.berg.example.se"); },
       "referral.impulse.call_back.email"},
      {"ImpulseCallBackPersonnummerInName", kImpulse,
       [](Request& r) { CallBack(r).set_display_name("Ang. 121212-1212"); },
       "referral.impulse.call_back"},
      {"ImpulseKommunMissing", kImpulse,
       [](Request& r) { ImpulseOf(r).clear_kommun_code(); },
       "referral.impulse.kommun_code"},
      {"ImpulseKommunFormat", kImpulse,
       [](Request& r) { ImpulseOf(r).set_kommun_code("138"); },
       "referral.impulse.kommun_code"},
      {"ImpulseKommunNoLan", kImpulse,
       [](Request& r) { ImpulseOf(r).set_kommun_code("0280"); },
       "referral.impulse.kommun_code"},
      {"ImpulseKommunOutsideRegion", kImpulse,
       [](Request& r) { ImpulseOf(r).set_kommun_code("1480"); },
       "referral.impulse.kommun_code"},
      {"ImpulseNeedCategoryUnspecified", kImpulse,
       [](Request& r) {
         ImpulseOf(r).set_need_category(v1::NEED_CATEGORY_UNSPECIFIED);
       },
       "referral.impulse.need_category"},
      {"ImpulseNeedCategoryUnknown", kImpulse,
       [](Request& r) {
         ImpulseOf(r).set_need_category(static_cast<v1::NeedCategory>(99));
       },
       "referral.impulse.need_category"},

      // Participant.
      {"ParticipantMissing", kActivity,
       [](Request& r) { r.mutable_referral()->clear_participant(); },
       "referral.participant"},
      {"PseudonymEmpty", kActivity,
       [](Request& r) { Participant(r).clear_pseudonym(); },
       "referral.participant.pseudonym"},
      {"PseudonymTooShort", kActivity,
       [](Request& r) { Participant(r).set_pseudonym("hb1"); },
       "referral.participant.pseudonym"},
      {"PseudonymTooLong", kActivity,
       [](Request& r) { Participant(r).set_pseudonym(std::string(65, 'a')); },
       "referral.participant.pseudonym"},
      {"PseudonymBadCharacters", kActivity,
       [](Request& r) { Participant(r).set_pseudonym("hb 2026/42"); },
       "referral.participant.pseudonym"},
      {"PseudonymIsAPersonnummer", kActivity,
       [](Request& r) { Participant(r).set_pseudonym("19121212-1212"); },
       "referral.participant.pseudonym"},
      {"PseudonymHoldsAPersonnummer", kActivity,
       [](Request& r) { Participant(r).set_pseudonym("hb-1212121212"); },
       "referral.participant.pseudonym"},
      {"PersonnummerBadCheckDigit", kActivity,
       [](Request& r) {
         Participant(r).set_personal_identity_number("19121212-1213");
       },
       "referral.participant.personal_identity_number"},
      {"PersonnummerInTheFuture", kActivity,
       [](Request& r) {
         // 2099-12-12; Luhn of 991212121 is 8.
         Participant(r).set_personal_identity_number("20991212-1218");
       },
       "referral.participant.personal_identity_number"},
      {"JointMappingWithoutPersonnummer", kJoint,
       [](Request& r) { Participant(r).clear_personal_identity_number(); },
       "referral.participant.personal_identity_number"},
      {"AgeTooLow", kActivity,
       [](Request& r) { Attributes(r).set_age_years(15); }, attr("age_years")},
      {"AgeTooHigh", kActivity,
       [](Request& r) { Attributes(r).set_age_years(70); }, attr("age_years")},
      {"GenderUnknown", kActivity,
       [](Request& r) {
         Attributes(r).set_gender(static_cast<v1::Gender>(99));
       },
       attr("gender")},
      {"AttributeKommunFormat", kActivity,
       [](Request& r) { Attributes(r).set_kommun_code("13800"); },
       attr("kommun_code")},
      {"AttributeKommunNoLan", kActivity,
       [](Request& r) { Attributes(r).set_kommun_code("1180"); },
       attr("kommun_code")},
      {"BenefitStatusDuplicate", kActivity,
       [](Request& r) {
         Attributes(r).add_benefit_statuses(
             v1::BENEFIT_STATUS_SICKNESS_BENEFIT);
       },
       attr("benefit_statuses[1]")},
      {"BenefitStatusUnspecified", kActivity,
       [](Request& r) {
         Attributes(r).add_benefit_statuses(v1::BENEFIT_STATUS_UNSPECIFIED);
       },
       attr("benefit_statuses[1]")},
      {"BenefitStatusUnknown", kActivity,
       [](Request& r) {
         Attributes(r).add_benefit_statuses(static_cast<v1::BenefitStatus>(42));
       },
       attr("benefit_statuses[1]")},
      {"BenefitStatusNoneWithAnother", kActivity,
       [](Request& r) {
         Attributes(r).add_benefit_statuses(v1::BENEFIT_STATUS_NONE);
       },
       attr("benefit_statuses")},
      {"SicknessDaysTooMany", kActivity,
       [](Request& r) { Attributes(r).set_sickness_insurance_days_left(915); },
       attr("sickness_insurance_days_left")},
      {"SicknessDaysNegative", kActivity,
       [](Request& r) { Attributes(r).set_sickness_insurance_days_left(-1); },
       attr("sickness_insurance_days_left")},
      {"HoursZero", kActivity,
       [](Request& r) { Attributes(r).set_hours_per_week(0); },
       attr("hours_per_week")},
      {"HoursFortyOne", kActivity,
       [](Request& r) { Attributes(r).set_hours_per_week(41); },
       attr("hours_per_week")},
      {"LanguageThreeLetters", kActivity,
       [](Request& r) { Attributes(r).set_languages(0, "swe"); },
       attr("languages[0]")},
      {"LanguageElevenLanguages", kActivity,
       [](Request& r) {
         for (const char* code :
              {"ar", "so", "en", "fa", "ti", "pl", "fi", "es", "de", "fr"}) {
           Attributes(r).add_languages(code);
         }
       },
       attr("languages")},
      {"LanguageDuplicate", kActivity,
       [](Request& r) { Attributes(r).add_languages("sv"); },
       attr("languages[1]")},
      {"ExclusionDuplicate", kActivity,
       [](Request& r) {
         Attributes(r).add_exclusions(v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE);
         Attributes(r).add_exclusions(v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE);
       },
       attr("exclusions[1]")},

      // Consent.
      {"ConsentMissing", kActivity,
       [](Request& r) { r.mutable_referral()->clear_consent(); },
       "referral.consent"},
      {"ConsentNoScopes", kActivity,
       [](Request& r) { Consent(r).clear_scopes(); },
       "referral.consent.scopes"},
      {"ConsentTwentyOneScopes", kActivity,
       [](Request& r) {
         while (Consent(r).scopes_size() < 21) {
           *Consent(r).add_scopes() = Consent(r).scopes(0);
         }
       },
       "referral.consent.scopes"},
      {"ScopeWithoutRecipient", kActivity,
       [](Request& r) { Consent(r).mutable_scopes(0)->clear_recipient(); },
       "referral.consent.scopes[0].recipient"},
      {"ScopePartyClassUnspecified", kActivity,
       [](Request& r) {
         Consent(r).mutable_scopes(1)->set_party_class(
             v1::PARTY_CLASS_UNSPECIFIED);
       },
       "referral.consent.scopes[1].party_class"},
      {"ScopeBadOrganisation", kActivity,
       [](Request& r) {
         Consent(r).mutable_scopes(1)->set_organisation("AF Halmstad");
       },
       "referral.consent.scopes[1].organisation"},
      {"ScopeWithoutDataCategories", kActivity,
       [](Request& r) {
         Consent(r).mutable_scopes(0)->clear_data_categories();
       },
       "referral.consent.scopes[0].data_categories"},
      {"ScopeDuplicateDataCategory", kActivity,
       [](Request& r) {
         Consent(r).mutable_scopes(0)->add_data_categories(
             v1::DATA_CATEGORY_ELIGIBILITY);
       },
       "referral.consent.scopes[0].data_categories[2]"},
      {"ActivityConsentWithoutAssignedProvider", kActivity,
       [](Request& r) {
         Consent(r).mutable_scopes(0)->set_organisation("halsosam-halmstad");
       },
       "referral.consent.scopes"},
      {"JointMappingConsentWithoutCounterpart", kJoint,
       [](Request& r) {
         Consent(r).mutable_scopes(0)->set_party_class(
             v1::PARTY_CLASS_ASSIGNED_PROVIDER);
       },
       "referral.consent.scopes"},
      {"ConsentPurposeUnspecified", kActivity,
       [](Request& r) {
         Consent(r).set_purpose(v1::CONSENT_PURPOSE_UNSPECIFIED);
       },
       "referral.consent.purpose"},
      {"ConsentFormUnspecified", kActivity,
       [](Request& r) { Consent(r).set_form(v1::CONSENT_FORM_UNSPECIFIED); },
       "referral.consent.form"},
      {"ConsentStartTimeMissing", kActivity,
       [](Request& r) { Consent(r).clear_start_time(); },
       "referral.consent.start_time"},
      {"ConsentStartTimeInTheFuture", kActivity,
       [](Request& r) {
         *Consent(r).mutable_start_time() = At(absl::Now() + absl::Minutes(10));
       },
       "referral.consent.start_time"},
      {"ConsentStartTimeInvalid", kActivity,
       [](Request& r) { Consent(r).mutable_start_time()->set_nanos(-1); },
       "referral.consent.start_time"},
      {"ConsentEndBeforeStart", kActivity,
       [](Request& r) {
         *Consent(r).mutable_end_time() = At(absl::Now() - absl::Hours(48));
       },
       "referral.consent.end_time"},
      {"ConsentEndInThePast", kActivity,
       [](Request& r) {
         *Consent(r).mutable_end_time() = At(absl::Now() - absl::Hours(1));
       },
       "referral.consent.end_time"},

      // Rehab service order.
      {"FrameworkAgreementMalformed", kRehab,
       [](Request& r) { Order(r).set_framework_agreement("fk-rehab-2025"); },
       "referral.rehab_service_order.framework_agreement"},
      {"FrameworkAgreementMissing", kRehab,
       [](Request& r) { Order(r).clear_framework_agreement(); },
       "referral.rehab_service_order.framework_agreement"},
      {"ServiceBadCode", kRehab,
       [](Request& r) { Order(r).set_service("Arbetslivsinriktad rehab"); },
       "referral.rehab_service_order.service"},
      {"ServiceMissing", kRehab, [](Request& r) { Order(r).clear_service(); },
       "referral.rehab_service_order.service"},
      {"PlanPurposeEmpty", kRehab,
       [](Request& r) { Order(r).clear_plan_purpose(); },
       "referral.rehab_service_order.plan_purpose"},
      {"PlanPurposeTooLong", kRehab,
       [](Request& r) { Order(r).set_plan_purpose(std::string(2001, 'x')); },
       "referral.rehab_service_order.plan_purpose"},
      {"DoctorDidNotConfirmPlan", kRehab,
       [](Request& r) { Order(r).set_doctor_confirmed_plan(false); },
       "referral.rehab_service_order.doctor_confirmed_plan"},
      {"RehabPreferredProviderMalformed", kRehab,
       [](Request& r) { Order(r).set_preferred_provider("work-for-you"); },
       "referral.rehab_service_order.preferred_provider"},

      // Joint mapping.
      {"JointMappingCounterpartKommun", kJoint,
       [](Request& r) {
         r.mutable_referral()->mutable_joint_mapping()->set_counterpart(
             v1::AGENCY_KIND_KOMMUN);
       },
       "referral.joint_mapping.counterpart"},
      {"JointMappingCounterpartUnspecified", kJoint,
       [](Request& r) {
         r.mutable_referral()->mutable_joint_mapping()->set_counterpart(
             v1::AGENCY_KIND_UNSPECIFIED);
       },
       "referral.joint_mapping.counterpart"},
      {"JointMappingReasonEmpty", kJoint,
       [](Request& r) {
         r.mutable_referral()->mutable_joint_mapping()->clear_reason();
       },
       "referral.joint_mapping.reason"},

      // Activity.
      {"ActivityTypeEmpty", kActivity,
       [](Request& r) { Activity(r).clear_activity_type(); },
       "referral.activity.activity_type"},
      {"ActivityTypeNotACode", kActivity,
       [](Request& r) { Activity(r).set_activity_type("Hälsosam"); },
       "referral.activity.activity_type"},
      {"ActivityTypeTooLong", kActivity,
       [](Request& r) { Activity(r).set_activity_type(std::string(65, 'a')); },
       "referral.activity.activity_type"},
      {"ActivityNoteWithPersonnummer", kActivity,
       [](Request& r) { Activity(r).set_note("Gäller 19121212-1212"); },
       "referral.activity.note"},
      {"ActivityNoteTooLong", kActivity,
       [](Request& r) { Activity(r).set_note(Repeat("å", 2001)); },
       "referral.activity.note"},
      {"ActivityPreferredProviderMalformed", kActivity,
       [](Request& r) { Activity(r).set_preferred_provider("providers/X"); },
       "referral.activity.preferred_provider"},

      // Team handover.
      {"TeamNameBad", kTeam,
       [](Request& r) {
         r.mutable_referral()->mutable_team_handover()->set_team(
             "teams/amia-korgen");
       },
       "referral.team_handover.team"},
      {"CaseSummaryEmpty", kTeam,
       [](Request& r) {
         r.mutable_referral()->mutable_team_handover()->clear_case_summary();
       },
       "referral.team_handover.case_summary"},
      {"CaseSummaryTooLong", kTeam,
       [](Request& r) {
         r.mutable_referral()->mutable_team_handover()->set_case_summary(
             std::string(4001, 'x'));
       },
       "referral.team_handover.case_summary"},

      // Referrer.
      {"ReferrerBadEmail", kActivity,
       [](Request& r) {
         r.mutable_referral()->mutable_referrer()->set_email("per.lind@");
       },
       "referral.referrer.email"},
      {"ReferrerBadPhone", kTeam,
       [](Request& r) {
         r.mutable_referral()->mutable_referrer()->set_phone("0771");
       },
       "referral.referrer.phone"},

      // Protected personal data.
      {"ProtectedImpulse", kImpulse,
       [](Request& r) {
         r.mutable_referral()->set_protected_personal_data(true);
       },
       "referral.protected_personal_data"},
      {"ProtectedWithKommun", kActivity,
       [](Request& r) {
         r.mutable_referral()->set_protected_personal_data(true);
       },
       "referral.participant.attributes.kommun_code"},
      {"ProtectedWithoutReferrer", kActivity,
       [](Request& r) {
         v1::Referral& referral = *r.mutable_referral();
         referral.set_protected_personal_data(true);
         referral.mutable_participant()
             ->mutable_attributes()
             ->clear_kommun_code();
         referral.clear_referrer();
       },
       "referral.referrer"},
      {"ProtectedReferrerWithoutPhoneOrEmail", kTeam,
       [](Request& r) {
         v1::Referral& referral = *r.mutable_referral();
         referral.set_protected_personal_data(true);
         referral.mutable_participant()
             ->mutable_attributes()
             ->clear_kommun_code();
         referral.mutable_referrer()->clear_phone();
         referral.mutable_referrer()->clear_email();
       },
       "referral.referrer.phone"},
  };
}

class InvalidCreateReferral : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidCreateReferral, IsRefusedNamingTheField) {
  const InvalidCase& c = GetParam();
  Request request = c.sample();
  ASSERT_TRUE(Validate(request).ok())
      << "the sample itself must be valid: " << Validate(request).status();
  c.mutate(request);
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument)
      << out.status();
  EXPECT_THAT(std::string(out.status().message()), StartsWith(c.field + " "))
      << out.status();
}

INSTANTIATE_TEST_SUITE_P(EveryRule, InvalidCreateReferral,
                         ::testing::ValuesIn(InvalidCases()),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           return info.param.name;
                         });

TEST(ValidateCreateReferral, HasAtLeastFortyInvalidCases) {
  EXPECT_GE(InvalidCases().size(), 40u);
}

TEST(ValidateCreateReferral, KeepsProtectedPersonalDataWithoutAKommun) {
  Request request = SampleActivityReferral();
  v1::Referral& referral = *request.mutable_referral();
  referral.set_protected_personal_data(true);
  referral.mutable_participant()->mutable_attributes()->clear_kommun_code();
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->referral.protected_personal_data());
  EXPECT_EQ(out->referral.referrer().display_name(),
            referral.referrer().display_name());
}

TEST(ValidateCreateReferral, ProtectedParticipantsKommunIsNotInTheMessage) {
  Request request = SampleActivityReferral();
  request.mutable_referral()->set_protected_personal_data(true);
  const std::string kommun =
      request.referral().participant().attributes().kommun_code();
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), Not(HasSubstr(kommun)));
}

// --- Messages that must not leak personal data -------------------------

TEST(ValidateCreateReferral, BadPersonnummerIsNotInTheMessage) {
  Request request = SampleActivityReferral();
  Participant(request).set_personal_identity_number("19121212-1213");
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  const std::string message(out.status().message());
  EXPECT_THAT(message, HasSubstr("check digit"));
  EXPECT_THAT(message, EndsWith(kWithheld));
  EXPECT_THAT(message, Not(HasSubstr("1212")));
}

TEST(ValidateCreateReferral, PersonnummerAsPseudonymIsNotInTheMessage) {
  Request request = SampleActivityReferral();
  Participant(request).set_pseudonym("191212121212");
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), EndsWith(kWithheld));
  EXPECT_THAT(std::string(out.status().message()), Not(HasSubstr("1212")));
}

TEST(ValidateCreateReferral, PersonnummerInFreeTextIsNotInTheMessage) {
  Request request = SampleTeamHandover();
  request.mutable_referral()->mutable_team_handover()->set_case_summary(
      "Klienten 121212-1212 vill börja");
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              StartsWith("referral.team_handover.case_summary "));
  EXPECT_THAT(std::string(out.status().message()), Not(HasSubstr("1212")));
}

TEST(ValidateCreateReferral, ImpulseRefusesParticipantAsPersonalData) {
  Request request = SampleImpulse();
  Participant(request).set_pseudonym("hb-2026-0042");
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("no personal data"));
}

TEST(ValidateCreateReferral, KommunOutsideRegionNamesTheRegion) {
  Request request = SampleImpulse("13");
  ImpulseOf(request).set_kommun_code("1480");
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("region 13"));
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("\"1480\""));
}

TEST(ValidateCreateReferral, MissingScopeNamesThePartyClass) {
  Request request = SampleJointMapping();
  Consent(request).mutable_scopes(0)->set_party_class(
      v1::PARTY_CLASS_ASSIGNED_PROVIDER);
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("PARTY_CLASS_COUNTERPART_AGENCY"));
}

TEST(ValidateCreateReferral, UnknownEnumNamesTheAllowedValues) {
  Request request = SampleImpulse();
  ImpulseOf(request).set_need_category(static_cast<v1::NeedCategory>(99));
  const absl::StatusOr<NewReferral> out = Validate(request);
  ASSERT_FALSE(out.ok());
  const std::string message(out.status().message());
  EXPECT_THAT(message, HasSubstr("NEED_CATEGORY_OTHER"));
  EXPECT_THAT(message, HasSubstr("got 99"));
}

// --- ValidatePageSize --------------------------------------------------

TEST(ValidatePageSize, ZeroMeansTheDefault) {
  const absl::StatusOr<int> size = ValidatePageSize("page_size", 0, 50, 1000);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 50);
}

TEST(ValidatePageSize, InRangeIsKept) {
  for (int requested : {1, 7, 1000}) {
    const absl::StatusOr<int> size =
        ValidatePageSize("page_size", requested, 50, 1000);
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, requested);
  }
}

TEST(ValidatePageSize, OutOfRangeIsRefused) {
  for (int requested : {-1, 1001, -2147483647}) {
    SCOPED_TRACE(requested);
    const absl::StatusOr<int> size =
        ValidatePageSize("page_size", requested, 50, 1000);
    EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(size.status().message()), StartsWith("page_size "));
  }
}

// --- ValidateReferralFilter --------------------------------------------

TEST(ValidateReferralFilter, AcceptsAValidFilter) {
  v1::ReferralFilter filter;
  filter.add_states(v1::REFERRAL_STATE_QUEUED);
  filter.add_states(v1::REFERRAL_STATE_OFFERED);
  filter.add_kinds(v1::REFERRAL_KIND_IMPULSE);
  filter.set_referring_organisation("fk-lfc-halmstad");
  EXPECT_TRUE(ValidateReferralFilter("filter", filter).ok());
  EXPECT_TRUE(ValidateReferralFilter("filter", v1::ReferralFilter()).ok());
}

TEST(ValidateReferralFilter, DuplicateStateIsRefused) {
  v1::ReferralFilter filter;
  filter.add_states(v1::REFERRAL_STATE_QUEUED);
  filter.add_states(v1::REFERRAL_STATE_QUEUED);
  const absl::Status status = ValidateReferralFilter("filter", filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("filter.states[1] "));
}

TEST(ValidateReferralFilter, UnknownOrUnspecifiedKindIsRefused) {
  for (int kind : {99, 0}) {
    v1::ReferralFilter filter;
    filter.add_kinds(static_cast<v1::ReferralKind>(kind));
    const absl::Status status = ValidateReferralFilter("filter", filter);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << kind;
    EXPECT_THAT(std::string(status.message()), StartsWith("filter.kinds[0] "));
  }
}

TEST(ValidateReferralFilter, BadOrganisationIsRefused) {
  v1::ReferralFilter filter;
  filter.set_referring_organisation("FK Halmstad");
  const absl::Status status = ValidateReferralFilter("filter", filter);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("filter.referring_organisation "));
}

// --- ValidateCancelReason ----------------------------------------------

TEST(ValidateCancelReason, CodedReasonNeedsNoNote) {
  EXPECT_TRUE(
      ValidateCancelReason(v1::CANCEL_REASON_NO_LONGER_NEEDED, "").ok());
  EXPECT_TRUE(ValidateCancelReason(v1::CANCEL_REASON_DUPLICATE, "se 01J").ok());
}

TEST(ValidateCancelReason, OtherNeedsANote) {
  const absl::Status status = ValidateCancelReason(v1::CANCEL_REASON_OTHER, "");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("note "));
  EXPECT_TRUE(
      ValidateCancelReason(v1::CANCEL_REASON_OTHER, "Flyttat till Malmö").ok());
}

TEST(ValidateCancelReason, UnspecifiedOrUnknownReasonIsRefused) {
  for (int reason : {0, 99}) {
    const absl::Status status =
        ValidateCancelReason(static_cast<v1::CancelReason>(reason), "x");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << reason;
    EXPECT_THAT(std::string(status.message()), StartsWith("reason "));
  }
}

TEST(ValidateCancelReason, NoteIsFreeText) {
  const absl::Status long_note =
      ValidateCancelReason(v1::CANCEL_REASON_OTHER, std::string(2001, 'x'));
  EXPECT_THAT(std::string(long_note.message()), StartsWith("note "));
  const absl::Status pnr =
      ValidateCancelReason(v1::CANCEL_REASON_OTHER, "Fel person, 121212-1212");
  EXPECT_EQ(pnr.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(pnr.message()), Not(HasSubstr("1212")));
}

// --- ValidateSusRegistration ---------------------------------------------

// What a provider registers at the start: income before, education.
v1::SusRegistration SusAtStart() {
  v1::SusRegistration sus;
  sus.add_income_sources(v1::INCOME_SOURCE_SICKNESS_BENEFIT);
  sus.add_income_sources(v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE);
  sus.set_education_level(v1::EDUCATION_LEVEL_UPPER_SECONDARY);
  return sus;
}

// What a provider registers at the end: income after, work, studies, AF.
v1::SusRegistration SusAtEnd() {
  v1::SusRegistration sus;
  sus.add_income_sources(v1::INCOME_SOURCE_EMPLOYMENT);
  sus.set_work_kind(v1::WORK_KIND_SUBSIDISED);
  sus.set_studies(true);
  sus.set_registered_with_af(true);
  return sus;
}

// Refused as INVALID_ARGUMENT with a message starting with `field`.
void ExpectRefused(const v1::SusRegistration& sus, bool at_start,
                   const std::string& field) {
  const absl::Status status = ValidateSusRegistration("sus", sus, at_start);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(field + " "));
}

TEST(ValidateSusRegistration, EmptyIsValid) {
  EXPECT_TRUE(ValidateSusRegistration("sus", v1::SusRegistration(), true).ok());
  EXPECT_TRUE(
      ValidateSusRegistration("sus", v1::SusRegistration(), false).ok());
}

TEST(ValidateSusRegistration, AcceptsWhatEachMomentRegisters) {
  EXPECT_TRUE(ValidateSusRegistration("sus", SusAtStart(), true).ok());
  EXPECT_TRUE(ValidateSusRegistration("sus", SusAtEnd(), false).ok());
  // No income of one's own, alone.
  v1::SusRegistration none;
  none.add_income_sources(v1::INCOME_SOURCE_NONE);
  EXPECT_TRUE(ValidateSusRegistration("sus", none, false).ok());
  none.set_education_level(v1::EDUCATION_LEVEL_PRIMARY_INCOMPLETE);
  EXPECT_TRUE(ValidateSusRegistration("sus", none, true).ok());
}

TEST(ValidateSusRegistration, IncomeIsRequiredOnceAnythingIsGiven) {
  v1::SusRegistration education_only;
  education_only.set_education_level(v1::EDUCATION_LEVEL_PRIMARY);
  ExpectRefused(education_only, true, "sus.income_sources");
  v1::SusRegistration studies_only;
  studies_only.set_studies(true);
  ExpectRefused(studies_only, false, "sus.income_sources");
  v1::SusRegistration af_only;
  af_only.set_registered_with_af(true);
  ExpectRefused(af_only, false, "sus.income_sources");
}

TEST(ValidateSusRegistration, DuplicateIncomeSourceIsRefused) {
  v1::SusRegistration sus = SusAtEnd();
  sus.add_income_sources(v1::INCOME_SOURCE_EMPLOYMENT);
  ExpectRefused(sus, false, "sus.income_sources[1]");
}

TEST(ValidateSusRegistration, NoIncomeStandsAlone) {
  for (bool none_first : {true, false}) {
    SCOPED_TRACE(none_first);
    v1::SusRegistration sus = SusAtStart();
    sus.clear_income_sources();
    if (none_first) sus.add_income_sources(v1::INCOME_SOURCE_NONE);
    sus.add_income_sources(v1::INCOME_SOURCE_ACTIVITY_SUPPORT);
    if (!none_first) sus.add_income_sources(v1::INCOME_SOURCE_NONE);
    ExpectRefused(sus, true, "sus.income_sources");
    EXPECT_THAT(
        std::string(ValidateSusRegistration("sus", sus, true).message()),
        HasSubstr("INCOME_SOURCE_NONE"));
  }
}

TEST(ValidateSusRegistration, EducationIsRequiredAtTheStartOnly) {
  v1::SusRegistration sus = SusAtStart();
  sus.clear_education_level();
  ExpectRefused(sus, true, "sus.education_level");
  EXPECT_TRUE(ValidateSusRegistration("sus", sus, false).ok());
}

TEST(ValidateSusRegistration, EndOnlyFieldsAreRefusedAtTheStart) {
  v1::SusRegistration working = SusAtStart();
  working.set_work_kind(v1::WORK_KIND_UNSUBSIDISED);
  ExpectRefused(working, true, "sus.work_kind");
  v1::SusRegistration studying = SusAtStart();
  studying.set_studies(true);
  ExpectRefused(studying, true, "sus.studies");
  v1::SusRegistration with_af = SusAtStart();
  with_af.set_registered_with_af(true);
  ExpectRefused(with_af, true, "sus.registered_with_af");
}

TEST(ValidateSusRegistration, UnknownEnumValuesAreRefused) {
  for (int source : {99, 0}) {
    SCOPED_TRACE(source);
    v1::SusRegistration sus;
    sus.add_income_sources(static_cast<v1::IncomeSource>(source));
    ExpectRefused(sus, false, "sus.income_sources[0]");
  }
  v1::SusRegistration education = SusAtStart();
  education.set_education_level(static_cast<v1::EducationLevel>(99));
  ExpectRefused(education, true, "sus.education_level");
  ExpectRefused(education, false, "sus.education_level");
  v1::SusRegistration work = SusAtEnd();
  work.set_work_kind(static_cast<v1::WorkKind>(99));
  ExpectRefused(work, false, "sus.work_kind");
}

TEST(ValidateSusRegistration, NamesTheFieldUnderTheGivenParent) {
  v1::SusRegistration sus = SusAtStart();
  sus.clear_education_level();
  const absl::Status status = ValidateSusRegistration("request.sus", sus, true);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("request.sus.education_level "));
}

}  // namespace
}  // namespace slussen::core
