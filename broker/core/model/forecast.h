// The shortfall forecast: where a queue's wait is heading over the coming
// weeks, from how fast referrals have been arriving and the capacity the
// providers have published, so that a coordinator sees a shortfall before
// the queue actually grows.
//
// Week by week over the horizon (12 weeks from the Monday of this week):
//   - referrals arrive at the rate of the look-back window (its arrivals
//     divided by its weeks: the last 8 weeks);
//   - capacity comes as published: a cohort's free places in the week it
//     starts, a place or a case in the week it is expected to free (a
//     started participant's programme ends), and what is free today in the
//     first week;
//   - the queue at the end of a week is what it was, plus the arrivals,
//     less the capacity, never below 0.
// The wait of a referral joining at the end of a week is the number of
// weeks until the capacity of the weeks after it has taken everyone ahead
// of it and itself. Past the horizon, the horizon's average capacity a week
// is assumed to go on; with no capacity at all the wait is unbounded.
//
// Pure: the caller gathers the counts (QueueDesk). Thread-safe.
//
//   ShortfallForecast f = ForecastShortfall({.today = day,
//                                            .waiting = 40,
//                                            .arrivals = 96,
//                                            .capacity_days = days},
//                                           absl::Hours(24 * 7 * 8));
//   if (f.warning_week) ...  // the wait passes 8 weeks in that week
#ifndef SLUSSEN_BROKER_CORE_MODEL_FORECAST_H_
#define SLUSSEN_BROKER_CORE_MODEL_FORECAST_H_

#include <optional>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/matcher.h"

namespace slussen::core {

// The look-back window and the horizon, in weeks.
inline constexpr int kForecastWindowWeeks = 8;
inline constexpr int kForecastHorizonWeeks = 12;

struct ForecastInput {
  absl::CivilDay today;
  // Referrals waiting now.
  int waiting = 0;
  // Referrals that joined the queue in the last `window_weeks` weeks.
  int arrivals = 0;
  int window_weeks = kForecastWindowWeeks;
  int horizon_weeks = kForecastHorizonWeeks;
  // One day per unit of capacity: the day it can take someone (a day
  // before today counts as today).
  std::vector<absl::CivilDay> capacity_days;
};

struct ForecastWeek {
  // The Monday it starts.
  absl::CivilDay start;
  double arrivals = 0;
  int capacity = 0;
  // Waiting at the end of the week.
  double waiting = 0;
  // The wait of a referral joining at the end of the week, in whole weeks;
  // nullopt: unbounded (no capacity is published at all).
  std::optional<int> wait_weeks;
};

struct ShortfallForecast {
  double arrivals_per_week = 0;
  std::vector<ForecastWeek> weeks;
  // The longest wait over the horizon; nullopt: unbounded.
  std::optional<int> peak_wait_weeks;
  // The first week whose wait is longer than the threshold, when one was
  // given and a week's wait passes it.
  std::optional<absl::CivilDay> warning_week;
};

// The Monday of `day`'s week: a forecast's weeks start on Mondays.
absl::CivilDay MondayOf(absl::CivilDay day);

// Forecasts `input`'s queue; `warn_after` (if any) is the wait the
// activity type's coordinators want to hear about.
ShortfallForecast ForecastShortfall(
    const ForecastInput& input,
    std::optional<absl::Duration> warn_after = std::nullopt);

// The days on which `offering` can take someone, for the forecast: a
// cohort's free places on its start day (cohorts that start after today),
// places or cases free now on `today`, and each expected free on its day.
// Nothing for stale capacity, which the matcher does not rely on either.
std::vector<absl::CivilDay> CapacityDays(const MatchOffering& offering,
                                         absl::CivilDay today);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_FORECAST_H_
