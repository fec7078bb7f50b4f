#include "broker/core/model/forecast.h"

#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

absl::Duration Weeks(int n) { return absl::Hours(24 * 7 * n); }

// Wednesday 9 December 2026; its week starts on Monday the 7th.
const absl::CivilDay kToday(2026, 12, 9);

std::vector<int> WaitsOf(const ShortfallForecast& f) {
  std::vector<int> waits;
  for (const ForecastWeek& w : f.weeks)
    waits.push_back(w.wait_weeks.value_or(-1));
  return waits;
}

// One a week arrives, three wait, and two places come in weeks 2 and 4:
// the queue grows, and the wait with it.
ForecastInput Shortfall() {
  return {.today = kToday,
          .waiting = 3,
          .arrivals = 8,
          .capacity_days = {
              absl::CivilDay(2026, 12, 21), absl::CivilDay(2026, 12, 23),
              absl::CivilDay(2027, 1, 4), absl::CivilDay(2027, 1, 8)}};
}

TEST(ForecastTest, WeeksStartOnMondaysFromThisWeek) {
  const ShortfallForecast f = ForecastShortfall(Shortfall());
  ASSERT_EQ(f.weeks.size(), 12u);
  EXPECT_EQ(f.weeks[0].start, absl::CivilDay(2026, 12, 7));
  EXPECT_EQ(f.weeks[11].start, absl::CivilDay(2027, 2, 22));
  for (const ForecastWeek& w : f.weeks) {
    EXPECT_EQ(absl::GetWeekday(w.start), absl::Weekday::monday);
  }
}

TEST(ForecastTest, TheQueueGrowsByArrivalsLessCapacity) {
  const ShortfallForecast f = ForecastShortfall(Shortfall());
  EXPECT_DOUBLE_EQ(f.arrivals_per_week, 1.0);
  std::vector<int> capacity, waiting;
  for (const ForecastWeek& w : f.weeks) {
    capacity.push_back(w.capacity);
    waiting.push_back(static_cast<int>(w.waiting));
  }
  EXPECT_THAT(capacity,
              ::testing::ElementsAre(0, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(waiting,
              ::testing::ElementsAre(4, 5, 4, 5, 4, 5, 6, 7, 8, 9, 10, 11));
}

TEST(ForecastTest, TheWaitCountsWeeksUntilCapacityTakesEveryoneAhead) {
  const ShortfallForecast f = ForecastShortfall(Shortfall());
  // Week 0: 4 ahead, the newcomer is the 5th; weeks 2 and 4 take 4, and
  // past the horizon its average (4 in 12 weeks) takes the 5th 3 weeks on.
  EXPECT_EQ(f.weeks[0].wait_weeks, 14);
  EXPECT_EQ(f.weeks[2].wait_weeks, 18);
  EXPECT_EQ(f.weeks[3].wait_weeks, 20);
  EXPECT_EQ(f.weeks[4].wait_weeks, 22);
  EXPECT_EQ(f.weeks[11].wait_weeks, 36);
  EXPECT_EQ(f.peak_wait_weeks, 36);
}

TEST(ForecastTest, WarnsInTheFirstWeekWhoseWaitPassesTheThreshold) {
  EXPECT_EQ(ForecastShortfall(Shortfall(), Weeks(8)).warning_week,
            absl::CivilDay(2026, 12, 7));
  // 20 weeks is not passed in week 3 (exactly 20), but in week 4 (22).
  EXPECT_EQ(ForecastShortfall(Shortfall(), Weeks(20)).warning_week,
            absl::CivilDay(2027, 1, 4));
  EXPECT_FALSE(ForecastShortfall(Shortfall(), Weeks(36)).warning_week);
  EXPECT_FALSE(ForecastShortfall(Shortfall()).warning_week);
}

TEST(ForecastTest, EnoughCapacityKeepsTheWaitShort) {
  // Nobody waits, nobody arrives, a cohort of 12 starts in week 3.
  ForecastInput input{.today = kToday};
  input.capacity_days.assign(12, absl::CivilDay(2026, 12, 30));
  const ShortfallForecast f = ForecastShortfall(input, Weeks(10));
  EXPECT_THAT(WaitsOf(f),
              ::testing::ElementsAre(3, 2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1));
  EXPECT_EQ(f.peak_wait_weeks, 9);
  EXPECT_FALSE(f.warning_week);
}

TEST(ForecastTest, WithoutCapacityTheWaitIsUnboundedAndWarnedAtOnce) {
  const ShortfallForecast f = ForecastShortfall(
      {.today = kToday, .waiting = 2, .arrivals = 16}, Weeks(8));
  EXPECT_THAT(WaitsOf(f), ::testing::Each(-1));
  EXPECT_FALSE(f.peak_wait_weeks);
  EXPECT_EQ(f.warning_week, absl::CivilDay(2026, 12, 7));
  EXPECT_FALSE(ForecastShortfall({.today = kToday, .waiting = 2}).warning_week);
}

TEST(ForecastTest, PastCapacityCountsTodayAndCapacityPastTheHorizonNot) {
  const ShortfallForecast f =
      ForecastShortfall({.today = kToday,
                         .capacity_days = {absl::CivilDay(2026, 11, 1),
                                           absl::CivilDay(2027, 6, 1)}});
  int total = 0;
  for (const ForecastWeek& w : f.weeks) total += w.capacity;
  EXPECT_EQ(total, 1);
  EXPECT_EQ(f.weeks[0].capacity, 1);
}

TEST(ForecastTest, CapacityDaysOfCohortsPlacesAndStaleOfferings) {
  MatchOffering cohorts;
  cohorts.model = v1::CAPACITY_MODEL_COHORTS;
  cohorts.cohorts = {
      {.start = absl::CivilDay(2026, 12, 1), .max_size = 12, .taken = 0},
      {.start = absl::CivilDay(2027, 1, 11), .max_size = 12, .taken = 10}};
  // The started cohort takes no one; the next has 2 of 12 free.
  EXPECT_THAT(CapacityDays(cohorts, kToday),
              ::testing::ElementsAre(absl::CivilDay(2027, 1, 11),
                                     absl::CivilDay(2027, 1, 11)));

  MatchOffering places;
  places.model = v1::CAPACITY_MODEL_PLACES;
  places.capacity = 4;
  places.taken = 3;
  places.expected_frees = {absl::CivilDay(2026, 12, 1),
                           absl::CivilDay(2027, 2, 1)};
  // One free today, one overdue to free (today), one on 1 February.
  EXPECT_THAT(
      CapacityDays(places, kToday),
      ::testing::ElementsAre(kToday, kToday, absl::CivilDay(2027, 2, 1)));

  places.stale = true;
  EXPECT_THAT(CapacityDays(places, kToday), ::testing::IsEmpty());
}

}  // namespace
}  // namespace slussen::core
