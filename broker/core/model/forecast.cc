#include "broker/core/model/forecast.h"

#include <algorithm>
#include <cmath>

namespace slussen::core {
namespace {

// Weeks until capacity has taken `need` referrals, counting the weeks after
// `week`; past the horizon at its average, `total` a horizon; nullopt if
// never. Whole numbers throughout, so the result is exact.
std::optional<int> WeeksToServe(const std::vector<ForecastWeek>& weeks,
                                size_t week, int need, int total) {
  int served = 0;
  for (size_t k = week + 1; k < weeks.size(); ++k) {
    served += weeks[k].capacity;
    if (served >= need) return static_cast<int>(k - week);
  }
  if (total <= 0) return std::nullopt;
  const int horizon = static_cast<int>(weeks.size());
  const int beyond = ((need - served) * horizon + total - 1) / total;
  return horizon - 1 - static_cast<int>(week) + beyond;
}

}  // namespace

absl::CivilDay MondayOf(absl::CivilDay day) {
  const int since_monday = (static_cast<int>(absl::GetWeekday(day)) -
                            static_cast<int>(absl::Weekday::monday) + 7) %
                           7;
  return day - since_monday;
}

ShortfallForecast ForecastShortfall(const ForecastInput& input,
                                    std::optional<absl::Duration> warn_after) {
  ShortfallForecast out;
  const int window = std::max(1, input.window_weeks);
  const int horizon = std::max(1, input.horizon_weeks);
  out.arrivals_per_week = static_cast<double>(input.arrivals) / window;
  const absl::CivilDay first = MondayOf(input.today);
  out.weeks.resize(horizon);
  for (int w = 0; w < horizon; ++w) {
    out.weeks[w].start = first + 7 * w;
    out.weeks[w].arrivals = out.arrivals_per_week;
  }
  int total = 0;
  for (const absl::CivilDay day : input.capacity_days) {
    const int w = static_cast<int>((std::max(day, input.today) - first) / 7);
    if (w >= horizon) continue;
    ++out.weeks[w].capacity;
    ++total;
  }
  double waiting = input.waiting;
  for (ForecastWeek& week : out.weeks) {
    waiting = std::max(0.0, waiting + week.arrivals - week.capacity);
    week.waiting = waiting;
  }
  bool unbounded = false;
  for (size_t w = 0; w < out.weeks.size(); ++w) {
    ForecastWeek& week = out.weeks[w];
    // Everyone still waiting is ahead of the newcomer: round up.
    week.wait_weeks = WeeksToServe(
        out.weeks, w, static_cast<int>(std::ceil(week.waiting)) + 1, total);
    if (!week.wait_weeks) {
      unbounded = true;
    } else if (!unbounded) {
      out.peak_wait_weeks =
          std::max(out.peak_wait_weeks.value_or(0), *week.wait_weeks);
    }
    const bool over =
        !week.wait_weeks ||
        (warn_after && absl::Hours(24 * 7 * *week.wait_weeks) > *warn_after);
    if (warn_after && over && !out.warning_week) {
      out.warning_week = week.start;
    }
  }
  if (unbounded) out.peak_wait_weeks.reset();
  return out;
}

std::vector<absl::CivilDay> CapacityDays(const MatchOffering& offering,
                                         absl::CivilDay today) {
  std::vector<absl::CivilDay> days;
  if (offering.stale) return days;
  if (offering.model == slussen::v1::CAPACITY_MODEL_COHORTS) {
    for (const CohortSlot& cohort : offering.cohorts) {
      if (cohort.start <= today) continue;
      for (int i = cohort.taken; i < cohort.max_size; ++i) {
        days.push_back(cohort.start);
      }
    }
    return days;
  }
  for (int i = offering.taken; i < offering.capacity; ++i) {
    days.push_back(today);
  }
  for (const absl::CivilDay day : offering.expected_frees) {
    days.push_back(std::max(day, today));
  }
  return days;
}

}  // namespace slussen::core
