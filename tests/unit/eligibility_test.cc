// Eligibility rules: each rule admits and refuses at its edges, a rule about
// an attribute the referral does not give is not met, and the first failing
// rule is put in words for the agency whose referral fits nowhere.
#include "broker/core/model/eligibility.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An adult activity referral from Halmstad who speaks Swedish.
ParticipantFacts Adult() {
  ParticipantFacts facts;
  facts.kind = v1::REFERRAL_KIND_ACTIVITY;
  facts.age_years = 34;
  facts.gender = v1::GENDER_FEMALE;
  facts.kommun_code = "1380";
  facts.benefit_statuses = 1u << v1::BENEFIT_STATUS_SICKNESS_BENEFIT;
  facts.sickness_days_left = 120;
  facts.hours_per_week = 10;
  facts.languages = {"sv"};
  return facts;
}

TEST(EligibilityTest, EmptyRulesAdmitEveryActivityReferral) {
  const EligibilityRule rule = CompileEligibility(v1::EligibilityRules());
  EXPECT_TRUE(IsEligible(rule, Adult()));
  ParticipantFacts nothing_known;
  nothing_known.kind = v1::REFERRAL_KIND_ACTIVITY;
  EXPECT_TRUE(IsEligible(rule, nothing_known));
  EXPECT_THAT(ExplainEligible(rule, Adult()),
              ElementsAre("the offering admits everyone"));
}

TEST(EligibilityTest, EmptyKindsTakeActivityReferralsOnly) {
  const EligibilityRule rule = CompileEligibility(v1::EligibilityRules());
  ParticipantFacts impulse;
  impulse.kind = v1::REFERRAL_KIND_IMPULSE;
  impulse.kommun_code = "1380";
  EXPECT_FALSE(IsEligible(rule, impulse));
  EXPECT_EQ(ExplainIneligible(rule, impulse), "takes no IMPULSE referrals");

  v1::EligibilityRules rules;
  rules.add_referral_kinds(v1::REFERRAL_KIND_IMPULSE);
  const EligibilityRule impulses = CompileEligibility(rules);
  EXPECT_TRUE(IsEligible(impulses, impulse));
  EXPECT_FALSE(IsEligible(impulses, Adult()));
}

TEST(EligibilityTest, AgeBandIsInclusiveAtBothEnds) {
  v1::EligibilityRules rules;
  rules.set_min_age_years(18);
  rules.set_max_age_years(64);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  for (const auto& [age, admitted] : std::vector<std::pair<int, bool>>{
           {17, false}, {18, true}, {40, true}, {64, true}, {65, false}}) {
    facts.age_years = age;
    EXPECT_EQ(IsEligible(rule, facts), admitted) << "age " << age;
  }
  facts.age_years = 70;
  EXPECT_EQ(ExplainIneligible(rule, facts), "age 70 is outside 18..64");
  facts.age_years = 34;
  EXPECT_THAT(ExplainEligible(rule, facts), Contains("age 34 within 18..64"));
}

TEST(EligibilityTest, OneSidedAgeBoundsAreExplained) {
  v1::EligibilityRules rules;
  rules.set_min_age_years(30);
  ParticipantFacts facts = Adult();
  facts.age_years = 29;
  EXPECT_EQ(ExplainIneligible(CompileEligibility(rules), facts),
            "age 29 is outside 30 or more");
  v1::EligibilityRules upper;
  upper.set_max_age_years(29);
  facts.age_years = 30;
  EXPECT_EQ(ExplainIneligible(CompileEligibility(upper), facts),
            "age 30 is outside at most 29");
}

TEST(EligibilityTest, RuleAboutAMissingAttributeIsNotMet) {
  v1::EligibilityRules rules;
  rules.set_min_age_years(18);
  rules.set_max_age_years(64);
  ParticipantFacts facts = Adult();
  facts.age_years.reset();
  const EligibilityRule rule = CompileEligibility(rules);
  EXPECT_FALSE(IsEligible(rule, facts));
  EXPECT_EQ(ExplainIneligible(rule, facts),
            "no age given; the offering admits 18..64");

  v1::EligibilityRules sickness;
  sickness.set_min_sickness_insurance_days_left(1);
  facts = Adult();
  facts.sickness_days_left.reset();
  EXPECT_FALSE(IsEligible(CompileEligibility(sickness), facts));
  EXPECT_THAT(ExplainIneligible(CompileEligibility(sickness), facts),
              HasSubstr("no days left in the sickness insurance given"));

  v1::EligibilityRules hours;
  hours.set_min_hours_per_week(10);
  facts = Adult();
  facts.hours_per_week.reset();
  EXPECT_FALSE(IsEligible(CompileEligibility(hours), facts));
  EXPECT_EQ(ExplainIneligible(CompileEligibility(hours), facts),
            "no hours a week given; it needs 10");
}

TEST(EligibilityTest, GenderRule) {
  v1::EligibilityRules rules;
  rules.add_genders(v1::GENDER_FEMALE);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  EXPECT_TRUE(IsEligible(rule, facts));
  facts.gender = v1::GENDER_MALE;
  EXPECT_FALSE(IsEligible(rule, facts));
  EXPECT_EQ(ExplainIneligible(rule, facts), "admits FEMALE only");
  facts.gender = v1::GENDER_UNSPECIFIED;
  EXPECT_FALSE(IsEligible(rule, facts));
}

TEST(EligibilityTest, KommunRule) {
  v1::EligibilityRules rules;
  rules.add_kommun_codes("1380");
  rules.add_kommun_codes("1381");
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  EXPECT_TRUE(IsEligible(rule, facts));
  EXPECT_THAT(ExplainEligible(rule, facts), Contains("kommun 1380 served"));
  facts.kommun_code = "1382";
  EXPECT_FALSE(IsEligible(rule, facts));
  EXPECT_EQ(ExplainIneligible(rule, facts),
            "kommun 1382 is not served (serves 1380, 1381)");
  facts.kommun_code.clear();
  EXPECT_EQ(ExplainIneligible(rule, facts),
            "no kommun given; the offering serves 1380, 1381");
}

TEST(EligibilityTest, KommunRuleKeepsNoProtectedParticipantOut) {
  v1::EligibilityRules rules;
  rules.add_kommun_codes("1380");
  rules.set_min_age_years(18);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  facts.kommun_code.clear();
  EXPECT_FALSE(IsEligible(rule, facts));  // an unprotected one without kommun
  facts.kommun_withheld = true;
  EXPECT_TRUE(IsEligible(rule, facts));
  EXPECT_THAT(ExplainEligible(rule, facts),
              Contains(HasSubstr("kommun withheld (protected personal data)")));
  // The other rules still hold.
  facts.age_years = 17;
  EXPECT_FALSE(IsEligible(rule, facts));
}

TEST(EligibilityTest, FactsOfAProtectedParticipantWithholdTheKommun) {
  v1::Referral referral = testing::SampleActivityReferral("13").referral();
  referral.mutable_participant()->mutable_attributes()->clear_kommun_code();
  EXPECT_FALSE(FactsOf(referral).kommun_withheld);
  referral.set_protected_personal_data(true);
  EXPECT_TRUE(FactsOf(referral).kommun_withheld);
}

TEST(EligibilityTest, BenefitRuleNeedsOneOfTheStatuses) {
  v1::EligibilityRules rules;
  rules.add_benefit_statuses(v1::BENEFIT_STATUS_ACTIVITY_SUPPORT);
  rules.add_benefit_statuses(v1::BENEFIT_STATUS_FINANCIAL_ASSISTANCE);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  EXPECT_FALSE(IsEligible(rule, facts));
  EXPECT_EQ(ExplainIneligible(rule, facts),
            "needs one of the benefits ACTIVITY_SUPPORT, FINANCIAL_ASSISTANCE");
  facts.benefit_statuses |= 1u << v1::BENEFIT_STATUS_FINANCIAL_ASSISTANCE;
  EXPECT_TRUE(IsEligible(rule, facts));
  EXPECT_THAT(ExplainEligible(rule, facts),
              Contains("has FINANCIAL_ASSISTANCE"));
}

TEST(EligibilityTest, SicknessDaysBandIsInclusive) {
  v1::EligibilityRules rules;
  rules.set_min_sickness_insurance_days_left(1);
  rules.set_max_sickness_insurance_days_left(180);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  for (const auto& [days, admitted] : std::vector<std::pair<int, bool>>{
           {0, false}, {1, true}, {180, true}, {181, false}}) {
    facts.sickness_days_left = days;
    EXPECT_EQ(IsEligible(rule, facts), admitted) << days << " days";
  }
  facts.sickness_days_left = 200;
  EXPECT_EQ(ExplainIneligible(rule, facts),
            "200 days left in the sickness insurance is outside 1..180");
}

TEST(EligibilityTest, HoursAWeekMinimum) {
  v1::EligibilityRules rules;
  rules.set_min_hours_per_week(10);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  facts.hours_per_week = 10;
  EXPECT_TRUE(IsEligible(rule, facts));
  facts.hours_per_week = 9;
  EXPECT_FALSE(IsEligible(rule, facts));
  EXPECT_EQ(ExplainIneligible(rule, facts),
            "9 hours a week is below the 10 it needs");
}

TEST(EligibilityTest, LanguageUnlessAnInterpreterIsAvailable) {
  v1::EligibilityRules rules;
  rules.add_languages("sv");
  rules.add_languages("en");
  ParticipantFacts facts = Adult();
  facts.languages = {"ar"};
  EXPECT_FALSE(IsEligible(CompileEligibility(rules), facts));
  EXPECT_EQ(ExplainIneligible(CompileEligibility(rules), facts),
            "speaks none of en, sv and no interpreter is available");
  facts.languages = {"ar", "en"};
  EXPECT_TRUE(IsEligible(CompileEligibility(rules), facts));

  rules.set_interpreter_available(true);
  facts.languages = {"ar"};
  EXPECT_TRUE(IsEligible(CompileEligibility(rules), facts));
  EXPECT_THAT(ExplainEligible(CompileEligibility(rules), facts),
              Contains("with an interpreter"));
}

TEST(EligibilityTest, ExclusionsRefuse) {
  v1::EligibilityRules rules;
  rules.add_excluded(v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE);
  const EligibilityRule rule = CompileEligibility(rules);
  ParticipantFacts facts = Adult();
  EXPECT_TRUE(IsEligible(rule, facts));
  facts.exclusions = 1u << v1::EXCLUSION_ONGOING_VOCATIONAL_REHABILITATION;
  EXPECT_TRUE(IsEligible(rule, facts));
  facts.exclusions |= 1u << v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE;
  EXPECT_FALSE(IsEligible(rule, facts));
  EXPECT_EQ(ExplainIneligible(rule, facts), "excludes ACTIVE_SUBSTANCE_ABUSE");
}

TEST(EligibilityTest, TheFirstFailingRuleIsExplained) {
  v1::EligibilityRules rules;
  rules.set_min_age_years(18);
  rules.set_max_age_years(29);
  rules.add_kommun_codes("1381");
  ParticipantFacts facts = Adult();  // 34, from 1380: both rules fail
  EXPECT_EQ(ExplainIneligible(CompileEligibility(rules), facts),
            "age 34 is outside 18..29");
  facts.age_years = 25;
  EXPECT_THAT(ExplainIneligible(CompileEligibility(rules), facts),
              HasSubstr("kommun 1380 is not served"));
}

TEST(EligibilityTest, FactsOfAnActivityReferral) {
  v1::Referral referral = testing::SampleActivityReferral("13").referral();
  v1::ParticipantAttributes* a =
      referral.mutable_participant()->mutable_attributes();
  a->set_age_years(41);
  a->set_gender(v1::GENDER_MALE);
  a->set_kommun_code("1382");
  a->clear_benefit_statuses();
  a->add_benefit_statuses(v1::BENEFIT_STATUS_ACTIVITY_SUPPORT);
  a->set_sickness_insurance_days_left(12);
  a->set_hours_per_week(4);
  a->clear_languages();
  a->add_languages("so");
  a->clear_exclusions();
  a->add_exclusions(v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE);

  const ParticipantFacts facts = FactsOf(referral);
  EXPECT_EQ(facts.kind, v1::REFERRAL_KIND_ACTIVITY);
  EXPECT_EQ(facts.age_years, 41);
  EXPECT_EQ(facts.gender, v1::GENDER_MALE);
  EXPECT_EQ(facts.kommun_code, "1382");
  EXPECT_EQ(facts.benefit_statuses, 1u << v1::BENEFIT_STATUS_ACTIVITY_SUPPORT);
  EXPECT_EQ(facts.sickness_days_left, 12);
  EXPECT_EQ(facts.hours_per_week, 4);
  EXPECT_THAT(facts.languages, ElementsAre("so"));
  EXPECT_EQ(facts.exclusions, 1u << v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE);

  a->clear_age_years();
  a->clear_sickness_insurance_days_left();
  EXPECT_FALSE(FactsOf(referral).age_years.has_value());
  EXPECT_FALSE(FactsOf(referral).sickness_days_left.has_value());
}

TEST(EligibilityTest, FactsOfAnImpulseAreItsKindAndKommun) {
  const v1::Referral impulse = testing::SampleImpulse("13").referral();
  const ParticipantFacts facts = FactsOf(impulse);
  EXPECT_EQ(facts.kind, v1::REFERRAL_KIND_IMPULSE);
  EXPECT_EQ(facts.kommun_code, impulse.impulse().kommun_code());
  EXPECT_FALSE(facts.kommun_code.empty());
  EXPECT_FALSE(facts.age_years.has_value());
  EXPECT_TRUE(facts.languages.empty());
}

}  // namespace
}  // namespace slussen::core
