// The priority policy: deadline first, then the sickness-insurance band,
// then the fair share per referring agency, then waiting time, then the
// name as the stated tie-break; policies are data and are validated; every
// key is explained criterion by criterion.
#include "broker/core/model/priority_policy.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

absl::Time Day(int month, int day, int hour = 12) {
  return absl::FromCivil(absl::CivilHour(2026, month, day, hour), Stockholm());
}

PriorityFacts Entry(std::string name, std::string organisation,
                    absl::Time waiting_since) {
  PriorityFacts f;
  f.name = std::move(name);
  f.referring_organisation = std::move(organisation);
  f.waiting_since = waiting_since;
  return f;
}

// The names of `entries` in the order `policy` puts them.
std::vector<std::string> Ordered(const v1::PriorityPolicy& policy,
                                 const std::vector<PriorityFacts>& entries) {
  const std::vector<PriorityKey> keys =
      ComputeKeys(policy, entries, Stockholm());
  std::vector<int> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return ComparePriority(policy, keys[a], keys[b]) < 0;
  });
  std::vector<std::string> names;
  for (int i : order) names.push_back(entries[i].name);
  return names;
}

TEST(PriorityPolicyTest, DefaultPolicyIsValidAndEndsWithTheTieBreak) {
  const v1::PriorityPolicy policy = DefaultPriorityPolicy();
  EXPECT_TRUE(ValidatePriorityPolicy(policy).ok());
  EXPECT_THAT(policy.criteria(),
              ElementsAre(v1::PRIORITY_CRITERION_DEADLINE,
                          v1::PRIORITY_CRITERION_SICKNESS_DAYS_LEFT,
                          v1::PRIORITY_CRITERION_AGENCY_FAIR_SHARE,
                          v1::PRIORITY_CRITERION_WAITING_TIME,
                          v1::PRIORITY_CRITERION_NAME));
  EXPECT_THAT(policy.sickness_days_band_limits(),
              ElementsAre(30, 90, 180, 365));
}

TEST(PriorityPolicyTest, DeadlineComesFirstAndADeadlineBeatsNone) {
  std::vector<PriorityFacts> entries = {
      Entry("a-no-deadline", "fk", Day(1, 1)),
      Entry("b-late", "fk", Day(1, 2)),
      Entry("c-early", "fk", Day(1, 3)),
  };
  entries[1].due = Day(3, 10);
  entries[2].due = Day(3, 2);
  // Sickness days would put a first if they counted before deadlines.
  entries[0].sickness_days_left = 5;
  EXPECT_THAT(Ordered(DefaultPriorityPolicy(), entries),
              ElementsAre("c-early", "b-late", "a-no-deadline"));
}

TEST(PriorityPolicyTest, DeadlinesCompareByStockholmDay) {
  // 23:30 UTC on 1 March is already 2 March in Stockholm: the same day as
  // the 09:00 deadline, so waiting time decides.
  std::vector<PriorityFacts> entries = {
      Entry("late-utc", "fk", Day(1, 1)),
      Entry("morning", "fk", Day(1, 2)),
  };
  entries[0].due = absl::FromCivil(absl::CivilMinute(2026, 3, 1, 23, 30),
                                   absl::UTCTimeZone());
  entries[1].due = Day(3, 2, 9);
  const std::vector<PriorityKey> keys =
      ComputeKeys(DefaultPriorityPolicy(), entries, Stockholm());
  EXPECT_EQ(*keys[0].due_day, absl::CivilDay(2026, 3, 2));
  EXPECT_EQ(*keys[1].due_day, absl::CivilDay(2026, 3, 2));
  EXPECT_THAT(Ordered(DefaultPriorityPolicy(), entries),
              ElementsAre("late-utc", "morning"));
}

TEST(PriorityPolicyTest, ADeadlineAtMidnightIsTheDayItEnds) {
  // "Due at the end of Wednesday 2026-12-30" is the instant 2026-12-31
  // 00:00 local: its day is the 30th.
  std::vector<PriorityFacts> entries = {Entry("a", "fk", Day(12, 1))};
  entries[0].due = absl::FromCivil(absl::CivilDay(2026, 12, 31), Stockholm());
  EXPECT_EQ(
      *ComputeKeys(DefaultPriorityPolicy(), entries, Stockholm())[0].due_day,
      absl::CivilDay(2026, 12, 30));
}

TEST(PriorityPolicyTest, SicknessBandsNotDaysDecide) {
  std::vector<PriorityFacts> entries = {
      Entry("a-100-days", "fk", Day(1, 1)),
      Entry("b-170-days", "fk", Day(1, 2)),
      Entry("c-20-days", "fk", Day(1, 3)),
      Entry("d-unknown", "fk", Day(1, 4)),
      Entry("e-400-days", "fk", Day(1, 5)),
  };
  entries[0].sickness_days_left = 100;  // band 2 (91..180)
  entries[1].sickness_days_left = 170;  // band 2 too: waiting time decides
  entries[2].sickness_days_left = 20;   // band 0
  entries[4].sickness_days_left = 400;  // over 365: with the unknown
  const std::vector<PriorityKey> keys =
      ComputeKeys(DefaultPriorityPolicy(), entries, Stockholm());
  EXPECT_EQ(keys[0].sickness_band, 2);
  EXPECT_EQ(keys[1].sickness_band, 2);
  EXPECT_EQ(keys[2].sickness_band, 0);
  EXPECT_EQ(keys[3].sickness_band, 4);
  EXPECT_EQ(keys[4].sickness_band, 4);
  EXPECT_THAT(Ordered(DefaultPriorityPolicy(), entries),
              ElementsAre("c-20-days", "a-100-days", "b-170-days", "d-unknown",
                          "e-400-days"));
}

TEST(PriorityPolicyTest, BandLimitsAreInclusive) {
  std::vector<PriorityFacts> entries;
  for (int days : {30, 31, 90, 91}) {
    entries.push_back(Entry(absl::StrCat(days), "fk", Day(1, 1)));
    entries.back().sickness_days_left = days;
  }
  const std::vector<PriorityKey> keys =
      ComputeKeys(DefaultPriorityPolicy(), entries, Stockholm());
  EXPECT_EQ(keys[0].sickness_band, 0);
  EXPECT_EQ(keys[1].sickness_band, 1);
  EXPECT_EQ(keys[2].sickness_band, 1);
  EXPECT_EQ(keys[3].sickness_band, 2);
}

TEST(PriorityPolicyTest, FairShareInterleavesAgenciesWithinATier) {
  // FK sent three before AF's two; with equal weights they alternate.
  std::vector<PriorityFacts> entries = {
      Entry("fk-1", "fk", Day(1, 1)), Entry("fk-2", "fk", Day(1, 2)),
      Entry("fk-3", "fk", Day(1, 3)), Entry("af-1", "af", Day(1, 4)),
      Entry("af-2", "af", Day(1, 5)),
  };
  EXPECT_THAT(Ordered(DefaultPriorityPolicy(), entries),
              ElementsAre("fk-1", "af-1", "fk-2", "af-2", "fk-3"));
  const std::vector<PriorityKey> keys =
      ComputeKeys(DefaultPriorityPolicy(), entries, Stockholm());
  EXPECT_EQ(keys[0].fair_share_round, 1);
  EXPECT_EQ(keys[2].fair_share_round, 3);
  EXPECT_EQ(keys[4].fair_share_round, 2);
}

TEST(PriorityPolicyTest, FairShareActsOnlyWithinATier) {
  // AF's referral has a deadline: it goes first whatever the rounds; the
  // FK referrals are a tier of their own with rounds 1 and 2.
  std::vector<PriorityFacts> entries = {
      Entry("fk-1", "fk", Day(1, 1)),
      Entry("fk-2", "fk", Day(1, 2)),
      Entry("af-1", "af", Day(1, 3)),
  };
  entries[2].due = Day(2, 1);
  entries[0].due = Day(2, 1);
  // fk-1 and af-1 share the tier (same deadline day, same band); fk-2 is
  // alone in the tier without a deadline.
  const std::vector<PriorityKey> keys =
      ComputeKeys(DefaultPriorityPolicy(), entries, Stockholm());
  EXPECT_EQ(keys[0].fair_share_round, 1);
  EXPECT_EQ(keys[1].fair_share_round, 1);
  EXPECT_EQ(keys[2].fair_share_round, 1);
  EXPECT_THAT(Ordered(DefaultPriorityPolicy(), entries),
              ElementsAre("fk-1", "af-1", "fk-2"));
}

TEST(PriorityPolicyTest, AgencyWeightGivesMoreTurnsPerRound) {
  v1::PriorityPolicy policy = DefaultPriorityPolicy();
  (*policy.mutable_agency_weights())["fk"] = 2;
  std::vector<PriorityFacts> entries = {
      Entry("fk-1", "fk", Day(1, 1)), Entry("fk-2", "fk", Day(1, 2)),
      Entry("fk-3", "fk", Day(1, 3)), Entry("fk-4", "fk", Day(1, 4)),
      Entry("af-1", "af", Day(1, 5)), Entry("af-2", "af", Day(1, 6)),
  };
  EXPECT_THAT(Ordered(policy, entries),
              ElementsAre("fk-1", "fk-2", "af-1", "fk-3", "fk-4", "af-2"));
}

TEST(PriorityPolicyTest, WaitingTimeThenNameBreakTies) {
  std::vector<PriorityFacts> entries = {
      Entry("b", "fk", Day(1, 1)),
      Entry("a", "fk", Day(1, 1)),
      Entry("c", "fk", Day(1, 1, 6)),
  };
  v1::PriorityPolicy policy;
  policy.add_criteria(v1::PRIORITY_CRITERION_WAITING_TIME);
  policy.add_criteria(v1::PRIORITY_CRITERION_NAME);
  ASSERT_TRUE(ValidatePriorityPolicy(policy).ok());
  EXPECT_THAT(Ordered(policy, entries), ElementsAre("c", "a", "b"));
  const std::vector<PriorityKey> keys =
      ComputeKeys(policy, entries, Stockholm());
  EXPECT_LT(ComparePriority(policy, keys[1], keys[0]), 0);
  EXPECT_GT(ComparePriority(policy, keys[0], keys[1]), 0);
  EXPECT_EQ(ComparePriority(policy, keys[0], keys[0]), 0);
}

TEST(PriorityPolicyTest, ThePolicyIsDataTheOrderOfCriteriaMatters) {
  std::vector<PriorityFacts> entries = {
      Entry("urgent-sickness", "fk", Day(1, 2)),
      Entry("deadline", "fk", Day(1, 1)),
  };
  entries[0].sickness_days_left = 10;
  entries[1].due = Day(2, 1);
  entries[1].sickness_days_left = 300;
  v1::PriorityPolicy sickness_first;
  sickness_first.add_criteria(v1::PRIORITY_CRITERION_SICKNESS_DAYS_LEFT);
  sickness_first.add_criteria(v1::PRIORITY_CRITERION_DEADLINE);
  sickness_first.add_criteria(v1::PRIORITY_CRITERION_NAME);
  EXPECT_THAT(Ordered(DefaultPriorityPolicy(), entries),
              ElementsAre("deadline", "urgent-sickness"));
  EXPECT_THAT(Ordered(sickness_first, entries),
              ElementsAre("urgent-sickness", "deadline"));
}

TEST(PriorityPolicyTest, OrderIsTotalAndTransitive) {
  // Many entries with heavy ties: sorting twice from different starting
  // orders gives the same order (the NAME tie-break makes it total).
  std::vector<PriorityFacts> entries;
  for (int i = 0; i < 60; ++i) {
    entries.push_back(Entry(absl::StrCat("r", (i * 37) % 60),
                            i % 3 == 0 ? "fk" : (i % 3 == 1 ? "af" : "kommun"),
                            Day(1, 1 + i % 4)));
    if (i % 5 == 0) entries.back().due = Day(2, 1 + i % 2);
    if (i % 2 == 0) entries.back().sickness_days_left = (i * 13) % 400;
  }
  const std::vector<std::string> forward =
      Ordered(DefaultPriorityPolicy(), entries);
  std::reverse(entries.begin(), entries.end());
  EXPECT_EQ(Ordered(DefaultPriorityPolicy(), entries), forward);
}

TEST(PriorityPolicyTest, ValidationNamesTheField) {
  v1::PriorityPolicy no_tie_break;
  no_tie_break.add_criteria(v1::PRIORITY_CRITERION_DEADLINE);
  absl::Status status = ValidatePriorityPolicy(no_tie_break);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("policy.criteria"));
  EXPECT_THAT(status.message(), HasSubstr("PRIORITY_CRITERION_NAME"));

  EXPECT_FALSE(ValidatePriorityPolicy(v1::PriorityPolicy()).ok());

  v1::PriorityPolicy twice = DefaultPriorityPolicy();
  twice.set_criteria(0, v1::PRIORITY_CRITERION_WAITING_TIME);
  status = ValidatePriorityPolicy(twice);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("policy.criteria[3]"));
  EXPECT_THAT(status.message(), HasSubstr("must not repeat"));

  v1::PriorityPolicy bands = DefaultPriorityPolicy();
  bands.set_sickness_days_band_limits(2, 60);  // 30, 90, 60, 365
  status = ValidatePriorityPolicy(bands);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("policy.sickness_days_band_limits[2]"));

  v1::PriorityPolicy weights = DefaultPriorityPolicy();
  (*weights.mutable_agency_weights())["fk"] = 0;
  status = ValidatePriorityPolicy(weights);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("policy.agency_weights[fk]"));
  EXPECT_THAT(status.message(), HasSubstr("1..100"));
}

TEST(PriorityPolicyTest, EveryCriterionIsExplained) {
  std::vector<PriorityFacts> entries = {
      Entry("regions/13/referrals/01J", "kommun-halmstad-eb",
            absl::FromCivil(absl::CivilMinute(2026, 11, 2, 8, 15),
                            absl::UTCTimeZone()))};
  entries[0].due = Day(12, 30);
  entries[0].sickness_days_left = 120;
  const v1::PriorityPolicy policy = DefaultPriorityPolicy();
  const std::vector<PriorityKey> keys =
      ComputeKeys(policy, entries, Stockholm());
  const std::vector<v1::PositionReason> reasons =
      ExplainKey(policy, keys[0], entries[0]);
  ASSERT_EQ(reasons.size(), 5u);
  EXPECT_EQ(reasons[0].criterion(), v1::PRIORITY_CRITERION_DEADLINE);
  EXPECT_EQ(reasons[0].explanation(), "deadline 2026-12-30");
  EXPECT_EQ(reasons[1].explanation(),
            "120 days left in the sickness insurance (band 91..180)");
  EXPECT_EQ(reasons[2].explanation(),
            "round 1 of kommun-halmstad-eb's referrals in this tier");
  EXPECT_EQ(reasons[3].explanation(), "waiting since 2026-11-02 08:15 UTC");
  EXPECT_EQ(reasons[4].explanation(),
            "tie-break: regions/13/referrals/01J (by name)");

  entries[0].due.reset();
  entries[0].sickness_days_left.reset();
  const PriorityKey bare = ComputeKeys(policy, entries, Stockholm())[0];
  const std::vector<v1::PositionReason> unknown =
      ExplainKey(policy, bare, entries[0]);
  EXPECT_EQ(unknown[0].explanation(),
            "no response deadline (after those with one)");
  EXPECT_EQ(unknown[1].explanation(),
            "days left in the sickness insurance not given (band over 365 or "
            "unknown)");
}

}  // namespace
}  // namespace slussen::core
