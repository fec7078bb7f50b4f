// Deadline rules and clocks as pure functions: the seed rules, their
// validation and choice, when a clock is due and warns, what a referral's
// transitions do to its clocks, the steps of firing, and pauses. Instants
// are written in Stockholm local time; the calendar itself is tested in
// calendar_test.cc. The keeper that stores clocks is in
// deadline_keeper_test.cc.
#include "broker/core/model/deadlines.h"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {

// Found by GoogleTest through argument-dependent lookup: a failure prints
// the step, not bytes.
void PrintTo(const Firing& firing, std::ostream* os) {
  *os << slussen::v1::EventType_Name(firing.event) << " -> "
      << firing.clock.ShortDebugString();
}

namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::SampleActivityReferral;
using ::slussen::testing::SampleImpulse;
using ::slussen::testing::SampleJointMapping;
using ::slussen::testing::SampleOfEveryKind;
using ::slussen::testing::SampleRehabServiceOrder;
using ::slussen::testing::SampleTeamHandover;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFkUnit[] = "fk-lfc-halmstad";
constexpr char kOtherFkUnit[] = "fk-lfc-varberg";

const v1::ClockRule* FindRule(const v1::DeadlineRuleSet& set,
                              v1::ClockKind kind) {
  for (const v1::ClockRule& rule : set.rules()) {
    if (rule.kind() == kind) return &rule;
  }
  return nullptr;
}

const v1::DeadlineRuleSet* FindSet(const std::vector<v1::DeadlineRuleSet>& sets,
                                   v1::ReferralKind kind) {
  for (const v1::DeadlineRuleSet& set : sets) {
    if (set.referral_kind() == kind) return &set;
  }
  return nullptr;
}

std::vector<int> Actions(std::vector<v1::Action> actions) {
  return std::vector<int>(actions.begin(), actions.end());
}

class DeadlinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SwedishCalendar> calendar = SwedishCalendar::Create();
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_.emplace(*calendar);
  }

  const SwedishCalendar& calendar() const { return *calendar_; }

  // An instant in Stockholm local time.
  absl::Time Local(int y, int mo, int d, int h = 0, int mi = 0) const {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                           calendar().time_zone());
  }

  // A stored referral of the sample's kind in `state`.
  static v1::Referral Referral(const v1::CreateReferralRequest& sample,
                               v1::ReferralState state) {
    v1::Referral referral = sample.referral();
    referral.set_name("regions/13/referrals/01KDEADLINE");
    referral.set_state(state);
    return referral;
  }

  static v1::Transition Transition(v1::Action action, v1::ReferralState from,
                                   v1::ReferralState to, absl::Time time) {
    v1::Transition transition;
    transition.set_action(action);
    transition.set_from_state(from);
    transition.set_to_state(to);
    *transition.mutable_time() = ToProtoTimestamp(time);
    return transition;
  }

  // What `action` (from -> to, at `time`, with the referral then assigned
  // to `assigned`) does to the `open` clocks of a referral like `sample`.
  ClockUpdates After(const v1::CreateReferralRequest& sample, v1::Action action,
                     v1::ReferralState from, v1::ReferralState to,
                     absl::Time time, const std::vector<v1::Clock>& open = {},
                     const std::string& assigned = "") const {
    const v1::Referral changed = Referral(sample, to);
    return ClocksAfter(RuleSetFor(rule_sets_, changed), changed, assigned,
                       Transition(action, from, to, time), open, calendar());
  }

  // The clocks a referral like `sample` starts when it arrives at `time`.
  std::vector<v1::Clock> Arrive(const v1::CreateReferralRequest& sample,
                                absl::Time time) const {
    return After(sample, v1::ACTION_CREATE, v1::REFERRAL_STATE_UNSPECIFIED,
                 v1::REFERRAL_STATE_RECEIVED, time)
        .started;
  }

  // The example: an impulse arriving on Wednesday 2026-12-23.
  v1::Clock ChristmasImpulseClock() const {
    const std::vector<v1::Clock> started =
        Arrive(SampleImpulse(), Local(2026, 12, 23, 10));
    EXPECT_EQ(started.size(), 1u);
    return started.empty() ? v1::Clock() : started[0];
  }

  static absl::Time Due(const v1::Clock& clock) {
    return ToAbslTime(clock.due_time());
  }
  static absl::Time Warn(const v1::Clock& clock) {
    return ToAbslTime(clock.warn_time());
  }

  const std::vector<v1::DeadlineRuleSet> rule_sets_ = DefaultDeadlineRuleSets();

 private:
  std::optional<SwedishCalendar> calendar_;
};

// ---------------------------------------------------------------------------
// The seed rules.

TEST_F(DeadlinesTest, SeedRulesAreValidAndVersionOneOfOneSetPerKind) {
  ASSERT_EQ(rule_sets_.size(), 5u);
  for (const v1::CreateReferralRequest& sample : SampleOfEveryKind()) {
    const v1::Referral referral = Referral(sample, v1::REFERRAL_STATE_RECEIVED);
    const v1::DeadlineRuleSet* set = RuleSetFor(rule_sets_, referral);
    ASSERT_NE(set, nullptr) << referral.DebugString();
    EXPECT_TRUE(ValidateDeadlineRuleSet(*set).ok())
        << ValidateDeadlineRuleSet(*set);
    EXPECT_THAT(set->name(), HasSubstr("/versions/1"));
    EXPECT_TRUE(set->framework_agreement().empty());
  }
  EXPECT_EQ(FindSet(rule_sets_, v1::REFERRAL_KIND_IMPULSE)->name(),
            "deadlineRuleSets/impulse/versions/1");
}

TEST_F(DeadlinesTest, ImpulseIsCalledBackWithinThreeWorkingDaysOfArrival) {
  const v1::ClockRule* rule =
      FindRule(*FindSet(rule_sets_, v1::REFERRAL_KIND_IMPULSE),
               v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->start_on(), v1::ACTION_CREATE);
  EXPECT_THAT(rule->stop_on(), ElementsAre(v1::ACTION_RECORD_CONTACT));
  EXPECT_EQ(rule->length(), 3);
  EXPECT_EQ(rule->unit(), v1::DURATION_UNIT_WORKING_DAYS);
  EXPECT_EQ(rule->awaited_role(), v1::ROLE_PROVIDER);
}

TEST_F(DeadlinesTest, JointMappingMeetsWithinTenWorkingDaysAndEndsInFourWeeks) {
  const v1::DeadlineRuleSet& set =
      *FindSet(rule_sets_, v1::REFERRAL_KIND_JOINT_MAPPING);
  const v1::ClockRule* meeting =
      FindRule(set, v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING);
  ASSERT_NE(meeting, nullptr);
  EXPECT_EQ(meeting->start_on(), v1::ACTION_CREATE);
  EXPECT_THAT(meeting->stop_on(), ElementsAre(v1::ACTION_RECORD_CONTACT));
  EXPECT_EQ(meeting->length(), 10);
  EXPECT_EQ(meeting->unit(), v1::DURATION_UNIT_WORKING_DAYS);

  const v1::ClockRule* completion =
      FindRule(set, v1::CLOCK_KIND_JOINT_MAPPING_COMPLETION);
  ASSERT_NE(completion, nullptr);
  EXPECT_EQ(completion->start_on(), v1::ACTION_RECORD_CONTACT);
  EXPECT_EQ(completion->length(), 4);
  EXPECT_EQ(completion->unit(), v1::DURATION_UNIT_WEEKS);
  EXPECT_THAT(std::vector<int>(completion->stop_on().begin(),
                               completion->stop_on().end()),
              ::testing::Contains(v1::ACTION_COMPLETE));
}

TEST_F(DeadlinesTest, TeamHandoverIsContactedWithinFiveCalendarDays) {
  const v1::ClockRule* rule =
      FindRule(*FindSet(rule_sets_, v1::REFERRAL_KIND_TEAM_HANDOVER),
               v1::CLOCK_KIND_TEAM_FIRST_CONTACT);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->start_on(), v1::ACTION_CREATE);
  EXPECT_THAT(rule->stop_on(), ElementsAre(v1::ACTION_RECORD_CONTACT));
  EXPECT_EQ(rule->length(), 5);
  EXPECT_EQ(rule->unit(), v1::DURATION_UNIT_CALENDAR_DAYS);
}

TEST_F(DeadlinesTest, EveryKindGivesTheProviderTheHoldToAnswerAnOffer) {
  for (const v1::DeadlineRuleSet& set : rule_sets_) {
    SCOPED_TRACE(set.name());
    const v1::ClockRule* rule = FindRule(set, v1::CLOCK_KIND_OFFER_ANSWER);
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->start_on(), v1::ACTION_OFFER);
    EXPECT_EQ(std::vector<int>(rule->stop_on().begin(), rule->stop_on().end()),
              Actions({v1::ACTION_ACCEPT, v1::ACTION_DECLINE}));
    EXPECT_EQ(rule->length(), 72);
    EXPECT_EQ(rule->unit(), v1::DURATION_UNIT_HOURS);
    EXPECT_EQ(rule->awaited_role(), v1::ROLE_PROVIDER);
  }
}

// ---------------------------------------------------------------------------
// Validation: every refusal is INVALID_ARGUMENT naming the field.

struct BadRuleSet {
  std::string what;
  void (*breaks)(v1::DeadlineRuleSet*);
  std::string field;
};

TEST_F(DeadlinesTest, ValidationRefusesABrokenRuleSetNamingTheField) {
  const std::vector<BadRuleSet> cases = {
      {"no kind",
       [](v1::DeadlineRuleSet* s) {
         s->set_referral_kind(v1::REFERRAL_KIND_UNSPECIFIED);
       },
       "rule_set.referral_kind"},
      {"no rules", [](v1::DeadlineRuleSet* s) { s->clear_rules(); },
       "rule_set.rules"},
      {"rule without kind",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->set_kind(v1::CLOCK_KIND_UNSPECIFIED);
       },
       "rule_set.rules[0].kind"},
      {"clock kind with its start twice",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(1)->set_kind(s->rules(0).kind());
         s->mutable_rules(1)->set_start_on(s->rules(0).start_on());
       },
       "rule_set.rules[1].kind"},
      {"no start action",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->set_start_on(v1::ACTION_UNSPECIFIED);
       },
       "rule_set.rules[0].start_on"},
      {"no stop action",
       [](v1::DeadlineRuleSet* s) { s->mutable_rules(0)->clear_stop_on(); },
       "rule_set.rules[0].stop_on"},
      {"stop action twice",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->add_stop_on(s->rules(0).stop_on(0));
       },
       "rule_set.rules[0].stop_on[1]"},
      {"unknown stop action",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(1)->mutable_stop_on()->Add(999);
       },
       "rule_set.rules[1].stop_on[2]"},
      {"length 0",
       [](v1::DeadlineRuleSet* s) { s->mutable_rules(0)->set_length(0); },
       "rule_set.rules[0].length must be 1..1000, got 0"},
      {"length 1001",
       [](v1::DeadlineRuleSet* s) { s->mutable_rules(1)->set_length(1001); },
       "rule_set.rules[1].length must be 1..1000, got 1001"},
      {"no unit",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->set_unit(v1::DURATION_UNIT_UNSPECIFIED);
       },
       "rule_set.rules[0].unit"},
      {"negative warning",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->set_warn_working_days_before(-1);
       },
       "rule_set.rules[0].warn_working_days_before"},
      {"unknown role",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->set_awaited_role(static_cast<v1::Role>(77));
       },
       "rule_set.rules[0].awaited_role"},
      {"framework agreement not a name",
       [](v1::DeadlineRuleSet* s) {
         s->set_framework_agreement(std::string(5000, 'x'));
       },
       "rule_set.framework_agreement must be "
       "\"frameworkAgreements/{agreement}\""},
      {"more than 20 rules",
       [](v1::DeadlineRuleSet* s) {
         while (s->rules_size() < 21) *s->add_rules() = s->rules(0);
       },
       "rule_set.rules must hold at most 20 rules, got 21"},
      {"unknown start state",
       [](v1::DeadlineRuleSet* s) {
         s->mutable_rules(0)->set_start_in_state(
             static_cast<v1::ReferralState>(77));
       },
       "rule_set.rules[0].start_in_state"},
  };
  const v1::DeadlineRuleSet valid =
      *FindSet(rule_sets_, v1::REFERRAL_KIND_IMPULSE);
  ASSERT_EQ(valid.rules_size(), 3);
  ASSERT_TRUE(ValidateDeadlineRuleSet(valid).ok());
  for (const BadRuleSet& bad : cases) {
    SCOPED_TRACE(bad.what);
    v1::DeadlineRuleSet set = valid;
    bad.breaks(&set);
    const absl::Status status = ValidateDeadlineRuleSet(set);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr(bad.field));
  }
}

TEST_F(DeadlinesTest, ValidationAcceptsTheLengthBounds) {
  v1::DeadlineRuleSet set = *FindSet(rule_sets_, v1::REFERRAL_KIND_IMPULSE);
  set.mutable_rules(0)->set_length(1);
  set.mutable_rules(1)->set_length(1000);
  set.mutable_rules(0)->set_warn_working_days_before(2);
  EXPECT_TRUE(ValidateDeadlineRuleSet(set).ok())
      << ValidateDeadlineRuleSet(set);
}

// ---------------------------------------------------------------------------
// Which rule set applies.

TEST_F(DeadlinesTest, RuleSetForPicksTheKindsSet) {
  for (const v1::CreateReferralRequest& sample : SampleOfEveryKind()) {
    const v1::Referral referral = Referral(sample, v1::REFERRAL_STATE_RECEIVED);
    const v1::DeadlineRuleSet* set = RuleSetFor(rule_sets_, referral);
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->referral_kind(), KindOf(referral));
  }
  EXPECT_EQ(
      RuleSetFor({}, Referral(SampleImpulse(), v1::REFERRAL_STATE_RECEIVED)),
      nullptr);
}

TEST_F(DeadlinesTest, AFrameworkAgreementsSetOverridesTheKindsSet) {
  const v1::Referral avrop =
      Referral(SampleRehabServiceOrder(), v1::REFERRAL_STATE_RECEIVED);
  const std::string agreement =
      avrop.rehab_service_order().framework_agreement();
  ASSERT_FALSE(agreement.empty());

  std::vector<v1::DeadlineRuleSet> sets = rule_sets_;
  v1::DeadlineRuleSet other =
      *FindSet(sets, v1::REFERRAL_KIND_REHAB_SERVICE_ORDER);
  other.set_name("deadlineRuleSets/other-agreement/versions/1");
  other.set_framework_agreement(agreement + "-other");
  v1::DeadlineRuleSet own = other;
  own.set_name("deadlineRuleSets/own-agreement/versions/3");
  own.set_framework_agreement(agreement);
  own.mutable_rules(0)->set_length(48);
  // Listed after the kind's set, and after another agreement's.
  sets.push_back(other);
  sets.push_back(own);

  const v1::DeadlineRuleSet* set = RuleSetFor(sets, avrop);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->name(), "deadlineRuleSets/own-agreement/versions/3");

  // Another agreement's avrop gets the kind's set, not a foreign override.
  v1::Referral foreign = avrop;
  foreign.mutable_rehab_service_order()->set_framework_agreement(agreement +
                                                                 "-third");
  set = RuleSetFor(sets, foreign);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->name(), "deadlineRuleSets/rehab-service-order/versions/1");

  // Only the override exists: an avrop under another agreement gets none.
  EXPECT_EQ(RuleSetFor({own}, foreign), nullptr);
  EXPECT_EQ(RuleSetFor({own}, avrop)->name(), own.name());
}

// ---------------------------------------------------------------------------
// The example, step by step.

TEST_F(DeadlinesTest, ChristmasImpulseIsDueAtTheEndOfWednesdayTheThirtieth) {
  const v1::Clock clock = ChristmasImpulseClock();
  EXPECT_EQ(clock.kind(), v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  EXPECT_EQ(clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(clock.referral(), "regions/13/referrals/01KDEADLINE");
  EXPECT_EQ(clock.rule_set(), "deadlineRuleSets/impulse/versions/1");
  EXPECT_EQ(clock.awaited_role(), v1::ROLE_PROVIDER);
  EXPECT_EQ(clock.awaited_organisation(), "");  // not yet assigned
  EXPECT_THAT(clock.stop_on(), ElementsAre(v1::ACTION_RECORD_CONTACT));
  EXPECT_EQ(ToAbslTime(clock.start_time()), Local(2026, 12, 23, 10));
  // Julafton, juldagen, annandag jul (a Saturday) and Sunday do not count:
  // Monday 28th, Tuesday 29th, Wednesday 30th.
  EXPECT_EQ(Due(clock), Local(2026, 12, 31));
  EXPECT_EQ(Due(clock), calendar().EndOfDay(absl::CivilDay(2026, 12, 30)));
  // Warned on Tuesday the 29th, the working day before the due day.
  EXPECT_EQ(Warn(clock), Local(2026, 12, 29));
  EXPECT_EQ(calendar().LocalDay(Warn(clock)), absl::CivilDay(2026, 12, 29));
  EXPECT_FALSE(clock.warned());
  EXPECT_EQ(clock.escalation_level(), 0);
  EXPECT_TRUE(IsOpen(clock));
}

TEST_F(DeadlinesTest, ChristmasImpulseWarnsThenBreachesThenEscalatesOnce) {
  // The coordinator is told at the end of the first working day after the
  // due day: nyårsafton and nyårsdagen (a Friday) are not working days, nor
  // the weekend, so at the end of Monday 2027-01-04.
  ASSERT_FALSE(SwedishCalendar::IsWorkingDay(absl::CivilDay(2026, 12, 31)));
  ASSERT_FALSE(SwedishCalendar::IsWorkingDay(absl::CivilDay(2027, 1, 1)));
  ASSERT_FALSE(SwedishCalendar::IsWorkingDay(absl::CivilDay(2027, 1, 2)));
  ASSERT_TRUE(SwedishCalendar::IsWorkingDay(absl::CivilDay(2027, 1, 4)));
  const absl::Time escalation = Local(2027, 1, 5);

  v1::Clock clock = ChristmasImpulseClock();
  EXPECT_EQ(Fire(clock, Local(2026, 12, 23, 11), calendar()), std::nullopt);
  EXPECT_EQ(Fire(clock, Local(2026, 12, 28, 23, 59), calendar()), std::nullopt);
  EXPECT_EQ(NextFireTime(clock, calendar()), Local(2026, 12, 29));

  std::optional<Firing> step = Fire(clock, Local(2026, 12, 29), calendar());
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->event, v1::EVENT_TYPE_CLOCK_WARNING);
  EXPECT_TRUE(step->clock.warned());
  EXPECT_EQ(step->clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(step->clock.escalation_level(), 0);
  clock = step->clock;
  // Once only.
  EXPECT_EQ(Fire(clock, Local(2026, 12, 30, 23, 59), calendar()), std::nullopt);
  EXPECT_EQ(NextFireTime(clock, calendar()), Local(2026, 12, 31));

  EXPECT_EQ(Fire(clock, Local(2026, 12, 31) - absl::Seconds(1), calendar()),
            std::nullopt);
  step = Fire(clock, Local(2026, 12, 31), calendar());
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->event, v1::EVENT_TYPE_CLOCK_BREACHED);
  EXPECT_EQ(step->clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_EQ(step->clock.escalation_level(), 1);
  EXPECT_TRUE(IsOpen(step->clock));
  clock = step->clock;
  EXPECT_EQ(NextFireTime(clock, calendar()), escalation);

  EXPECT_EQ(Fire(clock, escalation - absl::Seconds(1), calendar()),
            std::nullopt);
  step = Fire(clock, escalation, calendar());
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->event, v1::EVENT_TYPE_CLOCK_ESCALATED);
  EXPECT_EQ(step->clock.escalation_level(), 2);
  EXPECT_EQ(step->clock.state(), v1::CLOCK_STATE_BREACHED);
  clock = step->clock;

  // As far as it goes.
  EXPECT_EQ(Fire(clock, Local(2027, 6, 1), calendar()), std::nullopt);
  EXPECT_EQ(NextFireTime(clock, calendar()), std::nullopt);
  EXPECT_TRUE(IsOpen(clock));
}

TEST_F(DeadlinesTest, AClockOverdueByWeeksFiresOneStepPerCallInOrder) {
  v1::Clock clock = ChristmasImpulseClock();
  const absl::Time late = Local(2027, 2, 1);
  std::vector<v1::EventType> events;
  for (int i = 0; i < 10; ++i) {
    const std::optional<Firing> step = Fire(clock, late, calendar());
    if (!step.has_value()) break;
    events.push_back(step->event);
    clock = step->clock;
  }
  EXPECT_THAT(events, ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING,
                                  v1::EVENT_TYPE_CLOCK_BREACHED,
                                  v1::EVENT_TYPE_CLOCK_ESCALATED));
}

// ---------------------------------------------------------------------------
// What transitions do to clocks.

TEST_F(DeadlinesTest, ContactBeforeDueMeetsTheClock) {
  const v1::Clock clock = ChristmasImpulseClock();
  const ClockUpdates updates = After(
      SampleImpulse(), v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
      v1::REFERRAL_STATE_ACCEPTED, Local(2026, 12, 30, 16), {clock}, kFkUnit);
  ASSERT_EQ(updates.changed.size(), 1u);
  ASSERT_EQ(updates.changed_events.size(), 1u);
  EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(updates.changed_events[0], v1::EVENT_TYPE_CLOCK_MET);
  EXPECT_EQ(ToAbslTime(updates.changed[0].stop_time()),
            Local(2026, 12, 30, 16));
  EXPECT_FALSE(IsOpen(updates.changed[0]));
  EXPECT_EQ(NextFireTime(updates.changed[0], calendar()), std::nullopt);
  EXPECT_EQ(Fire(updates.changed[0], Local(2027, 2, 1), calendar()),
            std::nullopt);
  EXPECT_TRUE(updates.started.empty());
}

TEST_F(DeadlinesTest, ContactAfterDueMeetsTheClockLate) {
  v1::Clock clock = ChristmasImpulseClock();
  // Whether or not the breach was fired yet.
  for (bool fired : {false, true}) {
    SCOPED_TRACE(fired ? "breach fired" : "breach not fired");
    if (fired) {
      clock = Fire(clock, Local(2026, 12, 31), calendar())->clock;
      clock = Fire(clock, Local(2026, 12, 31), calendar())->clock;
      ASSERT_EQ(clock.state(), v1::CLOCK_STATE_BREACHED);
    }
    const ClockUpdates updates = After(
        SampleImpulse(), v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
        v1::REFERRAL_STATE_ACCEPTED, Local(2026, 12, 31, 9), {clock}, kFkUnit);
    ASSERT_EQ(updates.changed.size(), 1u);
    EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_MET_LATE);
    EXPECT_EQ(updates.changed_events[0], v1::EVENT_TYPE_CLOCK_MET);
    EXPECT_FALSE(IsOpen(updates.changed[0]));
  }
}

TEST_F(DeadlinesTest, TheDueInstantIsAlreadyLate) {
  // "End of day" is an exclusive bound (calendar.h): only an answer strictly
  // before it is on time, and Fire breaches at it.
  const v1::Clock clock = ChristmasImpulseClock();
  const ClockUpdates at_due = After(
      SampleImpulse(), v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
      v1::REFERRAL_STATE_ACCEPTED, Due(clock), {clock}, kFkUnit);
  ASSERT_EQ(at_due.changed.size(), 1u);
  EXPECT_EQ(at_due.changed[0].state(), v1::CLOCK_STATE_MET_LATE);
  const ClockUpdates just_before =
      After(SampleImpulse(), v1::ACTION_RECORD_CONTACT,
            v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_ACCEPTED,
            Due(clock) - absl::Nanoseconds(1), {clock}, kFkUnit);
  ASSERT_EQ(just_before.changed.size(), 1u);
  EXPECT_EQ(just_before.changed[0].state(), v1::CLOCK_STATE_MET);

  // Ended at the due instant, after Fire breached it there: still breached.
  v1::Clock breached = Fire(clock, Due(clock), calendar())->clock;
  breached = Fire(breached, Due(clock), calendar())->clock;
  ASSERT_EQ(breached.state(), v1::CLOCK_STATE_BREACHED);
  for (const v1::Clock& open : {clock, breached}) {
    const ClockUpdates ended =
        After(SampleImpulse(), v1::ACTION_CANCEL, v1::REFERRAL_STATE_RECEIVED,
              v1::REFERRAL_STATE_WITHDRAWN, Due(clock), {open});
    ASSERT_EQ(ended.changed.size(), 1u);
    EXPECT_EQ(ended.changed[0].state(), v1::CLOCK_STATE_BREACHED);
  }
}

TEST_F(DeadlinesTest, AnActionOutsideStopOnLeavesTheClockAlone) {
  const v1::Clock clock = ChristmasImpulseClock();
  const ClockUpdates updates =
      After(SampleImpulse(), v1::ACTION_QUEUE, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_QUEUED, Local(2026, 12, 28, 9), {clock});
  EXPECT_TRUE(updates.changed.empty());
  EXPECT_TRUE(updates.started.empty());
}

TEST_F(DeadlinesTest, ClosedClocksAreNotTouchedAgain) {
  v1::Clock met = ChristmasImpulseClock();
  met.set_state(v1::CLOCK_STATE_MET);
  *met.mutable_stop_time() = ToProtoTimestamp(Local(2026, 12, 28, 9));
  const ClockUpdates updates =
      After(SampleImpulse(), v1::ACTION_CANCEL, v1::REFERRAL_STATE_ACCEPTED,
            v1::REFERRAL_STATE_WITHDRAWN, Local(2026, 12, 29, 9), {met});
  EXPECT_TRUE(updates.changed.empty());
}

TEST_F(DeadlinesTest, AReferralEndingBeforeDueCancelsItsOpenClocks) {
  const v1::Clock clock = ChristmasImpulseClock();
  const ClockUpdates updates =
      After(SampleImpulse(), v1::ACTION_CANCEL, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_WITHDRAWN, Local(2026, 12, 28, 9), {clock});
  ASSERT_EQ(updates.changed.size(), 1u);
  EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_CANCELLED);
  EXPECT_EQ(updates.changed_events[0], v1::EVENT_TYPE_UNSPECIFIED);
  EXPECT_EQ(ToAbslTime(updates.changed[0].stop_time()), Local(2026, 12, 28, 9));
  EXPECT_FALSE(IsOpen(updates.changed[0]));
  EXPECT_EQ(NextFireTime(updates.changed[0], calendar()), std::nullopt);
}

TEST_F(DeadlinesTest, AReferralEndingAfterDueLeavesItsClockBreachedAndClosed) {
  v1::Clock clock = ChristmasImpulseClock();
  for (bool fired : {false, true}) {
    SCOPED_TRACE(fired ? "breach fired" : "breach not fired");
    if (fired) {
      clock = Fire(clock, Local(2027, 1, 2), calendar())->clock;
      clock = Fire(clock, Local(2027, 1, 2), calendar())->clock;
      ASSERT_EQ(clock.state(), v1::CLOCK_STATE_BREACHED);
    }
    const ClockUpdates updates =
        After(SampleImpulse(), v1::ACTION_REJECT, v1::REFERRAL_STATE_RECEIVED,
              v1::REFERRAL_STATE_REJECTED, Local(2027, 1, 2), {clock});
    ASSERT_EQ(updates.changed.size(), 1u);
    const v1::Clock& closed = updates.changed[0];
    EXPECT_EQ(closed.state(), v1::CLOCK_STATE_BREACHED);
    EXPECT_TRUE(closed.has_stop_time());
    EXPECT_FALSE(IsOpen(closed));
    EXPECT_EQ(Fire(closed, Local(2027, 2, 1), calendar()), std::nullopt);
    EXPECT_EQ(NextFireTime(closed, calendar()), std::nullopt);
  }
}

TEST_F(DeadlinesTest, AnOfferStartsTheAnswerClockAwaitingTheOfferedProvider) {
  const ClockUpdates updates =
      After(SampleImpulse(), v1::ACTION_OFFER, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_OFFERED, Local(2026, 12, 23, 10), {}, kFkUnit);
  ASSERT_EQ(updates.started.size(), 1u);
  const v1::Clock& offer = updates.started[0];
  EXPECT_EQ(offer.kind(), v1::CLOCK_KIND_OFFER_ANSWER);
  EXPECT_EQ(offer.awaited_organisation(), kFkUnit);
  // 72 hours, not working days; warned three quarters of the way.
  EXPECT_EQ(Due(offer), Local(2026, 12, 26, 10));
  EXPECT_EQ(Warn(offer), Local(2026, 12, 25, 16));
  EXPECT_EQ(std::vector<int>(offer.stop_on().begin(), offer.stop_on().end()),
            Actions({v1::ACTION_ACCEPT, v1::ACTION_DECLINE}));
}

TEST_F(DeadlinesTest, AcceptingOrDecliningMeetsTheOfferAnswerClock) {
  const v1::Clock offer =
      After(SampleImpulse(), v1::ACTION_OFFER, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_OFFERED, Local(2026, 12, 23, 10), {}, kFkUnit)
          .started.at(0);
  const ClockUpdates accepted = After(
      SampleImpulse(), v1::ACTION_ACCEPT, v1::REFERRAL_STATE_OFFERED,
      v1::REFERRAL_STATE_ACCEPTED, Local(2026, 12, 23, 15), {offer}, kFkUnit);
  ASSERT_EQ(accepted.changed.size(), 1u);
  EXPECT_EQ(accepted.changed[0].state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(accepted.changed_events[0], v1::EVENT_TYPE_CLOCK_MET);

  const ClockUpdates declined =
      After(SampleImpulse(), v1::ACTION_DECLINE, v1::REFERRAL_STATE_OFFERED,
            v1::REFERRAL_STATE_QUEUED, Local(2026, 12, 26, 11), {offer});
  ASSERT_EQ(declined.changed.size(), 1u);
  EXPECT_EQ(declined.changed[0].state(), v1::CLOCK_STATE_MET_LATE);
  EXPECT_EQ(declined.changed_events[0], v1::EVENT_TYPE_CLOCK_MET);
}

// A decline that returns the referral to the agency (could not contact,
// participant declined) starts the agency's five-working-day clock to
// resubmit or cancel; one that sends it back to the queue does not.
TEST_F(DeadlinesTest, AReturnedReferralAwaitsTheAgencyFiveWorkingDays) {
  for (const v1::DeadlineRuleSet& set : rule_sets_) {
    SCOPED_TRACE(set.name());
    const v1::ClockRule* rule = FindRule(set, v1::CLOCK_KIND_RETURNED_ANSWER);
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->start_on(), v1::ACTION_DECLINE);
    EXPECT_EQ(rule->start_in_state(), v1::REFERRAL_STATE_RETURNED);
    EXPECT_EQ(rule->awaited_role(), v1::ROLE_AGENCY);
  }
  // Friday 2026-12-18: Monday 21st to Wednesday 23rd, then (julafton,
  // juldagen and the weekend not counting) Monday 28th and Tuesday 29th.
  const ClockUpdates returned = After(
      SampleActivityReferral(), v1::ACTION_DECLINE, v1::REFERRAL_STATE_OFFERED,
      v1::REFERRAL_STATE_RETURNED, Local(2026, 12, 18, 10));
  ASSERT_EQ(returned.started.size(), 1u);
  const v1::Clock& clock = returned.started[0];
  EXPECT_EQ(clock.kind(), v1::CLOCK_KIND_RETURNED_ANSWER);
  EXPECT_EQ(clock.awaited_role(), v1::ROLE_AGENCY);
  EXPECT_EQ(Due(clock), calendar().EndOfDay(absl::CivilDay(2026, 12, 29)));

  const ClockUpdates queued = After(
      SampleActivityReferral(), v1::ACTION_DECLINE, v1::REFERRAL_STATE_OFFERED,
      v1::REFERRAL_STATE_QUEUED, Local(2026, 12, 18, 10));
  EXPECT_TRUE(queued.started.empty());

  const ClockUpdates resubmitted =
      After(SampleActivityReferral(), v1::ACTION_RESUBMIT,
            v1::REFERRAL_STATE_RETURNED, v1::REFERRAL_STATE_QUEUED,
            Local(2026, 12, 21, 10), {clock});
  ASSERT_EQ(resubmitted.changed.size(), 1u);
  EXPECT_EQ(resubmitted.changed[0].state(), v1::CLOCK_STATE_MET);
}

TEST_F(DeadlinesTest, LeavingOfferedOtherwiseClosesTheOfferAnswerClock) {
  const v1::Clock call_back = ChristmasImpulseClock();
  const v1::Clock offer =
      After(SampleImpulse(), v1::ACTION_OFFER, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_OFFERED, Local(2026, 12, 23, 10), {call_back},
            kFkUnit)
          .started.at(0);
  // The hold expires: back to the queue, nobody assigned.
  const ClockUpdates expired = After(
      SampleImpulse(), v1::ACTION_EXPIRE_OFFER, v1::REFERRAL_STATE_OFFERED,
      v1::REFERRAL_STATE_QUEUED, Local(2026, 12, 24, 10), {call_back, offer});
  ASSERT_EQ(expired.changed.size(), 1u);
  EXPECT_EQ(expired.changed[0].kind(), v1::CLOCK_KIND_OFFER_ANSWER);
  EXPECT_FALSE(IsOpen(expired.changed[0]));
  EXPECT_TRUE(expired.changed[0].has_stop_time());
  EXPECT_EQ(expired.changed_events[0], v1::EVENT_TYPE_UNSPECIFIED);

  // Other actions in OFFERED leave it open.
  const ClockUpdates stays =
      After(SampleImpulse(), v1::ACTION_RECORD_ATTENDANCE_DEVIATION,
            v1::REFERRAL_STATE_OFFERED, v1::REFERRAL_STATE_OFFERED,
            Local(2026, 12, 23, 12), {offer}, kFkUnit);
  EXPECT_TRUE(stays.changed.empty());
}

TEST_F(DeadlinesTest, TheAwaitedOrganisationFollowsTheAssignment) {
  const v1::Clock call_back = ChristmasImpulseClock();
  ASSERT_EQ(call_back.awaited_organisation(), "");
  const ClockUpdates offered =
      After(SampleImpulse(), v1::ACTION_OFFER, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_OFFERED, Local(2026, 12, 23, 11), {call_back},
            kFkUnit);
  ASSERT_EQ(offered.changed.size(), 1u);
  EXPECT_EQ(offered.changed[0].kind(), v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  EXPECT_EQ(offered.changed[0].awaited_organisation(), kFkUnit);
  EXPECT_EQ(offered.changed[0].state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(Due(offered.changed[0]), Due(call_back));
  EXPECT_EQ(offered.changed_events[0], v1::EVENT_TYPE_UNSPECIFIED);

  // The same organisation again changes nothing; another one moves it.
  const v1::Clock assigned = offered.changed[0];
  EXPECT_TRUE(After(SampleImpulse(), v1::ACTION_START,
                    v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_STARTED,
                    Local(2026, 12, 28, 9), {assigned}, kFkUnit)
                  .changed.empty());
  const ClockUpdates moved =
      After(SampleImpulse(), v1::ACTION_MOVE_PLACE, v1::REFERRAL_STATE_STARTED,
            v1::REFERRAL_STATE_STARTED, Local(2026, 12, 28, 10), {assigned},
            kOtherFkUnit);
  ASSERT_EQ(moved.changed.size(), 1u);
  EXPECT_EQ(moved.changed[0].awaited_organisation(), kOtherFkUnit);
}

// ---------------------------------------------------------------------------
// Arrivals on days that do not count, and the other units.

TEST_F(DeadlinesTest, AnImpulseArrivingOnASaturdayCountsFromMonday) {
  // Saturday 2027-01-09: Monday 11th, Tuesday 12th, Wednesday 13th.
  const std::vector<v1::Clock> started =
      Arrive(SampleImpulse(), Local(2027, 1, 9, 14));
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(Due(started[0]), Local(2027, 1, 14));
  EXPECT_EQ(Warn(started[0]), Local(2027, 1, 12));
}

TEST_F(DeadlinesTest, AnImpulseArrivingOnLangfredagenSkipsEasterAndDst) {
  // Långfredagen 2027-03-26; påskdagen (the 28th, also the switch to
  // summer time) and annandag påsk do not count: Tuesday 30th, Wednesday
  // 31st, Thursday 1 April.
  ASSERT_EQ(SwedishCalendar::HolidayName(absl::CivilDay(2027, 3, 26)),
            "långfredagen");
  const std::vector<v1::Clock> started =
      Arrive(SampleImpulse(), Local(2027, 3, 26, 8));
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(Due(started[0]), Local(2027, 4, 2));
  EXPECT_EQ(Warn(started[0]), Local(2027, 3, 31));
}

TEST_F(DeadlinesTest, JointMappingFirstMeetingIsTenWorkingDaysAfterArrival) {
  // From Wednesday 2026-12-23: 28, 29, 30 Dec, 4, 5, 7, 8, 11, 12, 13 Jan
  // (nyårsafton, nyårsdagen and trettondedag jul do not count).
  const std::vector<v1::Clock> started =
      Arrive(SampleJointMapping(), Local(2026, 12, 23, 10));
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].kind(), v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING);
  EXPECT_EQ(Due(started[0]), Local(2027, 1, 14));
}

TEST_F(DeadlinesTest, TheFirstMeetingStartsTheFourWeekCompletionClock) {
  const v1::Clock meeting =
      Arrive(SampleJointMapping(), Local(2026, 12, 23, 10)).at(0);
  const ClockUpdates updates =
      After(SampleJointMapping(), v1::ACTION_RECORD_CONTACT,
            v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_ACCEPTED,
            Local(2027, 1, 11, 10), {meeting}, "af-halmstad");
  ASSERT_EQ(updates.changed.size(), 1u);
  EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_MET);
  ASSERT_EQ(updates.started.size(), 1u);
  const v1::Clock& completion = updates.started[0];
  EXPECT_EQ(completion.kind(), v1::CLOCK_KIND_JOINT_MAPPING_COMPLETION);
  EXPECT_EQ(completion.awaited_organisation(), "af-halmstad");
  // 28 calendar days after Monday 11 January: the end of Monday 8 February.
  EXPECT_EQ(Due(completion), Local(2027, 2, 9));

  const ClockUpdates completed =
      After(SampleJointMapping(), v1::ACTION_COMPLETE,
            v1::REFERRAL_STATE_STARTED, v1::REFERRAL_STATE_COMPLETED,
            Local(2027, 2, 1, 10), {completion}, "af-halmstad");
  ASSERT_EQ(completed.changed.size(), 1u);
  EXPECT_EQ(completed.changed[0].state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(completed.changed_events[0], v1::EVENT_TYPE_CLOCK_MET);
}

TEST_F(DeadlinesTest, TeamFirstContactCountsCalendarDaysWeekendsIncluded) {
  // Saturday 2027-01-09 + 5 days: the end of Thursday 14th.
  const std::vector<v1::Clock> started =
      Arrive(SampleTeamHandover(), Local(2027, 1, 9, 14));
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].kind(), v1::CLOCK_KIND_TEAM_FIRST_CONTACT);
  EXPECT_EQ(Due(started[0]), Local(2027, 1, 15));
  // At the start of the working day before the due day.
  EXPECT_EQ(Warn(started[0]), Local(2027, 1, 13));
}

TEST_F(DeadlinesTest, WithoutARuleSetNoClockStarts) {
  const v1::Referral changed =
      Referral(SampleImpulse(), v1::REFERRAL_STATE_RECEIVED);
  const ClockUpdates updates = ClocksAfter(
      nullptr, changed, "",
      Transition(v1::ACTION_CREATE, v1::REFERRAL_STATE_UNSPECIFIED,
                 v1::REFERRAL_STATE_RECEIVED, Local(2026, 12, 23, 10)),
      {}, calendar());
  EXPECT_TRUE(updates.started.empty());
  EXPECT_TRUE(updates.changed.empty());
}

// ---------------------------------------------------------------------------
// Pauses.

v1::Actor Halmstad() {
  v1::Actor actor;
  actor.set_organisation("kommun-halmstad-eb");
  actor.set_role(v1::ROLE_AGENCY);
  return actor;
}

TEST_F(DeadlinesTest, APausedClockDoesNotFireAndResumesTwoDaysLater) {
  const v1::Clock clock = ChristmasImpulseClock();
  const absl::StatusOr<v1::Clock> paused =
      PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "sjuk", Halmstad(),
                 Local(2026, 12, 28, 9));
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::CLOCK_STATE_PAUSED);
  ASSERT_EQ(paused->pauses_size(), 1);
  EXPECT_EQ(paused->pauses(0).cause(), v1::DELAY_CAUSE_PARTICIPANT);
  EXPECT_EQ(paused->pauses(0).note(), "sjuk");
  EXPECT_EQ(paused->pauses(0).actor().organisation(), "kommun-halmstad-eb");
  EXPECT_FALSE(paused->pauses(0).has_end_time());
  EXPECT_TRUE(IsOpen(*paused));
  EXPECT_EQ(Fire(*paused, Local(2026, 12, 29), calendar()), std::nullopt);
  EXPECT_EQ(Fire(*paused, Local(2027, 2, 1), calendar()), std::nullopt);
  EXPECT_EQ(NextFireTime(*paused, calendar()), std::nullopt);

  const absl::StatusOr<v1::Clock> resumed =
      ResumeClock(*paused, Local(2026, 12, 30, 9));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(Due(*resumed), Due(clock) + absl::Hours(48));
  EXPECT_EQ(Warn(*resumed), Warn(clock) + absl::Hours(48));
  EXPECT_EQ(ToAbslTime(resumed->pauses(0).end_time()), Local(2026, 12, 30, 9));
  EXPECT_EQ(NextFireTime(*resumed, calendar()), Warn(clock) + absl::Hours(48));
  // The old warning time passed while paused; now it is two days later.
  EXPECT_EQ(Fire(*resumed, Local(2026, 12, 30, 10), calendar()), std::nullopt);
  const std::optional<Firing> warning =
      Fire(*resumed, Warn(clock) + absl::Hours(48), calendar());
  ASSERT_TRUE(warning.has_value());
  EXPECT_EQ(warning->event, v1::EVENT_TYPE_CLOCK_WARNING);
  // Not breached at the old due time.
  EXPECT_EQ(Fire(warning->clock, Due(clock), calendar()), std::nullopt);
}

TEST_F(DeadlinesTest, ABreachedClockResumesBreached) {
  v1::Clock clock = ChristmasImpulseClock();
  clock = Fire(clock, Local(2026, 12, 31), calendar())->clock;
  clock = Fire(clock, Local(2026, 12, 31), calendar())->clock;
  ASSERT_EQ(clock.state(), v1::CLOCK_STATE_BREACHED);
  const absl::StatusOr<v1::Clock> paused =
      PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "", Halmstad(),
                 Local(2026, 12, 31, 9));
  ASSERT_TRUE(paused.ok()) << paused.status();
  const absl::StatusOr<v1::Clock> resumed =
      ResumeClock(*paused, Local(2027, 1, 1, 9));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_EQ(resumed->escalation_level(), 1);
}

TEST_F(DeadlinesTest, PauseAndResumeRefuseTheWrongState) {
  const v1::Clock clock = ChristmasImpulseClock();
  EXPECT_EQ(PauseClock(clock, v1::DELAY_CAUSE_UNSPECIFIED, "", Halmstad(),
                       Local(2026, 12, 28))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResumeClock(clock, Local(2026, 12, 28)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const v1::Clock paused = *PauseClock(clock, v1::DELAY_CAUSE_PROVIDER, "",
                                       Halmstad(), Local(2026, 12, 28));
  EXPECT_EQ(PauseClock(paused, v1::DELAY_CAUSE_PROVIDER, "", Halmstad(),
                       Local(2026, 12, 28, 1))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  v1::Clock met = clock;
  met.set_state(v1::CLOCK_STATE_MET);
  *met.mutable_stop_time() = ToProtoTimestamp(Local(2026, 12, 28));
  const absl::Status refused = PauseClock(met, v1::DELAY_CAUSE_PARTICIPANT, "",
                                          Halmstad(), Local(2026, 12, 28, 1))
                                   .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("CLOCK_STATE_MET"));
}

TEST_F(DeadlinesTest, PausedForSeparatesCausesAndCountsAnOpenPauseToNow) {
  v1::Clock clock = ChristmasImpulseClock();
  clock = *PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "", Halmstad(),
                      Local(2026, 12, 28, 9));
  clock = *ResumeClock(clock, Local(2026, 12, 30, 9));
  clock = *PauseClock(clock, v1::DELAY_CAUSE_PROVIDER, "", Halmstad(),
                      Local(2026, 12, 30, 10));
  clock = *ResumeClock(clock, Local(2026, 12, 30, 12));
  clock = *PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "", Halmstad(),
                      Local(2026, 12, 30, 13));
  const absl::Time now = Local(2026, 12, 30, 14);
  EXPECT_EQ(PausedFor(clock, v1::DELAY_CAUSE_PARTICIPANT, now),
            absl::Hours(49));
  EXPECT_EQ(PausedFor(clock, v1::DELAY_CAUSE_PROVIDER, now), absl::Hours(2));
  EXPECT_EQ(PausedFor(clock, v1::DELAY_CAUSE_AGENCY, now),
            absl::ZeroDuration());
}

TEST_F(DeadlinesTest, MeetingAPausedClockEndsThePause) {
  v1::Clock clock = ChristmasImpulseClock();
  clock = *PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "", Halmstad(),
                      Local(2026, 12, 28, 9));
  const ClockUpdates updates = After(
      SampleImpulse(), v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
      v1::REFERRAL_STATE_ACCEPTED, Local(2026, 12, 29, 9), {clock}, kFkUnit);
  ASSERT_EQ(updates.changed.size(), 1u);
  EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(ToAbslTime(updates.changed[0].pauses(0).end_time()),
            Local(2026, 12, 29, 9));
  EXPECT_EQ(PausedFor(updates.changed[0], v1::DELAY_CAUSE_PARTICIPANT,
                      Local(2027, 1, 1)),
            absl::Hours(24));
}

TEST_F(DeadlinesTest, MeetingAPausedClockCountsThePauseAsResumed) {
  // Paused from Monday 28th 09:00 (the participant ill) and met on the 31st
  // at 10:00, after the due time as first set but before it moved by the
  // pause: on time, and the clock reads as if resumed then.
  v1::Clock clock = ChristmasImpulseClock();
  clock = *PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "", Halmstad(),
                      Local(2026, 12, 28, 9));
  const absl::Time met_at = Local(2026, 12, 31, 10);
  const ClockUpdates updates = After(
      SampleImpulse(), v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
      v1::REFERRAL_STATE_ACCEPTED, met_at, {clock}, kFkUnit);
  ASSERT_EQ(updates.changed.size(), 1u);
  EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(Due(updates.changed[0]),
            Local(2026, 12, 31) + (met_at - Local(2026, 12, 28, 9)));
}

TEST_F(DeadlinesTest, ClosingAPausedClockEndsThePause) {
  v1::Clock clock = ChristmasImpulseClock();
  clock = *PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "", Halmstad(),
                      Local(2026, 12, 28, 9));
  const ClockUpdates updates =
      After(SampleImpulse(), v1::ACTION_CANCEL, v1::REFERRAL_STATE_RECEIVED,
            v1::REFERRAL_STATE_WITHDRAWN, Local(2026, 12, 29, 9), {clock});
  ASSERT_EQ(updates.changed.size(), 1u);
  EXPECT_EQ(updates.changed[0].state(), v1::CLOCK_STATE_CANCELLED);
  EXPECT_FALSE(IsOpen(updates.changed[0]));
  EXPECT_TRUE(updates.changed[0].pauses(0).has_end_time());
}

TEST_F(DeadlinesTest, IsOpenForRunningPausedAndUnclosedBreachedOnly) {
  v1::Clock clock;
  for (v1::ClockState state : {v1::CLOCK_STATE_RUNNING, v1::CLOCK_STATE_PAUSED,
                               v1::CLOCK_STATE_BREACHED}) {
    clock.set_state(state);
    EXPECT_TRUE(IsOpen(clock)) << v1::ClockState_Name(state);
  }
  for (v1::ClockState state :
       {v1::CLOCK_STATE_UNSPECIFIED, v1::CLOCK_STATE_MET,
        v1::CLOCK_STATE_MET_LATE, v1::CLOCK_STATE_CANCELLED}) {
    clock.set_state(state);
    EXPECT_FALSE(IsOpen(clock)) << v1::ClockState_Name(state);
  }
  clock.set_state(v1::CLOCK_STATE_BREACHED);
  *clock.mutable_stop_time() = ToProtoTimestamp(absl::UnixEpoch());
  EXPECT_FALSE(IsOpen(clock));
}

// ---------------------------------------------------------------------------
// Plans: the steps a store fires by itself (PlanSteps).

// Follows `clock`'s plan as a store does (the clock's bytes followed by each
// step's fields) and checks every step against Fire's: same instant (its
// next firing), same event, same clock after. The steps checked.
int ExpectPlanIsFiresSteps(const v1::Clock& clock,
                           const SwedishCalendar& calendar) {
  const std::vector<PlannedStep> plan = PlanSteps(clock, calendar);
  v1::Clock fired = clock;
  std::string stored = clock.SerializeAsString();
  for (const PlannedStep& step : plan) {
    EXPECT_EQ(NextFireTime(fired, calendar), step.at) << clock.name();
    // Nothing before the step's instant.
    EXPECT_EQ(Fire(fired, step.at - absl::Milliseconds(1), calendar),
              std::nullopt);
    const std::optional<Firing> firing = Fire(fired, step.at, calendar);
    if (!firing.has_value()) {
      ADD_FAILURE() << "no step of " << clock.name() << " at " << step.at;
      return 0;
    }
    EXPECT_EQ(firing->event, step.type);
    stored += step.set.SerializeAsString();
    v1::Clock merged;
    EXPECT_TRUE(merged.ParseFromString(stored));
    EXPECT_EQ(merged.SerializeAsString(), firing->clock.SerializeAsString())
        << "after " << v1::EventType_Name(step.type) << " of "
        << clock.DebugString();
    fired = firing->clock;
  }
  // The plan ends where firing does.
  EXPECT_EQ(NextFireTime(fired, calendar), std::nullopt) << clock.DebugString();
  return static_cast<int>(plan.size());
}

TEST_F(DeadlinesTest, APlanIsTheStepsFireTakesForEveryKindOverTwoYears) {
  // Arrivals every 7 hours over 2026 and 2027: weekends, every holiday and
  // eve, both daylight-saving changes, each kind's clocks, and an offer's.
  int clocks = 0;
  int steps = 0;
  for (absl::Time arrival = Local(2026, 1, 1); arrival < Local(2028, 1, 1);
       arrival += absl::Hours(7)) {
    for (const v1::CreateReferralRequest& sample :
         {SampleImpulse(), SampleJointMapping(), SampleTeamHandover(),
          SampleActivityReferral(), SampleRehabServiceOrder()}) {
      std::vector<v1::Clock> started = Arrive(sample, arrival);
      for (const v1::Clock& offered :
           After(sample, v1::ACTION_OFFER, v1::REFERRAL_STATE_QUEUED,
                 v1::REFERRAL_STATE_OFFERED, arrival, {}, "ReDO")
               .started) {
        started.push_back(offered);
      }
      for (const v1::Clock& clock : started) {
        const int planned = ExpectPlanIsFiresSteps(clock, calendar());
        // Warning, breach, escalation to the coordinator.
        EXPECT_EQ(planned, 3) << clock.DebugString();
        steps += planned;
        ++clocks;
      }
    }
  }
  EXPECT_GT(clocks, 4000);
  EXPECT_EQ(steps, 3 * clocks);
}

TEST_F(DeadlinesTest, APlanStartsFromTheClocksStep) {
  const v1::Clock clock = ChristmasImpulseClock();
  const std::optional<Firing> warned =
      Fire(clock, Local(2026, 12, 29), calendar());
  ASSERT_TRUE(warned.has_value());
  const std::optional<Firing> breached =
      Fire(warned->clock, Local(2026, 12, 31), calendar());
  ASSERT_TRUE(breached.has_value());
  EXPECT_EQ(ExpectPlanIsFiresSteps(warned->clock, calendar()), 2);
  EXPECT_EQ(ExpectPlanIsFiresSteps(breached->clock, calendar()), 1);
  const std::vector<PlannedStep> plan = PlanSteps(breached->clock, calendar());
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].type, v1::EVENT_TYPE_CLOCK_ESCALATED);
  EXPECT_EQ(plan[0].at, Local(2027, 1, 5));
  EXPECT_EQ(plan[0].set.escalation_level(), 2);
}

TEST_F(DeadlinesTest, APausedOrClosedClockHasNoPlan) {
  const v1::Clock clock = ChristmasImpulseClock();
  const absl::StatusOr<v1::Clock> paused =
      PauseClock(clock, v1::DELAY_CAUSE_PARTICIPANT, "sjuk", Halmstad(),
                 Local(2026, 12, 28, 9));
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_THAT(PlanSteps(*paused, calendar()), ::testing::IsEmpty());
  v1::Clock met = clock;
  met.set_state(v1::CLOCK_STATE_MET);
  *met.mutable_stop_time() = ToProtoTimestamp(Local(2026, 12, 28, 9));
  EXPECT_THAT(PlanSteps(met, calendar()), ::testing::IsEmpty());
  // Resumed: the plan runs again, two days later.
  const absl::StatusOr<v1::Clock> resumed =
      ResumeClock(*paused, Local(2026, 12, 30, 9));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(ExpectPlanIsFiresSteps(*resumed, calendar()), 3);
}

// How far a clock has come is the last step Fire took it through, kept
// while it is paused.
TEST(ClockStageTest, IsTheLastStepTakenAndKeptWhilePaused) {
  v1::Clock clock;
  clock.set_state(v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(StageOf(clock), ClockStage::kOpen);
  clock.set_warned(true);
  EXPECT_EQ(StageOf(clock), ClockStage::kWarned);
  clock.set_state(v1::CLOCK_STATE_BREACHED);
  clock.set_escalation_level(1);
  EXPECT_EQ(StageOf(clock), ClockStage::kBreached);
  clock.set_state(v1::CLOCK_STATE_PAUSED);
  EXPECT_EQ(StageOf(clock), ClockStage::kBreached);
  clock.set_escalation_level(2);
  EXPECT_EQ(StageOf(clock), ClockStage::kEscalated);

  EXPECT_EQ(ClockStageName(ClockStage::kOpen), "open");
  EXPECT_EQ(ClockStageName(ClockStage::kEscalated), "escalated");
}

}  // namespace
}  // namespace slussen::core
