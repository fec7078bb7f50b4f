#include "broker/core/model/access.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/referral_repository.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/consent.pb.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::SampleActivityReferral;
using ::slussen::testing::SampleImpulse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kAgency[] = "fk-lfc-halmstad";
constexpr char kProvider[] = "halsosam-halmstad";
constexpr char kCoordinatorOrg[] = "finsam-halland";

// 2026-12-23 09:00 UTC; consents below are dated around it.
const absl::Time kNow = absl::FromUnixSeconds(1798016400);

Caller MakeCaller(const std::string& organisation, v1::Role role,
                  const std::string& region = "") {
  Caller caller;
  caller.organisation = organisation;
  caller.role = role;
  caller.region = region;
  return caller;
}

Caller Agency() { return MakeCaller(kAgency, v1::ROLE_AGENCY, "13"); }
Caller Provider() { return MakeCaller(kProvider, v1::ROLE_PROVIDER); }
Caller Coordinator() {
  return MakeCaller(kCoordinatorOrg, v1::ROLE_COORDINATOR, "13");
}

// A consent in force from a day before kNow to a year after, with one
// scope per call to AddScope.
v1::Consent ActiveConsent() {
  v1::Consent consent;
  consent.set_state(v1::CONSENT_STATE_ACTIVE);
  consent.set_purpose(v1::CONSENT_PURPOSE_COORDINATED_REHABILITATION);
  consent.set_form(v1::CONSENT_FORM_WRITTEN);
  consent.mutable_start_time()->set_seconds(
      absl::ToUnixSeconds(kNow - absl::Hours(24)));
  consent.mutable_end_time()->set_seconds(
      absl::ToUnixSeconds(kNow + absl::Hours(24 * 365)));
  return consent;
}

void AddScope(v1::Consent& consent, v1::PartyClass party,
              std::initializer_list<v1::DataCategory> categories) {
  v1::ConsentScope* scope = consent.add_scopes();
  scope->set_party_class(party);
  for (v1::DataCategory c : categories) scope->add_data_categories(c);
}

// An accepted activity referral in region 13 made by kAgency and held by
// kProvider, at version 7, with two transitions carrying notes. Its
// consent covers the provider for eligibility and case details, and the
// coordinators for outcomes only (as the sample does).
ReferralRecord ActivityRecord() {
  ReferralRecord record;
  record.region = "13";
  record.id = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C";
  record.version = 7;
  record.assigned_organisation = kProvider;
  record.referral = SampleActivityReferral("13").referral();
  v1::Referral& r = record.referral;
  r.set_name("regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  r.set_kind(v1::REFERRAL_KIND_ACTIVITY);
  r.set_state(v1::REFERRAL_STATE_ACCEPTED);
  r.set_referring_organisation(kAgency);
  r.set_assigned_provider("providers/" + std::string(kProvider));
  v1::Consent consent = ActiveConsent();
  AddScope(consent, v1::PARTY_CLASS_ASSIGNED_PROVIDER,
           {v1::DATA_CATEGORY_ELIGIBILITY, v1::DATA_CATEGORY_CASE_DETAILS});
  AddScope(consent, v1::PARTY_CLASS_REGION_COORDINATORS,
           {v1::DATA_CATEGORY_OUTCOME});
  *r.mutable_consent() = consent;
  v1::Transition* created = r.add_history();
  created->set_action(v1::ACTION_CREATE);
  created->set_to_state(v1::REFERRAL_STATE_RECEIVED);
  created->set_note("Skickad efter samtal");
  v1::Transition* accepted = r.add_history();
  accepted->set_action(v1::ACTION_ACCEPT);
  accepted->set_from_state(v1::REFERRAL_STATE_OFFERED);
  accepted->set_to_state(v1::REFERRAL_STATE_ACCEPTED);
  accepted->set_note("Plats i gruppen som startar i januari");
  return record;
}

// The record with its consent replaced by one with the given coordinator
// categories (plus the provider's scope).
ReferralRecord WithCoordinatorScope(
    std::initializer_list<v1::DataCategory> categories) {
  ReferralRecord record = ActivityRecord();
  v1::Consent consent = ActiveConsent();
  AddScope(consent, v1::PARTY_CLASS_ASSIGNED_PROVIDER,
           {v1::DATA_CATEGORY_ELIGIBILITY, v1::DATA_CATEGORY_CASE_DETAILS});
  AddScope(consent, v1::PARTY_CLASS_REGION_COORDINATORS, categories);
  *record.referral.mutable_consent() = consent;
  return record;
}

v1::Referral Full(const Caller& caller, const ReferralRecord& record) {
  return ViewFor(caller, record, v1::REFERRAL_VIEW_FULL, kNow);
}

// Whether the personal and case fields of an activity referral are all
// there, history notes included.
void ExpectWhole(const v1::Referral& view) {
  EXPECT_EQ(view.participant().pseudonym(), "hb-2026-0042");
  EXPECT_EQ(view.participant().attributes().age_years(), 34);
  EXPECT_EQ(view.activity().note(), "Vill gärna börja på förmiddagar");
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(view.history(0).note(), "Skickad efter samtal");
  EXPECT_EQ(view.history(1).note(), "Plats i gruppen som startar i januari");
}

// --- CanSee ------------------------------------------------------------

TEST(CanSee, AgencySeesOnlyItsOwnReferrals) {
  EXPECT_TRUE(CanSee(Agency(), ActivityRecord()));
  EXPECT_FALSE(CanSee(MakeCaller("af-halmstad", v1::ROLE_AGENCY, "13"),
                      ActivityRecord()));
}

TEST(CanSee, ProviderSeesOnlyWhatItHolds) {
  EXPECT_TRUE(CanSee(Provider(), ActivityRecord()));
  EXPECT_FALSE(
      CanSee(MakeCaller("redo-halmstad", v1::ROLE_PROVIDER), ActivityRecord()));
  // The referring agency's organisation id does not make a provider of it.
  EXPECT_FALSE(
      CanSee(MakeCaller(kAgency, v1::ROLE_PROVIDER), ActivityRecord()));
}

TEST(CanSee, ProviderSeesNothingUnassigned) {
  ReferralRecord record = ActivityRecord();
  record.assigned_organisation.clear();
  EXPECT_FALSE(CanSee(Provider(), record));
  // Not even a caller whose organisation is empty too.
  EXPECT_FALSE(CanSee(MakeCaller("", v1::ROLE_PROVIDER), record));
}

TEST(CanSee, CoordinatorSeesItsRegion) {
  EXPECT_TRUE(CanSee(Coordinator(), ActivityRecord()));
  EXPECT_FALSE(CanSee(MakeCaller(kCoordinatorOrg, v1::ROLE_COORDINATOR, "14"),
                      ActivityRecord()));
  EXPECT_FALSE(CanSee(MakeCaller(kCoordinatorOrg, v1::ROLE_COORDINATOR, ""),
                      ActivityRecord()));
}

TEST(CanSee, AdminAndOthersSeeNoReferral) {
  EXPECT_FALSE(
      CanSee(MakeCaller(kAgency, v1::ROLE_ADMIN, "13"), ActivityRecord()));
  EXPECT_FALSE(CanSee(MakeCaller(kAgency, v1::ROLE_UNSPECIFIED, "13"),
                      ActivityRecord()));
}

TEST(CanSee, TheBrokerItselfSeesEveryReferral) {
  EXPECT_TRUE(
      CanSee(MakeCaller("slussen", v1::ROLE_SYSTEM, ""), ActivityRecord()));
}

// --- CheckMayReadReferrals ---------------------------------------------

TEST(CheckMayReadReferrals, AgencyProviderAndCoordinatorMay) {
  EXPECT_TRUE(CheckMayReadReferrals(Agency()).ok());
  EXPECT_TRUE(CheckMayReadReferrals(Provider()).ok());
  EXPECT_TRUE(CheckMayReadReferrals(Coordinator()).ok());
}

TEST(CheckMayReadReferrals, AdminAndUnknownMayNot) {
  for (v1::Role role :
       {v1::ROLE_ADMIN, v1::ROLE_UNSPECIFIED, v1::ROLE_SYSTEM}) {
    EXPECT_EQ(CheckMayReadReferrals(MakeCaller("x-org", role)).code(),
              absl::StatusCode::kPermissionDenied)
        << v1::Role_Name(role);
  }
}

// --- ViewFor -----------------------------------------------------------

TEST(ViewFor, EtagIsTheVersion) {
  EXPECT_EQ(Full(Agency(), ActivityRecord()).etag(), "7");
  ReferralRecord record = ActivityRecord();
  record.version = 12;
  EXPECT_EQ(Full(Coordinator(), record).etag(), "12");
}

TEST(ViewFor, AllowedActionsAreTheCallersOwn) {
  EXPECT_THAT(Full(Agency(), ActivityRecord()).allowed_actions(),
              ElementsAre(v1::ACTION_CANCEL, v1::ACTION_WITHDRAW_CONSENT,
                          v1::ACTION_SET_PROTECTED_PERSONAL_DATA));
  EXPECT_THAT(Full(Provider(), ActivityRecord()).allowed_actions(),
              ElementsAre(v1::ACTION_RECORD_CONTACT, v1::ACTION_START,
                          v1::ACTION_WITHDRAW_CONSENT));
  EXPECT_THAT(Full(Coordinator(), ActivityRecord()).allowed_actions(),
              IsEmpty());
}

TEST(ViewFor, BasicViewDropsHistory) {
  EXPECT_THAT(ViewFor(Agency(), ActivityRecord(), v1::REFERRAL_VIEW_BASIC, kNow)
                  .history(),
              IsEmpty());
  EXPECT_THAT(
      ViewFor(Agency(), ActivityRecord(), v1::REFERRAL_VIEW_UNSPECIFIED, kNow)
          .history(),
      IsEmpty());
  EXPECT_EQ(Full(Agency(), ActivityRecord()).history_size(), 2);
}

TEST(ViewFor, ReferringAgencySeesEverything) {
  const v1::Referral view = Full(Agency(), ActivityRecord());
  ExpectWhole(view);
  EXPECT_EQ(view.name(), "regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  EXPECT_EQ(view.state(), v1::REFERRAL_STATE_ACCEPTED);
}

TEST(ViewFor, ReferringAgencySeesEverythingEvenAfterConsentWithdrawn) {
  ReferralRecord record = ActivityRecord();
  record.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  ExpectWhole(Full(Agency(), record));
}

TEST(ViewFor, ProviderCoveredByConsentSeesParticipantAndCase) {
  ExpectWhole(Full(Provider(), ActivityRecord()));
}

TEST(ViewFor, ProviderCoveredByOrganisationScopeSeesParticipant) {
  ReferralRecord record = ActivityRecord();
  v1::Consent consent = ActiveConsent();
  v1::ConsentScope* scope = consent.add_scopes();
  scope->set_organisation(kProvider);
  scope->add_data_categories(v1::DATA_CATEGORY_ELIGIBILITY);
  *record.referral.mutable_consent() = consent;
  const v1::Referral view = Full(Provider(), record);
  EXPECT_EQ(view.participant().pseudonym(), "hb-2026-0042");
  EXPECT_EQ(view.activity().note(), "");
}

TEST(ViewFor, CoordinatorWithOutcomeScopeSeesNoParticipantOrCase) {
  const v1::Referral view = Full(Coordinator(), ActivityRecord());
  EXPECT_FALSE(view.has_participant());
  EXPECT_EQ(view.activity().note(), "");
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(view.history(0).note(), "");
  EXPECT_EQ(view.history(1).note(), "");
  // What is not personal stays.
  EXPECT_EQ(view.activity().activity_type(), "halsosam");
  EXPECT_EQ(view.history(1).action(), v1::ACTION_ACCEPT);
  EXPECT_EQ(view.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(view.etag(), "7");
}

TEST(ViewFor, CoordinatorSeesParticipantOnlyWithEligibility) {
  const v1::Referral view = Full(
      Coordinator(), WithCoordinatorScope({v1::DATA_CATEGORY_ELIGIBILITY}));
  EXPECT_EQ(view.participant().pseudonym(), "hb-2026-0042");
  EXPECT_EQ(view.participant().attributes().kommun_code(), "1380");
  EXPECT_EQ(view.activity().note(), "");
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(view.history(0).note(), "");
}

TEST(ViewFor, CoordinatorSeesCaseDetailsOnlyWithCaseDetails) {
  const v1::Referral view = Full(
      Coordinator(), WithCoordinatorScope({v1::DATA_CATEGORY_CASE_DETAILS}));
  EXPECT_FALSE(view.has_participant());
  EXPECT_EQ(view.activity().note(), "Vill gärna börja på förmiddagar");
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(view.history(1).note(), "Plats i gruppen som startar i januari");
}

TEST(ViewFor, CoordinatorWithBothCategoriesSeesEverything) {
  ExpectWhole(Full(Coordinator(),
                   WithCoordinatorScope({v1::DATA_CATEGORY_ELIGIBILITY,
                                         v1::DATA_CATEGORY_CASE_DETAILS})));
}

TEST(ViewFor, ProviderScopeDoesNotCoverCoordinators) {
  // The sample consent gives eligibility and case details to the provider
  // only: a coordinator must not profit from it.
  ReferralRecord record = ActivityRecord();
  v1::Consent consent = ActiveConsent();
  AddScope(consent, v1::PARTY_CLASS_ASSIGNED_PROVIDER,
           {v1::DATA_CATEGORY_ELIGIBILITY, v1::DATA_CATEGORY_CASE_DETAILS});
  *record.referral.mutable_consent() = consent;
  const v1::Referral view = Full(Coordinator(), record);
  EXPECT_FALSE(view.has_participant());
  EXPECT_EQ(view.activity().note(), "");
}

TEST(ViewFor, CaseDetailsOfEveryKindAreCleared) {
  const v1::CreateReferralRequest samples[] = {
      slussen::testing::SampleRehabServiceOrder(),
      slussen::testing::SampleJointMapping(),
      slussen::testing::SampleTeamHandover()};
  for (const v1::CreateReferralRequest& sample : samples) {
    ReferralRecord record = ActivityRecord();
    record.referral.clear_activity();
    record.referral.MergeFrom(sample.referral());
    *record.referral.mutable_consent() = ActivityRecord().referral.consent();
    const v1::Referral view = Full(Coordinator(), record);
    EXPECT_EQ(view.rehab_service_order().plan_purpose(), "");
    EXPECT_EQ(view.joint_mapping().reason(), "");
    EXPECT_EQ(view.team_handover().case_summary(), "");
    EXPECT_EQ(view.details_case(), sample.referral().details_case());
  }
}

TEST(ViewFor, WithdrawnConsentHidesPersonalFields) {
  ReferralRecord record = ActivityRecord();
  record.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  const v1::Referral view = Full(Provider(), record);
  EXPECT_FALSE(view.has_participant());
  EXPECT_EQ(view.activity().note(), "");
  ASSERT_EQ(view.history_size(), 2);
  EXPECT_EQ(view.history(0).note(), "");
}

TEST(ViewFor, ExpiredConsentHidesPersonalFields) {
  ReferralRecord record = ActivityRecord();
  record.referral.mutable_consent()->set_state(v1::CONSENT_STATE_EXPIRED);
  EXPECT_FALSE(Full(Provider(), record).has_participant());

  // Still marked active, but past its end time.
  ReferralRecord lapsed = ActivityRecord();
  lapsed.referral.mutable_consent()->mutable_end_time()->set_seconds(
      absl::ToUnixSeconds(kNow - absl::Seconds(1)));
  const v1::Referral view = Full(Provider(), lapsed);
  EXPECT_FALSE(view.has_participant());
  EXPECT_EQ(view.activity().note(), "");

  // Ending exactly now counts as ended.
  lapsed.referral.mutable_consent()->mutable_end_time()->set_seconds(
      absl::ToUnixSeconds(kNow));
  EXPECT_FALSE(Full(Provider(), lapsed).has_participant());
}

TEST(ViewFor, ConsentWithoutEndTimeStaysInForce) {
  ReferralRecord record = ActivityRecord();
  record.referral.mutable_consent()->clear_end_time();
  ExpectWhole(ViewFor(Provider(), record, v1::REFERRAL_VIEW_FULL,
                      kNow + absl::Hours(24 * 3650)));
}

TEST(ViewFor, ImpulseShowsItsCallBackToACoordinator) {
  ReferralRecord record;
  record.region = "13";
  record.id = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1D";
  record.version = 1;
  record.referral = SampleImpulse("13").referral();
  record.referral.set_kind(v1::REFERRAL_KIND_IMPULSE);
  record.referral.set_state(v1::REFERRAL_STATE_QUEUED);
  record.referral.set_referring_organisation("halmstad-eb");
  ASSERT_TRUE(CanSee(Coordinator(), record));
  const v1::Referral view = Full(Coordinator(), record);
  EXPECT_EQ(view.impulse().call_back().display_name(), "Anna Berg");
  EXPECT_EQ(view.impulse().call_back().phone(), "035-13 70 00");
  EXPECT_EQ(view.impulse().call_back().email(), "anna.berg@example.se");
  EXPECT_EQ(view.impulse().kommun_code(), "1380");
  EXPECT_EQ(view.impulse().need_category(),
            v1::NEED_CATEGORY_COORDINATED_REHABILITATION);
}

// --- The matcher's reasons and the offer -----------------------------------

constexpr char kOfferName[] = "regions/13/offers/01JBZ6W6E9Y7ZQ5Z7M5X4R2K2A";

// ActivityRecord with the OFFER that placed it (the matcher's reasons spell
// out the participant's facts) and, before it, an offer declined with a
// note.
ReferralRecord OfferedRecord() {
  ReferralRecord record = ActivityRecord();
  v1::Transition* declined = record.referral.add_history();
  declined->set_action(v1::ACTION_DECLINE);
  declined->set_offer("regions/13/offers/01JBZ6W6E9Y7ZQ5Z7M5X4R2K29");
  declined->set_note("Tackade nej i telefon");
  v1::Transition* offered = record.referral.add_history();
  offered->set_action(v1::ACTION_OFFER);
  offered->set_offer(kOfferName);
  offered->add_reasons("age 34 within 18..64");
  offered->add_reasons("kommun 1380 served");
  return record;
}

OfferRecord StoredOffer() {
  OfferRecord offer;
  offer.region = "13";
  offer.id = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K2A";
  offer.version = 3;
  offer.provider_organisation = kProvider;
  offer.offer.set_name(kOfferName);
  offer.offer.set_state(v1::OFFER_STATE_ACCEPTED);
  offer.offer.mutable_explanation()->set_framework_rank(2);
  // What offers stored before their reasons moved to the history.
  offer.offer.mutable_explanation()->add_reasons("age 34 within 18..64");
  offer.offer.set_decline_note("stored note");
  return offer;
}

TEST(ViewFor, TheMatchersReasonsGoWithTheParticipant) {
  const ReferralRecord record = OfferedRecord();
  EXPECT_THAT(Full(Provider(), record).history(3).reasons(),
              ElementsAre("age 34 within 18..64", "kommun 1380 served"));
  EXPECT_THAT(Full(Agency(), record).history(3).reasons(),
              ElementsAre("age 34 within 18..64", "kommun 1380 served"));
  // Not covered for eligibility: the reasons are withheld, saying so.
  EXPECT_THAT(Full(Coordinator(), record).history(3).reasons(),
              ElementsAre(::testing::HasSubstr("withheld")));
  EXPECT_THAT(Full(Coordinator(), record).history(1).reasons(), IsEmpty());
  ReferralRecord withdrawn = record;
  withdrawn.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  EXPECT_THAT(Full(Provider(), withdrawn).history(3).reasons(),
              ElementsAre(::testing::HasSubstr("withheld")));
}

TEST(ViewFor, TheReferralNamesItsConsent) {
  const v1::Referral view = Full(Agency(), ActivityRecord());
  EXPECT_EQ(view.consent().name(),
            "regions/13/consents/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  EXPECT_EQ(view.consent().state(), v1::CONSENT_STATE_ACTIVE);
}

TEST(OfferViewFor, ReasonsAndNoteComeFromTheHistoryUnderTheConsent) {
  const ReferralRecord record = OfferedRecord();
  const v1::Offer provider =
      OfferViewFor(Provider(), StoredOffer(), &record, kNow);
  EXPECT_THAT(provider.explanation().reasons(),
              ElementsAre("age 34 within 18..64", "kommun 1380 served"));
  EXPECT_EQ(provider.explanation().framework_rank(), 2);
  EXPECT_EQ(provider.decline_note(), "");  // another offer's note
  EXPECT_EQ(provider.etag(), "3");
  EXPECT_TRUE(ShowsPersonalData(provider));

  const v1::Offer coordinator =
      OfferViewFor(Coordinator(), StoredOffer(), &record, kNow);
  EXPECT_THAT(coordinator.explanation().reasons(), IsEmpty());
  EXPECT_EQ(coordinator.decline_note(), "");
  EXPECT_EQ(coordinator.explanation().framework_rank(), 2);
  EXPECT_FALSE(ShowsPersonalData(coordinator));

  ReferralRecord withdrawn = record;
  withdrawn.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  EXPECT_FALSE(ShowsPersonalData(
      OfferViewFor(Provider(), StoredOffer(), &withdrawn, kNow)));
  // Without its referral nothing personal is shown, not even what the
  // offer stored itself.
  EXPECT_FALSE(ShowsPersonalData(
      OfferViewFor(Provider(), StoredOffer(), nullptr, kNow)));

  // The declined offer's note, where the consent covers case details.
  OfferRecord declined = StoredOffer();
  declined.offer.set_name("regions/13/offers/01JBZ6W6E9Y7ZQ5Z7M5X4R2K29");
  EXPECT_EQ(OfferViewFor(Provider(), declined, &record, kNow).decline_note(),
            "Tackade nej i telefon");
  EXPECT_EQ(OfferViewFor(Coordinator(), declined, &record, kNow).decline_note(),
            "");
}

// --- Protected personal data ---------------------------------------------

// ActivityRecord whose participant has protected personal data, with the
// agency's handläggare as the way to reach them.
ReferralRecord ProtectedRecord() {
  ReferralRecord record = ActivityRecord();
  record.referral.set_protected_personal_data(true);
  record.referral.mutable_referrer()->set_display_name("Handläggare Lind");
  record.referral.mutable_referrer()->set_phone("035-100 00");
  record.audit_subject = "audit-subject:k1:abc";
  return record;
}

TEST(ProtectedPersonalData, OnlyTheAgencyAndTheHoldingProviderSeeTheReferral) {
  const ReferralRecord record = ProtectedRecord();
  EXPECT_TRUE(CanSee(Agency(), record));
  EXPECT_TRUE(CanSee(Provider(), record));
  EXPECT_FALSE(CanSee(Coordinator(), record));
  EXPECT_FALSE(
      CanSee(MakeCaller("af-halmstad", v1::ROLE_AGENCY, "13"), record));
  EXPECT_FALSE(CanSee(MakeCaller("redo-halmstad", v1::ROLE_PROVIDER), record));
  // The same referral unprotected: the coordinator sees it (the check above
  // is the protection's, not the sample's).
  EXPECT_TRUE(CanSee(Coordinator(), ActivityRecord()));
}

TEST(ProtectedPersonalData, EveryReadIsAudited) {
  ReferralRecord record = ProtectedRecord();
  // Even a provider whom the consent no longer covers, whose view holds
  // nothing personal.
  record.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  EXPECT_TRUE(ShowsPersonalData(Provider(), record, kNow));
  record.referral.set_protected_personal_data(false);
  EXPECT_FALSE(ShowsPersonalData(Provider(), record, kNow));
}

TEST(ProtectedPersonalData, CoordinatorsGetNoEventOfIt) {
  v1::Event event;
  event.set_referral("regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  event.set_referring_organisation(kAgency);
  event.set_provider_organisation(kProvider);
  EXPECT_TRUE(MaySeeEvent(Coordinator(), "13", event));
  event.set_protected_personal_data(true);
  EXPECT_FALSE(MaySeeEvent(Coordinator(), "13", event));
  EXPECT_TRUE(MaySeeEvent(Agency(), "13", event));
  EXPECT_TRUE(MaySeeEvent(Provider(), "13", event));
  EXPECT_FALSE(
      MaySeeEvent(MakeCaller("redo-halmstad", v1::ROLE_PROVIDER), "13", event));
}

TEST(ProtectedPersonalData, TheOfferSaysToGoThroughTheAgency) {
  ReferralRecord record = OfferedRecord();
  record.referral.set_protected_personal_data(true);
  record.referral.mutable_referrer()->set_display_name("Handläggare Lind");
  record.referral.mutable_referrer()->set_phone("035-100 00");
  const v1::Offer offer =
      OfferViewFor(Provider(), StoredOffer(), &record, kNow);
  EXPECT_TRUE(offer.protected_personal_data());
  EXPECT_EQ(offer.participant_contact().display_name(), "Handläggare Lind");
  EXPECT_EQ(offer.participant_contact().phone(), "035-100 00");
  EXPECT_TRUE(ShowsPersonalData(offer));
  // Unprotected: no contact given, the participant is reached directly.
  const ReferralRecord unprotected = OfferedRecord();
  const v1::Offer plain =
      OfferViewFor(Provider(), StoredOffer(), &unprotected, kNow);
  EXPECT_FALSE(plain.protected_personal_data());
  EXPECT_FALSE(plain.has_participant_contact());
}

TEST(ProtectedPersonalData, CoordinatorsMayNotSeeItsOffer) {
  ReferralRecord record = OfferedRecord();
  EXPECT_TRUE(MaySeeOffer(Coordinator(), StoredOffer(), &record));
  record.referral.set_protected_personal_data(true);
  EXPECT_FALSE(MaySeeOffer(Coordinator(), StoredOffer(), &record));
  EXPECT_TRUE(MaySeeOffer(Provider(), StoredOffer(), &record));
  EXPECT_FALSE(MaySeeOffer(MakeCaller("redo-halmstad", v1::ROLE_PROVIDER),
                           StoredOffer(), &record));
}

TEST(ErasePersonalData, TakesTheMatchersReasonsToo) {
  ReferralRecord record = OfferedRecord();
  ErasePersonalData(record, kNow);
  for (const v1::Transition& t : record.referral.history()) {
    EXPECT_THAT(t.reasons(), IsEmpty());
    EXPECT_EQ(t.note(), "");
  }
  EXPECT_FALSE(
      ShowsPersonalData(OfferViewFor(Agency(), StoredOffer(), &record, kNow)));
  EXPECT_FALSE(ShowsPersonalData(
      OfferViewFor(Provider(), StoredOffer(), &record, kNow)));
}

TEST(StripParticipantFacts, TakesTheTransitionsReasons) {
  v1::Event event;
  event.mutable_transition()->set_action(v1::ACTION_OFFER);
  event.mutable_transition()->add_reasons("age 34 within 18..64");
  StripParticipantFacts(event);
  EXPECT_THAT(event.transition().reasons(), IsEmpty());
  EXPECT_EQ(event.transition().action(), v1::ACTION_OFFER);
}

// --- SUS registrations ----------------------------------------------------

// ActivityRecord started, with an in-registration in its START transition.
// Its consent gives the coordinators outcome data and the provider none.
ReferralRecord StartedWithSus() {
  ReferralRecord record = ActivityRecord();
  record.audit_subject = "audit-subject:k1:abc";
  record.referral.set_state(v1::REFERRAL_STATE_STARTED);
  v1::Transition* started = record.referral.add_history();
  started->set_action(v1::ACTION_START);
  started->set_from_state(v1::REFERRAL_STATE_ACCEPTED);
  started->set_to_state(v1::REFERRAL_STATE_STARTED);
  started->mutable_sus()->add_income_sources(
      v1::INCOME_SOURCE_SICKNESS_BENEFIT);
  started->mutable_sus()->set_education_level(
      v1::EDUCATION_LEVEL_UPPER_SECONDARY);
  return record;
}

// Whether `caller`'s full view of `record` shows the START's registration.
bool SeesSus(const Caller& caller, const ReferralRecord& record) {
  const v1::Referral view = Full(caller, record);
  for (const v1::Transition& t : view.history()) {
    if (t.action() == v1::ACTION_START) return t.has_sus();
  }
  ADD_FAILURE() << "no START in the view";
  return false;
}

TEST(ViewFor, SusRegistrationGoesWithTheConsentForOutcomeData) {
  const ReferralRecord record = StartedWithSus();
  EXPECT_TRUE(SeesSus(Coordinator(), record));
  EXPECT_TRUE(SeesSus(Agency(), record));
  // The provider is covered for eligibility and case details, not outcomes.
  EXPECT_FALSE(SeesSus(Provider(), record));
  const v1::Referral view = Full(Coordinator(), record);
  EXPECT_THAT(view.history(2).sus().income_sources(),
              ElementsAre(v1::INCOME_SOURCE_SICKNESS_BENEFIT));

  // Outcome data for the provider too.
  ReferralRecord provider_covered = record;
  AddScope(*provider_covered.referral.mutable_consent(),
           v1::PARTY_CLASS_ASSIGNED_PROVIDER, {v1::DATA_CATEGORY_OUTCOME});
  EXPECT_TRUE(SeesSus(Provider(), provider_covered));

  // Coordinators covered for everything but outcomes.
  ReferralRecord no_outcome = record;
  v1::Consent consent = ActiveConsent();
  AddScope(consent, v1::PARTY_CLASS_REGION_COORDINATORS,
           {v1::DATA_CATEGORY_ELIGIBILITY, v1::DATA_CATEGORY_CASE_DETAILS});
  *no_outcome.referral.mutable_consent() = consent;
  EXPECT_FALSE(SeesSus(Coordinator(), no_outcome));
  EXPECT_TRUE(SeesSus(Agency(), no_outcome));

  // A withdrawn consent covers no one; the referring agency still sees it.
  ReferralRecord withdrawn = record;
  withdrawn.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  EXPECT_FALSE(SeesSus(Coordinator(), withdrawn));
  EXPECT_TRUE(SeesSus(Agency(), withdrawn));
}

TEST(StripParticipantFacts, TakesTheSusRegistration) {
  v1::Event event;
  event.mutable_transition()->set_action(v1::ACTION_START);
  event.mutable_transition()->mutable_sus()->add_income_sources(
      v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE);
  StripParticipantFacts(event);
  EXPECT_FALSE(event.transition().has_sus());
  EXPECT_EQ(event.transition().action(), v1::ACTION_START);
}

TEST(ErasePersonalData, TakesTheSusRegistrations) {
  ReferralRecord record = StartedWithSus();
  ErasePersonalData(record, kNow);
  for (const v1::Transition& t : record.referral.history()) {
    EXPECT_FALSE(t.has_sus()) << v1::Action_Name(t.action());
  }
  EXPECT_FALSE(SeesSus(Agency(), record));
}

TEST(MayRegisterInSus, FollowsTheConsentForOutcomeData) {
  EXPECT_TRUE(MayRegisterInSus(Coordinator(), StartedWithSus(), kNow));
  EXPECT_FALSE(MayRegisterInSus(Provider(), StartedWithSus(), kNow));
  ReferralRecord provider_covered = StartedWithSus();
  AddScope(*provider_covered.referral.mutable_consent(),
           v1::PARTY_CLASS_ASSIGNED_PROVIDER, {v1::DATA_CATEGORY_OUTCOME});
  EXPECT_TRUE(MayRegisterInSus(Provider(), provider_covered, kNow));
  ReferralRecord withdrawn = StartedWithSus();
  withdrawn.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  EXPECT_FALSE(MayRegisterInSus(Coordinator(), withdrawn, kNow));
  // Lapsed at its end time.
  EXPECT_FALSE(MayRegisterInSus(Coordinator(), StartedWithSus(),
                                kNow + absl::Hours(24 * 366)));
}

TEST(MayRegisterInSus, NeverForAProtectedOrErasedParticipant) {
  ReferralRecord protected_record = StartedWithSus();
  protected_record.referral.set_protected_personal_data(true);
  EXPECT_FALSE(MayRegisterInSus(Coordinator(), protected_record, kNow));
  AddScope(*protected_record.referral.mutable_consent(),
           v1::PARTY_CLASS_ASSIGNED_PROVIDER, {v1::DATA_CATEGORY_OUTCOME});
  EXPECT_FALSE(MayRegisterInSus(Provider(), protected_record, kNow));

  ReferralRecord erased = StartedWithSus();
  ErasePersonalData(erased, kNow);
  ASSERT_TRUE(erased.referral.consent().scopes_size() > 0)
      << "the consent's scope outlives the erasure";
  EXPECT_FALSE(MayRegisterInSus(Coordinator(), erased, kNow));
}

}  // namespace
}  // namespace slussen::core
