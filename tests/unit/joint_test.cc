// Joint referrals (samordnad insats): the rules of Referral.joint at
// creation, who of its agencies may see and do what (joint.h, access.h),
// its events, and how the outcome report counts it (once per participant,
// once per agency).
#include "broker/core/model/joint.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/model/access.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/events.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/reports.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::kJointCoReferrer;
using ::slussen::testing::kJointInformed;
using ::slussen::testing::SampleActivityReferral;
using ::slussen::testing::SampleJointReferral;
using ::slussen::testing::SampleRehabServiceOrder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr char kLead[] = "fk-lfc-halmstad";
constexpr char kOutsider[] = "kommun-laholm-eb";

Caller Agency(const std::string& organisation) {
  return Caller{
      .organisation = organisation, .role = v1::ROLE_AGENCY, .region = "13"};
}

// The samples date their consent from absl::Now(): validate against it.
absl::StatusOr<NewReferral> Validate(const v1::CreateReferralRequest& request) {
  const absl::Time now = absl::Now();
  return ValidateCreateReferral(request, now,
                                absl::ToCivilDay(now, absl::UTCTimeZone()));
}

// The field the refusal names (its BadRequest's one violation).
std::string FieldOf(const absl::Status& status) {
  const auto bad = BadRequestOf(status);
  if (!bad.has_value() || bad->field_violations().empty()) return "";
  return bad->field_violations(0).field();
}

// The sample joint referral as created by kLead: an accepted place.
ReferralRecord JointRecord() {
  absl::StatusOr<NewReferral> input = Validate(SampleJointReferral("13"));
  EXPECT_TRUE(input.ok()) << input.status();
  ReferralRecord record;
  record.region = "13";
  record.id = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C";
  record.version = 3;
  record.assigned_organisation = "halsosam-halmstad";
  record.audit_subject = "subject-1";
  record.referral = input->referral;
  record.referral.set_name("regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C");
  record.referral.set_referring_organisation(kLead);
  record.referral.set_state(v1::REFERRAL_STATE_QUEUED);
  record.referral.mutable_consent()->set_state(v1::CONSENT_STATE_ACTIVE);
  v1::Transition* created = record.referral.add_history();
  created->set_action(v1::ACTION_CREATE);
  created->set_to_state(v1::REFERRAL_STATE_RECEIVED);
  *created->mutable_time() = ToProtoTimestamp(absl::Now());
  return record;
}

// --- Creation ----------------------------------------------------------

TEST(JointReferralValidation, TheSampleIsValidAndKeepsItsParties) {
  absl::StatusOr<NewReferral> input = Validate(SampleJointReferral("13"));
  ASSERT_TRUE(input.ok()) << input.status();
  const v1::JointReferral& joint = input->referral.joint();
  EXPECT_EQ(joint.funding_organisation(), "samordning-halland");
  ASSERT_EQ(joint.parties_size(), 2);
  EXPECT_EQ(joint.parties(0).organisation(), kJointCoReferrer);
  EXPECT_EQ(joint.parties(0).role(), v1::JOINT_PARTY_ROLE_CO_REFERRER);
  EXPECT_EQ(joint.parties(1).role(), v1::JOINT_PARTY_ROLE_INFORMED);
}

TEST(JointReferralValidation, OutputOnlyDataCategoriesAreDropped) {
  v1::CreateReferralRequest request = SampleJointReferral("13");
  request.mutable_referral()
      ->mutable_joint()
      ->mutable_parties(1)
      ->add_data_categories(v1::DATA_CATEGORY_CASE_DETAILS);
  absl::StatusOr<NewReferral> input = Validate(request);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_THAT(input->referral.joint().parties(1).data_categories(), IsEmpty());
}

// Each rule, broken alone, is refused naming its field.
TEST(JointReferralValidation, EachRuleNamesItsField) {
  struct Case {
    std::string what;
    std::string field;
    std::function<void(v1::Referral&)> breaks;
  };
  const std::vector<Case> cases = {
      {"no funder", "referral.joint.funding_organisation",
       [](v1::Referral& r) {
         r.mutable_joint()->clear_funding_organisation();
       }},
      {"a funder that is no organisation id",
       "referral.joint.funding_organisation",
       [](v1::Referral& r) {
         r.mutable_joint()->set_funding_organisation("Samordning Halland");
       }},
      {"no parties", "referral.joint.parties",
       [](v1::Referral& r) { r.mutable_joint()->clear_parties(); }},
      {"five parties", "referral.joint.parties",
       [](v1::Referral& r) {
         for (int i = 0; i < 3; ++i) {
           v1::JointParty* p = r.mutable_joint()->add_parties();
           p->set_organisation(absl::StrCat("region-", i));
           p->set_role(v1::JOINT_PARTY_ROLE_INFORMED);
         }
       }},
      {"one agency twice", "referral.joint.parties[1].organisation",
       [](v1::Referral& r) {
         r.mutable_joint()->mutable_parties(1)->set_organisation(
             kJointCoReferrer);
       }},
      {"a party with no role", "referral.joint.parties[0].role",
       [](v1::Referral& r) {
         r.mutable_joint()->mutable_parties(0)->clear_role();
       }},
      {"a party as lead", "referral.joint.parties[1].role",
       [](v1::Referral& r) {
         r.mutable_joint()->mutable_parties(1)->set_role(
             v1::JOINT_PARTY_ROLE_LEAD);
       }},
      {"a party the consent does not name",
       "referral.joint.parties[1].organisation",
       [](v1::Referral& r) {
         r.mutable_joint()->mutable_parties(1)->set_organisation(kOutsider);
       }},
      {"with protected personal data", "referral.joint",
       [](v1::Referral& r) {
         r.set_protected_personal_data(true);
         r.mutable_participant()->mutable_attributes()->clear_kommun_code();
       }},
  };
  for (const Case& c : cases) {
    v1::CreateReferralRequest request = SampleJointReferral("13");
    c.breaks(*request.mutable_referral());
    const absl::Status status = Validate(request).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.what << ": " << status;
    EXPECT_EQ(FieldOf(status), c.field) << c.what << ": " << status;
  }
}

TEST(JointReferralValidation, OnlyAnActivityReferralIsJoint) {
  v1::CreateReferralRequest request = SampleRehabServiceOrder("13");
  *request.mutable_referral()->mutable_joint() =
      SampleJointReferral("13").referral().joint();
  const absl::Status status = Validate(request).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(FieldOf(status), "referral.joint");
  EXPECT_THAT(status.message(), HasSubstr("only for an activity referral"));
}

TEST(JointReferralValidation, TheLeadIsNoParty) {
  const v1::Referral referral = SampleJointReferral("13").referral();
  EXPECT_TRUE(CheckLeadIsNoParty(referral, kLead, "referral.").ok());
  const absl::Status status =
      CheckLeadIsNoParty(referral, kJointInformed, "referral.");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(FieldOf(status), "referral.joint.parties[1].organisation");
}

// --- Who sees and does what ----------------------------------------------

TEST(JointReferralAccess, RolesOfTheAgencies) {
  const ReferralRecord record = JointRecord();
  EXPECT_EQ(JointRoleOf(record.referral, kLead), v1::JOINT_PARTY_ROLE_LEAD);
  EXPECT_EQ(JointRoleOf(record.referral, kJointCoReferrer),
            v1::JOINT_PARTY_ROLE_CO_REFERRER);
  EXPECT_EQ(JointRoleOf(record.referral, kJointInformed),
            v1::JOINT_PARTY_ROLE_INFORMED);
  EXPECT_EQ(JointRoleOf(record.referral, kOutsider),
            v1::JOINT_PARTY_ROLE_UNSPECIFIED);
  EXPECT_EQ(JointRoleOf(record.referral, ""), v1::JOINT_PARTY_ROLE_UNSPECIFIED);
  EXPECT_THAT(JointOrganisations(record.referral),
              ElementsAre(kJointCoReferrer, kJointInformed));
}

TEST(JointReferralAccess, EveryPartySeesItAnOutsiderDoesNot) {
  ReferralRecord record = JointRecord();
  EXPECT_TRUE(CanSee(Agency(kLead), record));
  EXPECT_TRUE(CanSee(Agency(kJointCoReferrer), record));
  EXPECT_TRUE(CanSee(Agency(kJointInformed), record));
  EXPECT_FALSE(CanSee(Agency(kOutsider), record));
  // Protection set later leaves only the lead knowing of it.
  record.referral.set_protected_personal_data(true);
  EXPECT_TRUE(CanSee(Agency(kLead), record));
  EXPECT_FALSE(CanSee(Agency(kJointCoReferrer), record));
  EXPECT_FALSE(CanSee(Agency(kJointInformed), record));
}

TEST(JointReferralAccess, EachPartySeesWhatTheConsentGivesIt) {
  const ReferralRecord record = JointRecord();
  const absl::Time now = absl::Now();
  const v1::Referral lead =
      ViewFor(Agency(kLead), record, v1::REFERRAL_VIEW_FULL, now);
  EXPECT_TRUE(lead.has_participant());
  EXPECT_FALSE(lead.activity().note().empty());

  // The co-referrer has eligibility and outcome: the participant, not the
  // case details (the note to the provider).
  const v1::Referral co =
      ViewFor(Agency(kJointCoReferrer), record, v1::REFERRAL_VIEW_FULL, now);
  EXPECT_EQ(co.participant().pseudonym(), "hb-2026-0042");
  EXPECT_TRUE(co.activity().note().empty());
  EXPECT_TRUE(MaySeeParticipant(Agency(kJointCoReferrer), record, now));

  // The informed kommun has outcome only: no participant either, though
  // the coordinators' class scope gives outcome to the region's
  // coordinators (a class never covers an agency).
  const v1::Referral informed =
      ViewFor(Agency(kJointInformed), record, v1::REFERRAL_VIEW_FULL, now);
  EXPECT_FALSE(informed.has_participant());
  EXPECT_TRUE(informed.activity().note().empty());
  EXPECT_FALSE(MaySeeParticipant(Agency(kJointInformed), record, now));

  // Every view says what each party is given.
  ASSERT_EQ(informed.joint().parties_size(), 2);
  EXPECT_THAT(informed.joint().parties(0).data_categories(),
              UnorderedElementsAre(v1::DATA_CATEGORY_ELIGIBILITY,
                                   v1::DATA_CATEGORY_OUTCOME));
  EXPECT_THAT(informed.joint().parties(1).data_categories(),
              ElementsAre(v1::DATA_CATEGORY_OUTCOME));
}

TEST(JointReferralAccess, AClassOfPartiesNeverCoversAnAgency) {
  ReferralRecord record = JointRecord();
  // The coordinators' scope gives them eligibility too: still not the
  // informed kommun, which the consent names for outcome only.
  for (v1::ConsentScope& scope :
       *record.referral.mutable_consent()->mutable_scopes()) {
    if (scope.party_class() == v1::PARTY_CLASS_REGION_COORDINATORS) {
      scope.add_data_categories(v1::DATA_CATEGORY_ELIGIBILITY);
    }
  }
  const absl::Time now = absl::Now();
  EXPECT_FALSE(MaySeeParticipant(Agency(kJointInformed), record, now));
  EXPECT_FALSE(
      ViewFor(Agency(kJointInformed), record, v1::REFERRAL_VIEW_FULL, now)
          .has_participant());
  EXPECT_TRUE(MaySeeParticipant(Caller{.organisation = "samordning-halland",
                                       .role = v1::ROLE_COORDINATOR,
                                       .region = "13"},
                                record, now));
}

TEST(JointReferralAccess, AWithdrawnConsentGivesThePartiesNothing) {
  ReferralRecord record = JointRecord();
  record.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  const absl::Time now = absl::Now();
  const v1::Referral co =
      ViewFor(Agency(kJointCoReferrer), record, v1::REFERRAL_VIEW_FULL, now);
  EXPECT_FALSE(co.has_participant());
  for (const v1::JointParty& party : co.joint().parties()) {
    EXPECT_THAT(party.data_categories(), IsEmpty()) << party.organisation();
  }
}

TEST(JointReferralAccess, EachPartyActsWithinItsRole) {
  const ReferralRecord record = JointRecord();
  const absl::Time now = absl::Now();
  const auto allowed = [&](const std::string& organisation) {
    const v1::Referral view =
        ViewFor(Agency(organisation), record, v1::REFERRAL_VIEW_BASIC, now);
    return std::vector<int>(view.allowed_actions().begin(),
                            view.allowed_actions().end());
  };
  // The lead has every agency action on a queued referral; the
  // co-referrer of those only cancelling and recording a withdrawn consent.
  std::vector<int> every, co_referrers;
  for (v1::Action action : AllowedActions(record.referral, v1::ROLE_AGENCY)) {
    every.push_back(action);
    if (action == v1::ACTION_CANCEL || action == v1::ACTION_WITHDRAW_CONSENT) {
      co_referrers.push_back(action);
    }
  }
  EXPECT_THAT(co_referrers,
              ElementsAre(v1::ACTION_CANCEL, v1::ACTION_WITHDRAW_CONSENT));
  EXPECT_EQ(allowed(kLead), every);
  EXPECT_EQ(allowed(kJointCoReferrer), co_referrers);
  EXPECT_THAT(allowed(kJointInformed), IsEmpty());

  EXPECT_TRUE(CheckJointPartyMayTake(Agency(kJointCoReferrer), record.referral,
                                     v1::ACTION_CANCEL)
                  .ok());
  const absl::Status resubmit = CheckJointPartyMayTake(
      Agency(kJointCoReferrer), record.referral, v1::ACTION_RESUBMIT);
  EXPECT_TRUE(absl::IsPermissionDenied(resubmit)) << resubmit;
  EXPECT_THAT(resubmit.message(), HasSubstr("the lead, fk-lfc-halmstad"));
  const absl::Status cancel = CheckJointPartyMayTake(
      Agency(kJointInformed), record.referral, v1::ACTION_CANCEL);
  EXPECT_TRUE(absl::IsPermissionDenied(cancel)) << cancel;
  EXPECT_THAT(cancel.message(), HasSubstr("kept informed"));
  // The lead, and callers of other roles, keep their own rules.
  EXPECT_TRUE(CheckJointPartyMayTake(Agency(kLead), record.referral,
                                     v1::ACTION_RESUBMIT)
                  .ok());
  EXPECT_TRUE(JointPartyMayTake(
      Caller{.organisation = kJointInformed, .role = v1::ROLE_PROVIDER},
      record.referral, v1::ACTION_ACCEPT));
}

TEST(JointReferralAccess, ThePartiesFollowItsEventsUnlessProtected) {
  ReferralRecord record = JointRecord();
  const v1::Event event = ReferralEvent(record, record.referral.history(0));
  EXPECT_THAT(event.joint_organisations(),
              ElementsAre(kJointCoReferrer, kJointInformed));
  EXPECT_TRUE(MaySeeEvent(Agency(kJointInformed), "13", event));
  EXPECT_TRUE(MaySeeEvent(Agency(kLead), "13", event));
  EXPECT_FALSE(MaySeeEvent(Agency(kOutsider), "13", event));

  record.referral.set_protected_personal_data(true);
  const v1::Event protected_event =
      ReferralEvent(record, record.referral.history(0));
  EXPECT_THAT(protected_event.joint_organisations(), IsEmpty());
  EXPECT_FALSE(MaySeeEvent(Agency(kJointInformed), "13", protected_event));
}

// --- Statistics ------------------------------------------------------------

TEST(JointReferralReport, OneParticipantOnceEachAgencyInItsPart) {
  absl::TimeZone zone;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  const auto at = [&](int day) {
    return ToProtoTimestamp(
        absl::FromCivil(absl::CivilHour(2026, 11, day, 10), zone));
  };
  ReferralRecord joint = JointRecord();
  *joint.referral.mutable_create_time() = at(2);
  joint.referral.mutable_history(0)->set_action(v1::ACTION_CREATE);
  *joint.referral.mutable_history(0)->mutable_time() = at(2);
  v1::Transition* start = joint.referral.add_history();
  start->set_action(v1::ACTION_START);
  *start->mutable_time() = at(9);
  // The same participant, referred alone by the co-referrer before.
  ReferralRecord alone = JointRecord();
  alone.id = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1D";
  alone.referral.clear_joint();
  alone.referral.set_referring_organisation(kJointCoReferrer);
  *alone.referral.mutable_create_time() = at(1);
  *alone.referral.add_history() = *start;

  const v1::OutcomeReport report =
      OutcomeReportOf({joint, alone}, absl::CivilDay(2026, 11, 1),
                      absl::CivilDay(2026, 11, 30), "", zone);
  ASSERT_EQ(report.counts_size(), 1);
  EXPECT_EQ(report.counts(0).participants(), 1);
  EXPECT_EQ(report.counts(0).starts(), 2);
  EXPECT_EQ(report.joint_referrals_made(), 1);
  ASSERT_EQ(report.joint_referrals_size(), 3);
  const auto row = [&](int i) {
    const v1::JointReferralCount& r = report.joint_referrals(i);
    return absl::StrCat(r.organisation(), " ", r.led(), "/", r.co_referred(),
                        "/", r.informed(), " started ", r.started());
  };
  EXPECT_EQ(row(0), "af-halmstad 0/1/0 started 1");
  EXPECT_EQ(row(1), "fk-lfc-halmstad 1/0/0 started 1");
  EXPECT_EQ(row(2), "kommun-halmstad-eb 0/0/1 started 1");
  EXPECT_THAT(report.csv(),
              HasSubstr("joint_referral_organisation;led;co_referred;informed;"
                        "started\naf-halmstad;0;1;0;1\n"));
  EXPECT_THAT(report.csv(), HasSubstr("joint_referrals_made\n1\n"));
}

}  // namespace
}  // namespace slussen::core
