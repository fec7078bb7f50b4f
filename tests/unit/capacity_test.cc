// Capacity planning and cohort decisions (broker/core/model/capacity.h): what a
// provider may publish given what its offering has taken, the names new
// cohorts get, what a cohort decision does, and which cohorts must be
// decided. Pure functions: no store, no clock but the `now` passed in.
#include "broker/core/model/capacity.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kOffering[] = "providers/halsosam-halmstad/offerings/kom-igang";
constexpr char kOtherOffering[] =
    "providers/halsosam-halmstad/offerings/fortsattning";

// "Today" for every test: a Monday in Stockholm.
const absl::CivilDay kToday(2026, 11, 23);

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

// 00:30 local time on kToday, still the day before in UTC: "today" must be
// taken in the zone passed in.
absl::Time Now() {
  return absl::FromCivil(
      absl::CivilSecond(kToday.year(), kToday.month(), kToday.day(), 0, 30, 0),
      Stockholm());
}

std::string CohortName(const std::string& id,
                       const std::string& offering = kOffering) {
  return absl::StrCat(offering, "/cohorts/", id);
}

std::string Id(const std::string& cohort_name) {
  return cohort_name.substr(cohort_name.rfind('/') + 1);
}

// A cohort as stored (with its counters) or as published (name may be
// empty, counters 0).
v1::Cohort Cohort(const std::string& id, absl::CivilDay start, int min_size,
                  int max_size,
                  v1::CohortState state = v1::COHORT_STATE_UNSPECIFIED,
                  int enrolled = 0, int held = 0) {
  v1::Cohort cohort;
  if (!id.empty()) cohort.set_name(CohortName(id));
  *cohort.mutable_start_date() = ToProtoDate(start);
  cohort.set_min_size(min_size);
  cohort.set_max_size(max_size);
  cohort.set_state(state);
  cohort.set_enrolled(enrolled);
  cohort.set_held(held);
  return cohort;
}

v1::Offering Offering() {
  v1::Offering offering;
  offering.set_name(kOffering);
  offering.set_region("13");
  return offering;
}

v1::Offering WithPlaces(int total, int occupied = 0, int held = 0) {
  v1::Offering offering = Offering();
  v1::PlacesCapacity& places = *offering.mutable_capacity()->mutable_places();
  places.set_total(total);
  places.set_occupied(occupied);
  places.set_held(held);
  offering.mutable_capacity()->set_model(v1::CAPACITY_MODEL_PLACES);
  return offering;
}

v1::Offering WithCaseload(int max_open, int open = 0, int held = 0) {
  v1::Offering offering = Offering();
  v1::CaseloadCapacity& caseload =
      *offering.mutable_capacity()->mutable_caseload();
  caseload.set_max_open_cases(max_open);
  caseload.set_open_cases(open);
  caseload.set_held(held);
  offering.mutable_capacity()->set_model(v1::CAPACITY_MODEL_CASELOAD);
  return offering;
}

v1::Offering WithCohorts(std::vector<v1::Cohort> cohorts) {
  v1::Offering offering = Offering();
  v1::CohortCapacity& capacity =
      *offering.mutable_capacity()->mutable_cohorts();
  for (v1::Cohort& cohort : cohorts) *capacity.add_cohorts() = cohort;
  offering.mutable_capacity()->set_model(v1::CAPACITY_MODEL_COHORTS);
  return offering;
}

v1::Capacity Places(int total) {
  v1::Capacity capacity;
  capacity.mutable_places()->set_total(total);
  return capacity;
}

v1::Capacity Caseload(int max_open) {
  v1::Capacity capacity;
  capacity.mutable_caseload()->set_max_open_cases(max_open);
  return capacity;
}

v1::Capacity Cohorts(std::vector<v1::Cohort> cohorts) {
  v1::Capacity capacity;
  v1::CohortCapacity& out = *capacity.mutable_cohorts();
  for (v1::Cohort& cohort : cohorts) *out.add_cohorts() = cohort;
  return capacity;
}

absl::StatusOr<CapacityPlan> Plan(const v1::Offering& current,
                                  const v1::Capacity& requested) {
  return PlanCapacity(current, requested, Now(), Stockholm());
}

// The status's code is `code` and its message holds every one of `parts`.
void ExpectStatus(const absl::Status& status, absl::StatusCode code,
                  std::vector<std::string> parts) {
  EXPECT_EQ(status.code(), code) << status;
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(part));
  }
}

// --- PlanCapacity: places and caseload --------------------------------------

TEST(PlanCapacityTest, PlacesPlanOneWholeOfferingUnitAndStampTheTime) {
  const absl::StatusOr<CapacityPlan> plan = Plan(Offering(), Places(20));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair(kWholeOfferingUnit, 20)));
  EXPECT_THAT(plan->removed_units, IsEmpty());
  EXPECT_FALSE(plan->closes_units);
  const v1::Capacity& capacity = plan->offering.capacity();
  EXPECT_EQ(capacity.model(), v1::CAPACITY_MODEL_PLACES);
  EXPECT_EQ(capacity.places().total(), 20);
  EXPECT_EQ(ToAbslTime(capacity.update_time()), Now());
  EXPECT_FALSE(capacity.stale());
  EXPECT_EQ(plan->offering.name(), kOffering);
}

TEST(PlanCapacityTest, CountersAndStaleInTheRequestAreNotStored) {
  v1::Capacity requested = Places(20);
  requested.mutable_places()->set_occupied(7);
  requested.mutable_places()->set_held(3);
  requested.set_stale(true);
  const absl::StatusOr<CapacityPlan> plan =
      Plan(WithPlaces(10, 2, 1), requested);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->offering.capacity().places().occupied(), 0);
  EXPECT_EQ(plan->offering.capacity().places().held(), 0);
  EXPECT_FALSE(plan->offering.capacity().stale());
}

TEST(PlanCapacityTest, PlacesMayShrinkToWhatIsTakenButNotBelow) {
  // 3 occupied + 2 held = 5 taken.
  const v1::Offering current = WithPlaces(10, 3, 2);
  const absl::StatusOr<CapacityPlan> down_to_taken = Plan(current, Places(5));
  ASSERT_TRUE(down_to_taken.ok()) << down_to_taken.status();
  EXPECT_THAT(down_to_taken->units, ElementsAre(Pair("-", 5)));

  ExpectStatus(Plan(current, Places(4)).status(),
               absl::StatusCode::kFailedPrecondition,
               {"capacity.places.total 4", "5 taken"});
}

TEST(PlanCapacityTest, PlacesOutOfRangeNameTheFieldAndValue) {
  ExpectStatus(Plan(Offering(), Places(-1)).status(),
               absl::StatusCode::kInvalidArgument,
               {"capacity.places.total", "0..10000", "got -1"});
  ExpectStatus(Plan(Offering(), Places(10001)).status(),
               absl::StatusCode::kInvalidArgument,
               {"capacity.places.total", "got 10001"});
  EXPECT_TRUE(Plan(Offering(), Places(0)).ok());
  EXPECT_TRUE(Plan(Offering(), Places(10000)).ok());
}

TEST(PlanCapacityTest, CaseloadPlansOneUnitOfMaxOpenCases) {
  const absl::StatusOr<CapacityPlan> plan = Plan(Offering(), Caseload(30));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair(kWholeOfferingUnit, 30)));
  EXPECT_EQ(plan->offering.capacity().model(), v1::CAPACITY_MODEL_CASELOAD);
  EXPECT_EQ(plan->offering.capacity().caseload().max_open_cases(), 30);
}

TEST(PlanCapacityTest, CaseloadMayNotFallBelowOpenAndHeldCases) {
  // 6 open + 1 held = 7 taken.
  const v1::Offering current = WithCaseload(10, 6, 1);
  EXPECT_TRUE(Plan(current, Caseload(7)).ok());
  ExpectStatus(Plan(current, Caseload(6)).status(),
               absl::StatusCode::kFailedPrecondition,
               {"capacity.caseload.max_open_cases 6", "7 taken"});
}

TEST(PlanCapacityTest, CaseloadOutOfRangeNamesTheField) {
  ExpectStatus(Plan(Offering(), Caseload(-3)).status(),
               absl::StatusCode::kInvalidArgument,
               {"capacity.caseload.max_open_cases", "got -3"});
}

TEST(PlanCapacityTest, NoModelIsAMissingField) {
  ExpectStatus(Plan(Offering(), v1::Capacity()).status(),
               absl::StatusCode::kInvalidArgument,
               {"capacity is required", "places, cohorts, caseload"});
}

// --- PlanCapacity: changing the model ----------------------------------------

TEST(PlanCapacityTest, ModelMayNotChangeWhilePlacesAreTaken) {
  ExpectStatus(Plan(WithPlaces(10, 0, 1), Caseload(10)).status(),
               absl::StatusCode::kFailedPrecondition,
               {kOffering, "1 places taken", "capacity model cannot change"});
  const v1::Offering cohorts = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 2, 0)});
  ExpectStatus(Plan(cohorts, Places(10)).status(),
               absl::StatusCode::kFailedPrecondition,
               {kOffering, "2 places taken"});
}

TEST(PlanCapacityTest, PlacesToCohortsRemovesTheWholeOfferingUnit) {
  const absl::StatusOr<CapacityPlan> plan =
      Plan(WithPlaces(10), Cohorts({Cohort("host", kToday + 20, 8, 12)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair("host", 12)));
  EXPECT_THAT(plan->removed_units, ElementsAre("-"));
}

TEST(PlanCapacityTest, CohortsToPlacesRemovesEveryCohortUnit) {
  const v1::Offering current = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN),
       Cohort("vinter", kToday + 70, 8, 12, v1::COHORT_STATE_OPEN)});
  const absl::StatusOr<CapacityPlan> plan = Plan(current, Places(10));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair("-", 10)));
  EXPECT_THAT(plan->removed_units, UnorderedElementsAre("host", "vinter"));
  EXPECT_FALSE(plan->offering.capacity().has_cohorts());
}

// Places and caseload share the unit "-": a change between them resizes
// it. Removing it as well would have the store delete the capacity it has
// just written (it sets units, then deletes removed units).
TEST(PlanCapacityTest, PlacesToCaseloadKeepsTheWholeOfferingUnit) {
  const absl::StatusOr<CapacityPlan> plan = Plan(WithPlaces(10), Caseload(25));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair("-", 25)));
  EXPECT_THAT(plan->removed_units, Not(Contains("-")));
}

// --- PlanCapacity: cohorts -------------------------------------------------

TEST(PlanCapacityTest, CohortsPlanAUnitPerCohortOpenAtMaxSize) {
  const absl::StatusOr<CapacityPlan> plan =
      Plan(Offering(), Cohorts({Cohort("host", kToday + 21, 8, 12),
                                Cohort("vinter", kToday + 70, 6, 10)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair("host", 12), Pair("vinter", 10)));
  EXPECT_THAT(plan->removed_units, IsEmpty());
  const v1::Capacity& capacity = plan->offering.capacity();
  EXPECT_EQ(capacity.model(), v1::CAPACITY_MODEL_COHORTS);
  ASSERT_EQ(capacity.cohorts().cohorts_size(), 2);
  for (const v1::Cohort& cohort : capacity.cohorts().cohorts()) {
    EXPECT_EQ(cohort.state(), v1::COHORT_STATE_OPEN) << cohort.name();
    EXPECT_EQ(cohort.decision(), v1::COHORT_DECISION_UNSPECIFIED);
  }
  EXPECT_EQ(capacity.cohorts().cohorts(1).name(), CohortName("vinter"));
}

TEST(PlanCapacityTest, NewCohortsWithoutNamesAreNamedByStartDate) {
  const absl::CivilDay day(2027, 1, 12);
  const absl::CivilDay other(2027, 3, 2);
  const absl::StatusOr<CapacityPlan> plan = Plan(
      Offering(), Cohorts({Cohort("", day, 8, 12), Cohort("", day, 8, 12),
                           Cohort("", other, 8, 12), Cohort("", day, 8, 12)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const auto& cohorts = plan->offering.capacity().cohorts().cohorts();
  ASSERT_EQ(cohorts.size(), 4);
  EXPECT_EQ(cohorts[0].name(), CohortName("c-20270112"));
  EXPECT_EQ(cohorts[1].name(), CohortName("c-20270112-2"));
  EXPECT_EQ(cohorts[2].name(), CohortName("c-20270302"));
  EXPECT_EQ(cohorts[3].name(), CohortName("c-20270112-3"));
  EXPECT_THAT(plan->units,
              ElementsAre(Pair("c-20270112", 12), Pair("c-20270112-2", 12),
                          Pair("c-20270302", 12), Pair("c-20270112-3", 12)));
}

TEST(PlanCapacityTest, NewCohortNamesAvoidNamesGivenLaterInTheRequest) {
  const absl::CivilDay day(2027, 1, 12);
  const absl::StatusOr<CapacityPlan> plan =
      Plan(Offering(),
           Cohorts({Cohort("", day, 8, 12), Cohort("c-20270112", day, 8, 12)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const auto& cohorts = plan->offering.capacity().cohorts().cohorts();
  EXPECT_EQ(cohorts[0].name(), CohortName("c-20270112-2"));
  EXPECT_EQ(cohorts[1].name(), CohortName("c-20270112"));
}

// A cohort dropped from the publication (it was empty) must not lend its id,
// and with it its state, to a new cohort on the same day.
TEST(PlanCapacityTest, NewCohortNamesAvoidIdsOfTheCurrentCohorts) {
  const absl::CivilDay day(2027, 1, 12);
  v1::Cohort cancelled =
      Cohort("c-20270112", day, 8, 12, v1::COHORT_STATE_CANCELLED);
  cancelled.set_decision(v1::COHORT_DECISION_CANCEL);
  const absl::StatusOr<CapacityPlan> plan =
      Plan(WithCohorts({cancelled}), Cohorts({Cohort("", day, 8, 12)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const v1::Cohort& made = plan->offering.capacity().cohorts().cohorts(0);
  EXPECT_EQ(made.name(), CohortName("c-20270112-2"));
  EXPECT_EQ(made.state(), v1::COHORT_STATE_OPEN);
  EXPECT_EQ(made.decision(), v1::COHORT_DECISION_UNSPECIFIED);
  EXPECT_THAT(plan->units, ElementsAre(Pair("c-20270112-2", 12)));
  EXPECT_THAT(plan->removed_units, ElementsAre("c-20270112"));
}

TEST(PlanCapacityTest, NewUnnamedCohortMustStartAfterToday) {
  ExpectStatus(
      Plan(Offering(), Cohorts({Cohort("", kToday, 8, 12)})).status(),
      absl::StatusCode::kInvalidArgument,
      {"capacity.cohorts.cohorts[0].start_date", "after today", "2026-11-23"});
  EXPECT_TRUE(Plan(Offering(), Cohorts({Cohort("", kToday + 1, 8, 12)})).ok());
}

// Named or not, a new cohort must start after today: a cohort whose intake
// closed before it existed could take no one.
TEST(PlanCapacityTest, NewNamedCohortMustStartAfterToday) {
  ExpectStatus(
      Plan(Offering(), Cohorts({Cohort("host", kToday - 3, 8, 12)})).status(),
      absl::StatusCode::kInvalidArgument,
      {"capacity.cohorts.cohorts[0].start_date", "after today"});
}

TEST(PlanCapacityTest, NamedCohortNotYetUsedIsCreatedOpen) {
  const v1::Offering current =
      WithCohorts({Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN)});
  const absl::StatusOr<CapacityPlan> plan =
      Plan(current, Cohorts({Cohort("host", kToday + 20, 8, 12),
                             Cohort("var", kToday + 120, 5, 9)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const v1::Cohort& made = plan->offering.capacity().cohorts().cohorts(1);
  EXPECT_EQ(made.name(), CohortName("var"));
  EXPECT_EQ(made.state(), v1::COHORT_STATE_OPEN);
  EXPECT_THAT(plan->units, ElementsAre(Pair("host", 12), Pair("var", 9)));
}

TEST(PlanCapacityTest, BadCohortValuesNameTheFieldWithItsIndex) {
  struct Case {
    v1::Cohort cohort;
    std::vector<std::string> parts;
  };
  v1::Cohort bad_date = Cohort("host", kToday + 20, 8, 12);
  bad_date.mutable_start_date()->set_month(13);
  v1::Cohort no_date = Cohort("host", kToday + 20, 8, 12);
  no_date.clear_start_date();
  v1::Cohort late_intake = Cohort("host", kToday + 20, 8, 12);
  *late_intake.mutable_intake_start_date() = ToProtoDate(kToday + 21);
  v1::Cohort bad_intake = Cohort("host", kToday + 20, 8, 12);
  bad_intake.mutable_intake_start_date()->set_day(32);
  v1::Cohort foreign = Cohort("host", kToday + 20, 8, 12);
  foreign.set_name(CohortName("host", kOtherOffering));
  v1::Cohort malformed = Cohort("host", kToday + 20, 8, 12);
  malformed.set_name(absl::StrCat(kOffering, "/groups/host"));
  const std::string f = "capacity.cohorts.cohorts[1]";
  const std::vector<Case> cases = {
      {bad_date, {f + ".start_date", "real date", "2026-13-"}},
      {no_date, {f + ".start_date", "got 0-0-0"}},
      {Cohort("host", kToday + 20, 8, 0), {f + ".max_size", "1..100", "got 0"}},
      {Cohort("host", kToday + 20, 8, 101), {f + ".max_size", "got 101"}},
      {Cohort("host", kToday + 20, 0, 12), {f + ".min_size", "got 0"}},
      {Cohort("host", kToday + 20, 13, 12),
       {f + ".min_size", "1..max_size (12)", "got 13"}},
      {late_intake, {f + ".intake_start_date", "after start_date"}},
      {bad_intake, {f + ".intake_start_date", "real date"}},
      {foreign, {f + ".name", "must be a cohort of", kOffering}},
      {malformed, {f + ".name", "cohorts/{cohort}"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.parts[0] + " " + c.cohort.ShortDebugString());
    ExpectStatus(Plan(Offering(),
                      Cohorts({Cohort("vinter", kToday + 70, 8, 12), c.cohort}))
                     .status(),
                 absl::StatusCode::kInvalidArgument, c.parts);
  }
}

TEST(PlanCapacityTest, IntakeMayOpenOnTheStartDate) {
  v1::Cohort cohort = Cohort("host", kToday + 20, 8, 12);
  *cohort.mutable_intake_start_date() = ToProtoDate(kToday + 20);
  EXPECT_TRUE(Plan(Offering(), Cohorts({cohort})).ok());
}

TEST(PlanCapacityTest, ARepeatedCohortIsRefused) {
  ExpectStatus(Plan(Offering(), Cohorts({Cohort("host", kToday + 20, 8, 12),
                                         Cohort("host", kToday + 30, 8, 12)}))
                   .status(),
               absl::StatusCode::kInvalidArgument,
               {"capacity.cohorts.cohorts[1].name", "must not repeat"});
}

TEST(PlanCapacityTest, AtMostFiftyCohorts) {
  std::vector<v1::Cohort> cohorts;
  for (int i = 0; i < 50; ++i) cohorts.push_back(Cohort("", kToday + 7, 1, 2));
  EXPECT_TRUE(Plan(Offering(), Cohorts(cohorts)).ok());
  cohorts.push_back(Cohort("", kToday + 7, 1, 2));
  ExpectStatus(Plan(Offering(), Cohorts(cohorts)).status(),
               absl::StatusCode::kInvalidArgument,
               {"capacity.cohorts.cohorts", "at most 50", "got 51"});
}

TEST(PlanCapacityTest, ExistingCohortKeepsItsStateAndDecision) {
  v1::Cohort decided =
      Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 3, 1);
  decided.set_decision(v1::COHORT_DECISION_START);
  v1::Cohort merged =
      Cohort("tidig", kToday + 10, 8, 12, v1::COHORT_STATE_MERGED, 0, 0);
  merged.set_decision(v1::COHORT_DECISION_MERGE);
  merged.set_merged_into(CohortName("host"));
  const v1::Offering current = WithCohorts({merged, decided});
  // Published as the provider sees them, without output fields.
  const absl::StatusOr<CapacityPlan> plan =
      Plan(current, Cohorts({Cohort("tidig", kToday + 10, 8, 12),
                             Cohort("host", kToday + 20, 6, 12)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const auto& cohorts = plan->offering.capacity().cohorts().cohorts();
  EXPECT_EQ(cohorts[0].state(), v1::COHORT_STATE_MERGED);
  EXPECT_EQ(cohorts[0].decision(), v1::COHORT_DECISION_MERGE);
  EXPECT_EQ(cohorts[0].merged_into(), CohortName("host"));
  EXPECT_EQ(cohorts[1].state(), v1::COHORT_STATE_OPEN);
  EXPECT_EQ(cohorts[1].decision(), v1::COHORT_DECISION_START);
  EXPECT_EQ(cohorts[1].min_size(), 6);
  // Counters live beside the definition, not in it.
  EXPECT_EQ(cohorts[1].enrolled(), 0);
  EXPECT_EQ(cohorts[1].held(), 0);
  // A closed cohort has no capacity left.
  EXPECT_THAT(plan->units, ElementsAre(Pair("tidig", 0), Pair("host", 12)));
}

TEST(PlanCapacityTest, CohortMaxSizeMayNotFallBelowWhatItTook) {
  const v1::Offering current = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 7, 2)});
  EXPECT_TRUE(Plan(current, Cohorts({Cohort("host", kToday + 20, 8, 9)})).ok());
  ExpectStatus(
      Plan(current, Cohorts({Cohort("host", kToday + 20, 8, 8)})).status(),
      absl::StatusCode::kFailedPrecondition,
      {CohortName("host"), "has 9 participants", "max_size 8"});
}

TEST(PlanCapacityTest, CohortWithParticipantsMayNotBeLeftOut) {
  const v1::Offering current = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 0, 1),
       Cohort("vinter", kToday + 70, 8, 12, v1::COHORT_STATE_OPEN)});
  ExpectStatus(
      Plan(current, Cohorts({Cohort("vinter", kToday + 70, 8, 12)})).status(),
      absl::StatusCode::kFailedPrecondition,
      {CohortName("host"), "1 participants", "cannot be left out",
       "DecideCohort"});
}

TEST(PlanCapacityTest, EmptyCohortLeftOutIsRemoved) {
  const v1::Offering current = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN),
       Cohort("vinter", kToday + 70, 8, 12, v1::COHORT_STATE_OPEN, 4, 0)});
  const absl::StatusOr<CapacityPlan> plan =
      Plan(current, Cohorts({Cohort("vinter", kToday + 70, 8, 12)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->units, ElementsAre(Pair("vinter", 12)));
  EXPECT_THAT(plan->removed_units, ElementsAre("host"));
  EXPECT_EQ(plan->offering.capacity().cohorts().cohorts_size(), 1);
}

TEST(PlanCapacityTest, OpenCohortMayMove) {
  const v1::Offering current = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 2, 0)});
  const absl::StatusOr<CapacityPlan> plan =
      Plan(current, Cohorts({Cohort("host", kToday + 27, 8, 14)}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(
      *ToCivilDay("",
                  plan->offering.capacity().cohorts().cohorts(0).start_date()),
      kToday + 27);
  EXPECT_THAT(plan->units, ElementsAre(Pair("host", 14)));
}

TEST(PlanCapacityTest, StartedOrClosedCohortMayNotMoveOrResize) {
  for (const v1::CohortState state :
       {v1::COHORT_STATE_STARTED, v1::COHORT_STATE_CANCELLED,
        v1::COHORT_STATE_MERGED, v1::COHORT_STATE_FINISHED}) {
    SCOPED_TRACE(v1::CohortState_Name(state));
    const v1::Offering current =
        WithCohorts({Cohort("host", kToday - 5, 8, 12, state)});
    ExpectStatus(
        Plan(current, Cohorts({Cohort("host", kToday - 4, 8, 12)})).status(),
        absl::StatusCode::kFailedPrecondition,
        {CohortName("host"), v1::CohortState_Name(state),
         "can no longer change"});
    ExpectStatus(
        Plan(current, Cohorts({Cohort("host", kToday - 5, 8, 13)})).status(),
        absl::StatusCode::kFailedPrecondition,
        {CohortName("host"), "can no longer change"});
    // Republishing it unchanged (with another minimum) is fine.
    EXPECT_TRUE(
        Plan(current, Cohorts({Cohort("host", kToday - 5, 6, 12)})).ok());
  }
}

// --- TakenOf / UnitOf
// ---------------------------------------------------------

TEST(TakenOfTest, CountsOccupiedAndHeldOfTheUnit) {
  EXPECT_EQ(TakenOf(WithPlaces(10, 3, 2), "-"), 5);
  EXPECT_EQ(TakenOf(WithPlaces(10, 3, 2), "host"), 0);
  EXPECT_EQ(TakenOf(WithCaseload(10, 4, 1), "-"), 5);
  const v1::Offering cohorts = WithCohorts(
      {Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 6, 1),
       Cohort("vinter", kToday + 70, 8, 12, v1::COHORT_STATE_OPEN, 0, 2)});
  EXPECT_EQ(TakenOf(cohorts, "host"), 7);
  EXPECT_EQ(TakenOf(cohorts, "vinter"), 2);
  EXPECT_EQ(TakenOf(cohorts, "var"), 0);
  EXPECT_EQ(TakenOf(cohorts, "-"), 0);
  EXPECT_EQ(TakenOf(Offering(), "-"), 0);
}

TEST(UnitOfTest, CohortIdForCohortsElseTheWholeOffering) {
  const v1::Offering cohorts =
      WithCohorts({Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN)});
  EXPECT_EQ(UnitOf(cohorts, CohortName("host")), "host");
  EXPECT_EQ(UnitOf(WithPlaces(10), ""), kWholeOfferingUnit);
  EXPECT_EQ(UnitOf(WithPlaces(10), CohortName("host")), kWholeOfferingUnit);
  EXPECT_EQ(UnitOf(WithCaseload(10), ""), kWholeOfferingUnit);
}

// --- PlanCohortDecision -----------------------------------------------------

class CohortDecisionTest : public ::testing::Test {
 protected:
  // "tidig" has 3 of its minimum 8 (2 enrolled, 1 held) and starts in 10
  // days; "host" (20 days) has 8 of 12; "vinter" (70 days) 2 of 12; "samma"
  // starts the same day as "tidig" with 4 of 10; "forra" starts in 5 days.
  CohortDecisionTest()
      : current_(WithCohorts(
            {Cohort("forra", kToday + 5, 4, 12, v1::COHORT_STATE_OPEN, 1, 0),
             Cohort("tidig", kToday + 10, 8, 12, v1::COHORT_STATE_OPEN, 2, 1),
             Cohort("samma", kToday + 10, 4, 10, v1::COHORT_STATE_OPEN, 4, 0),
             Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 6, 2),
             Cohort("vinter", kToday + 70, 8, 12, v1::COHORT_STATE_OPEN, 2,
                    0)})) {}

  absl::StatusOr<CohortDecisionPlan> Decide(
      const std::string& unit, v1::CohortDecision decision,
      const std::string& merge_into = "") const {
    return PlanCohortDecision(current_, unit, decision, merge_into, kToday);
  }

  static const v1::Cohort& Find(const CohortDecisionPlan& plan,
                                const std::string& unit) {
    for (const v1::Cohort& c :
         plan.capacity.offering.capacity().cohorts().cohorts()) {
      if (Id(c.name()) == unit) return c;
    }
    ADD_FAILURE() << "no cohort " << unit;
    return v1::Cohort::default_instance();
  }

  // Sets the state of cohort `unit` of current_.
  void SetState(const std::string& unit, v1::CohortState state) {
    for (v1::Cohort& c :
         *current_.mutable_capacity()->mutable_cohorts()->mutable_cohorts()) {
      if (Id(c.name()) == unit) c.set_state(state);
    }
  }

  v1::Offering current_;
};

TEST_F(CohortDecisionTest, StartRecordsTheDecisionAndKeepsTheCohortOpen) {
  const absl::StatusOr<CohortDecisionPlan> plan =
      Decide("tidig", v1::COHORT_DECISION_START);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->cohort_unit, "tidig");
  EXPECT_TRUE(plan->merge_into_unit.empty());
  const v1::Cohort& tidig = Find(*plan, "tidig");
  EXPECT_EQ(tidig.state(), v1::COHORT_STATE_OPEN);
  EXPECT_EQ(tidig.decision(), v1::COHORT_DECISION_START);
  EXPECT_THAT(plan->capacity.units, IsEmpty());
  EXPECT_FALSE(plan->capacity.closes_units);
  // Nothing else changes.
  EXPECT_EQ(Find(*plan, "host").decision(), v1::COHORT_DECISION_UNSPECIFIED);
}

TEST_F(CohortDecisionTest, CancelClosesTheCohortWithCapacityZero) {
  const absl::StatusOr<CohortDecisionPlan> plan =
      Decide("tidig", v1::COHORT_DECISION_CANCEL);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const v1::Cohort& tidig = Find(*plan, "tidig");
  EXPECT_EQ(tidig.state(), v1::COHORT_STATE_CANCELLED);
  EXPECT_EQ(tidig.decision(), v1::COHORT_DECISION_CANCEL);
  EXPECT_THAT(plan->capacity.units, ElementsAre(Pair("tidig", 0)));
  // It still holds 3 places, which the broker then frees.
  EXPECT_TRUE(plan->capacity.closes_units);
  EXPECT_EQ(plan->cohort_unit, "tidig");
}

TEST_F(CohortDecisionTest, MergeIntoALaterCohortWithRoom) {
  const absl::StatusOr<CohortDecisionPlan> plan =
      Decide("tidig", v1::COHORT_DECISION_MERGE, "vinter");
  ASSERT_TRUE(plan.ok()) << plan.status();
  const v1::Cohort& tidig = Find(*plan, "tidig");
  EXPECT_EQ(tidig.state(), v1::COHORT_STATE_MERGED);
  EXPECT_EQ(tidig.decision(), v1::COHORT_DECISION_MERGE);
  EXPECT_EQ(tidig.merged_into(), CohortName("vinter"));
  EXPECT_EQ(plan->merge_into_unit, "vinter");
  EXPECT_EQ(plan->cohort_unit, "tidig");
  EXPECT_THAT(plan->capacity.units, ElementsAre(Pair("tidig", 0)));
  EXPECT_TRUE(plan->capacity.closes_units);
  EXPECT_EQ(Find(*plan, "vinter").state(), v1::COHORT_STATE_OPEN);
}

TEST_F(CohortDecisionTest, MergeIntoACohortStartingTheSameDay) {
  const absl::StatusOr<CohortDecisionPlan> plan =
      Decide("tidig", v1::COHORT_DECISION_MERGE, "samma");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Find(*plan, "tidig").merged_into(), CohortName("samma"));
}

TEST_F(CohortDecisionTest, MergeNeedsRoomForEveryoneItTook) {
  // "host" has 12 - 8 = 4 free; "tidig" moves 3: fits exactly when "host"
  // holds one more.
  EXPECT_TRUE(Decide("tidig", v1::COHORT_DECISION_MERGE, "host").ok());
  current_.mutable_capacity()->mutable_cohorts()->mutable_cohorts(3)->set_held(
      3);  // host: 6 + 3 = 9 taken, room 3
  EXPECT_TRUE(Decide("tidig", v1::COHORT_DECISION_MERGE, "host").ok());
  current_.mutable_capacity()->mutable_cohorts()->mutable_cohorts(3)->set_held(
      4);  // room 2
  ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "host").status(),
               absl::StatusCode::kFailedPrecondition,
               {CohortName("host"), "cannot take the 3 of", CohortName("tidig"),
                "it has 2"});
}

TEST_F(CohortDecisionTest, MergeIntoAnEarlierCohortIsRefused) {
  // "forra" starts before "tidig", has not started, and has room.
  ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "forra").status(),
               absl::StatusCode::kFailedPrecondition,
               {CohortName("forra"), CohortName("tidig")});
}

TEST_F(CohortDecisionTest, MergeTargetMustBeOpen) {
  for (const v1::CohortState state :
       {v1::COHORT_STATE_STARTED, v1::COHORT_STATE_CANCELLED,
        v1::COHORT_STATE_MERGED, v1::COHORT_STATE_FINISHED}) {
    SCOPED_TRACE(v1::CohortState_Name(state));
    SetState("vinter", state);
    ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "vinter").status(),
                 absl::StatusCode::kFailedPrecondition,
                 {CohortName("vinter"), "must be open"});
  }
}

TEST_F(CohortDecisionTest, MergeTargetMustNotHaveStarted) {
  // A target starting today is under way: intake has closed.
  current_ = WithCohorts(
      {Cohort("idag", kToday, 4, 12, v1::COHORT_STATE_OPEN, 1, 0),
       Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN, 2, 0)});
  ExpectStatus(Decide("host", v1::COHORT_DECISION_MERGE, "idag").status(),
               absl::StatusCode::kFailedPrecondition, {CohortName("idag")});
}

TEST_F(CohortDecisionTest, MergeIntoNothingOrItselfIsInvalid) {
  ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "").status(),
               absl::StatusCode::kInvalidArgument,
               {"merge_into", "another cohort"});
  ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "saknas").status(),
               absl::StatusCode::kInvalidArgument,
               {"merge_into", "got \"saknas\""});
  ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "tidig").status(),
               absl::StatusCode::kInvalidArgument,
               {"merge_into", "got \"tidig\""});
}

TEST_F(CohortDecisionTest, ClosedOrStartedCohortCannotBeDecided) {
  for (const v1::CohortState state :
       {v1::COHORT_STATE_STARTED, v1::COHORT_STATE_CANCELLED,
        v1::COHORT_STATE_MERGED, v1::COHORT_STATE_FINISHED}) {
    SCOPED_TRACE(v1::CohortState_Name(state));
    SetState("tidig", state);
    for (const v1::CohortDecision decision :
         {v1::COHORT_DECISION_START, v1::COHORT_DECISION_CANCEL}) {
      ExpectStatus(Decide("tidig", decision).status(),
                   absl::StatusCode::kFailedPrecondition,
                   {CohortName("tidig"), v1::CohortState_Name(state),
                    "only an open cohort"});
    }
    ExpectStatus(Decide("tidig", v1::COHORT_DECISION_MERGE, "vinter").status(),
                 absl::StatusCode::kFailedPrecondition, {CohortName("tidig")});
  }
}

TEST_F(CohortDecisionTest, CohortStartingTodayIsUnderWay) {
  for (const absl::CivilDay start : {kToday, kToday - 1}) {
    current_ = WithCohorts(
        {Cohort("idag", start, 8, 12, v1::COHORT_STATE_OPEN, 1, 0),
         Cohort("host", kToday + 20, 8, 12, v1::COHORT_STATE_OPEN)});
    ExpectStatus(Decide("idag", v1::COHORT_DECISION_CANCEL).status(),
                 absl::StatusCode::kFailedPrecondition,
                 {CohortName("idag"), "already under way"});
  }
  // The day before its start it can still be decided.
  EXPECT_TRUE(PlanCohortDecision(current_, "idag", v1::COHORT_DECISION_CANCEL,
                                 "", kToday - 2)
                  .ok());
}

TEST_F(CohortDecisionTest, UnknownCohortIsNotFound) {
  ExpectStatus(Decide("saknas", v1::COHORT_DECISION_START).status(),
               absl::StatusCode::kNotFound, {kOffering, "no cohort saknas"});
  ExpectStatus(PlanCohortDecision(WithPlaces(10), "-",
                                  v1::COHORT_DECISION_START, "", kToday)
                   .status(),
               absl::StatusCode::kNotFound, {kOffering});
}

TEST_F(CohortDecisionTest, UnspecifiedDecisionIsInvalid) {
  ExpectStatus(Decide("tidig", v1::COHORT_DECISION_UNSPECIFIED).status(),
               absl::StatusCode::kInvalidArgument, {"decision", "got 0"});
}

// --- CohortsAwaitingDecision ------------------------------------------------

TEST(CohortsAwaitingDecisionTest, SmallUndecidedCohortsWithinLeadDays) {
  const v1::Offering offering = WithCohorts({
      // Within 14 days, 3 (2 + 1 held) of 8: awaiting.
      Cohort("tidig", kToday + 10, 8, 12, v1::COHORT_STATE_OPEN, 2, 1),
      // Exactly 14 days away: awaiting.
      Cohort("kant", kToday + 14, 8, 12, v1::COHORT_STATE_OPEN, 0, 0),
      // 15 days away: not yet.
      Cohort("senare", kToday + 15, 8, 12, v1::COHORT_STATE_OPEN, 0, 0),
      // Exactly at its minimum, 7 + 1 held: no decision needed.
      Cohort("full", kToday + 5, 8, 12, v1::COHORT_STATE_OPEN, 7, 1),
      // Starts today: too late, under way.
      Cohort("idag", kToday, 8, 12, v1::COHORT_STATE_OPEN, 0, 0),
      // Tomorrow and below its minimum: awaiting.
      Cohort("imorgon", kToday + 1, 8, 12, v1::COHORT_STATE_OPEN, 0, 0),
  });
  EXPECT_THAT(CohortsAwaitingDecision(offering, kToday, 14),
              ElementsAre(CohortName("tidig"), CohortName("kant"),
                          CohortName("imorgon")));
}

TEST(CohortsAwaitingDecisionTest, DecidedOrClosedCohortsAreNotAwaiting) {
  v1::Cohort started = Cohort("a", kToday + 3, 8, 12, v1::COHORT_STATE_OPEN);
  started.set_decision(v1::COHORT_DECISION_START);
  v1::Cohort cancelled =
      Cohort("b", kToday + 3, 8, 12, v1::COHORT_STATE_CANCELLED);
  cancelled.set_decision(v1::COHORT_DECISION_CANCEL);
  v1::Cohort merged = Cohort("c", kToday + 3, 8, 12, v1::COHORT_STATE_MERGED);
  merged.set_decision(v1::COHORT_DECISION_MERGE);
  const v1::Cohort undecided =
      Cohort("d", kToday + 3, 8, 12, v1::COHORT_STATE_OPEN);
  const v1::Offering offering =
      WithCohorts({started, cancelled, merged, undecided});
  EXPECT_THAT(CohortsAwaitingDecision(offering, kToday, 14),
              ElementsAre(CohortName("d")));
}

TEST(CohortsAwaitingDecisionTest, MinimumReachedByHeldPlacesCounts) {
  const v1::Offering offering = WithCohorts(
      {Cohort("a", kToday + 3, 4, 12, v1::COHORT_STATE_OPEN, 0, 4),
       Cohort("b", kToday + 3, 4, 12, v1::COHORT_STATE_OPEN, 0, 3)});
  EXPECT_THAT(CohortsAwaitingDecision(offering, kToday, 7),
              ElementsAre(CohortName("b")));
}

TEST(CohortsAwaitingDecisionTest, NoneForOtherModels) {
  EXPECT_THAT(CohortsAwaitingDecision(WithPlaces(10), kToday, 14), IsEmpty());
  EXPECT_THAT(CohortsAwaitingDecision(Offering(), kToday, 14), IsEmpty());
}

}  // namespace
}  // namespace slussen::core
