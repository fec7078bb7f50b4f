#include "tests/support/sample_referrals.h"

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

// The same kommun as the region, so impulses are valid in any region.
std::string KommunIn(const std::string& region) {
  return region == "13" ? "1380" : region + "80";
}

v1::CreateReferralRequest Base(const std::string& region) {
  v1::CreateReferralRequest request;
  request.set_parent("regions/" + region);
  return request;
}

void AddParticipant(v1::Referral* referral, const std::string& region) {
  v1::Participant* p = referral->mutable_participant();
  p->set_pseudonym("hb-2026-0042");
  v1::ParticipantAttributes* a = p->mutable_attributes();
  a->set_age_years(34);
  a->set_gender(v1::GENDER_FEMALE);
  a->set_kommun_code(KommunIn(region));
  a->add_benefit_statuses(v1::BENEFIT_STATUS_SICKNESS_BENEFIT);
  a->set_sickness_insurance_days_left(210);
  a->set_hours_per_week(10);
  a->add_languages("sv");
}

// Consent given a day ago, for a year, in writing.
void AddConsent(v1::Referral* referral, v1::PartyClass recipient) {
  v1::Consent* c = referral->mutable_consent();
  v1::ConsentScope* scope = c->add_scopes();
  scope->set_party_class(recipient);
  scope->add_data_categories(v1::DATA_CATEGORY_ELIGIBILITY);
  scope->add_data_categories(v1::DATA_CATEGORY_CASE_DETAILS);
  v1::ConsentScope* coordinators = c->add_scopes();
  coordinators->set_party_class(v1::PARTY_CLASS_REGION_COORDINATORS);
  coordinators->add_data_categories(v1::DATA_CATEGORY_OUTCOME);
  c->set_purpose(v1::CONSENT_PURPOSE_COORDINATED_REHABILITATION);
  // Given before any fake clock of the tests; valid a year past the real
  // today, so that samples suit tests on a fixed day and on today alike.
  // Whole days: two samples made in one test are equal (to the second,
  // they differed when a second passed between them, as under ASan).
  c->mutable_start_time()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(2026, 1, 2), absl::UTCTimeZone())));
  const absl::CivilDay in_a_year =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + 366;
  c->mutable_end_time()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(in_a_year, absl::UTCTimeZone())));
  c->set_form(v1::CONSENT_FORM_WRITTEN);
}

void AddReferrer(v1::Referral* referral) {
  v1::ContactRoute* r = referral->mutable_referrer();
  r->set_display_name("Per Lind");
  r->set_unit("LFC Halmstad");
  r->set_phone("0771-524 524");
}

}  // namespace

v1::CreateReferralRequest SampleImpulse(const std::string& region) {
  v1::CreateReferralRequest request = Base(region);
  v1::Impulse* impulse = request.mutable_referral()->mutable_impulse();
  impulse->set_kommun_code(KommunIn(region));
  impulse->set_need_category(v1::NEED_CATEGORY_COORDINATED_REHABILITATION);
  v1::ContactRoute* call_back = impulse->mutable_call_back();
  call_back->set_display_name("Anna Berg");
  call_back->set_unit("Ekonomiskt bistånd");
  call_back->set_phone("035-13 70 00");
  call_back->set_email("anna.berg@example.se");
  return request;
}

v1::CreateReferralRequest SampleRehabServiceOrder(const std::string& region) {
  v1::CreateReferralRequest request = Base(region);
  v1::Referral* referral = request.mutable_referral();
  AddReferrer(referral);
  AddParticipant(referral, region);
  AddConsent(referral, v1::PARTY_CLASS_ASSIGNED_PROVIDER);
  v1::RehabServiceOrder* order = referral->mutable_rehab_service_order();
  order->set_framework_agreement("frameworkAgreements/fk-rehab-2025");
  order->set_service("arbetslivsinriktad-rehabilitering");
  order->set_plan_purpose("Stöd tillbaka till arbete efter lång sjukskrivning");
  order->set_doctor_confirmed_plan(true);
  order->set_preferred_provider("providers/work-for-you");
  return request;
}

v1::CreateReferralRequest SampleJointMapping(const std::string& region) {
  v1::CreateReferralRequest request = Base(region);
  v1::Referral* referral = request.mutable_referral();
  AddReferrer(referral);
  AddParticipant(referral, region);
  referral->mutable_participant()->set_personal_identity_number(
      kTestPersonnummer);
  AddConsent(referral, v1::PARTY_CLASS_COUNTERPART_AGENCY);
  referral->mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_JOINT_MAPPING);
  v1::JointMappingRequest* mapping = referral->mutable_joint_mapping();
  mapping->set_counterpart(v1::AGENCY_KIND_ARBETSFORMEDLINGEN);
  mapping->set_reason("Behov av gemensam bild av arbetsförmågan");
  return request;
}

v1::CreateReferralRequest SampleActivityReferral(const std::string& region) {
  v1::CreateReferralRequest request = Base(region);
  v1::Referral* referral = request.mutable_referral();
  AddReferrer(referral);
  AddParticipant(referral, region);
  AddConsent(referral, v1::PARTY_CLASS_ASSIGNED_PROVIDER);
  v1::ActivityReferral* activity = referral->mutable_activity();
  activity->set_activity_type("halsosam");
  activity->set_note("Vill gärna börja på förmiddagar");
  return request;
}

v1::CreateReferralRequest SampleJointReferral(const std::string& region) {
  v1::CreateReferralRequest request = SampleActivityReferral(region);
  v1::Referral* referral = request.mutable_referral();
  v1::Consent* consent = referral->mutable_consent();
  v1::ConsentScope* af = consent->add_scopes();
  af->set_organisation(kJointCoReferrer);
  af->add_data_categories(v1::DATA_CATEGORY_ELIGIBILITY);
  af->add_data_categories(v1::DATA_CATEGORY_OUTCOME);
  v1::ConsentScope* kommun = consent->add_scopes();
  kommun->set_organisation(kJointInformed);
  kommun->add_data_categories(v1::DATA_CATEGORY_OUTCOME);
  v1::JointReferral* joint = referral->mutable_joint();
  joint->set_funding_organisation("samordning-halland");
  v1::JointParty* co_referrer = joint->add_parties();
  co_referrer->set_organisation(kJointCoReferrer);
  co_referrer->set_role(v1::JOINT_PARTY_ROLE_CO_REFERRER);
  v1::JointParty* informed = joint->add_parties();
  informed->set_organisation(kJointInformed);
  informed->set_role(v1::JOINT_PARTY_ROLE_INFORMED);
  return request;
}

v1::CreateReferralRequest SampleTeamHandover(const std::string& region) {
  v1::CreateReferralRequest request = Base(region);
  v1::Referral* referral = request.mutable_referral();
  AddReferrer(referral);
  AddParticipant(referral, region);
  AddConsent(referral, v1::PARTY_CLASS_ASSIGNED_PROVIDER);
  v1::TeamHandover* handover = referral->mutable_team_handover();
  handover->set_team("providers/amia-korgen");
  handover->set_case_summary("Sjukskriven sedan sju månader, motiverad");
  return request;
}

std::vector<v1::CreateReferralRequest> SampleOfEveryKind(
    const std::string& region) {
  return {SampleImpulse(region), SampleRehabServiceOrder(region),
          SampleJointMapping(region), SampleActivityReferral(region),
          SampleTeamHandover(region)};
}

}  // namespace slussen::testing
