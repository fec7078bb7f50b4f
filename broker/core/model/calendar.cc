#include "broker/core/model/calendar.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>

#include "absl/status/status.h"

namespace slussen::core {
namespace {

constexpr char kTimeZoneName[] = "Europe/Stockholm";

constexpr int kHolidaysPerYear = 16;
using YearHolidays = std::array<Holiday, kHolidaysPerYear>;

// A fixed-size array rather than a vector: IsWorkingDay calls this for every
// day a deadline counts over, and should not allocate.
YearHolidays ComputeHolidays(int year) {
  const absl::CivilDay easter = SwedishCalendar::EasterSunday(year);
  // The Saturday in 20..26 June and the Saturday in 31 October..6 November.
  const absl::CivilDay midsommardagen =
      absl::NextWeekday(absl::CivilDay(year, 6, 19), absl::Weekday::saturday);
  const absl::CivilDay alla_helgons_dag =
      absl::NextWeekday(absl::CivilDay(year, 10, 30), absl::Weekday::saturday);
  YearHolidays holidays = {{
      {absl::CivilDay(year, 1, 1), "nyårsdagen"},
      {absl::CivilDay(year, 1, 6), "trettondedag jul"},
      {easter - 2, "långfredagen"},
      {easter, "påskdagen"},
      {easter + 1, "annandag påsk"},
      {absl::CivilDay(year, 5, 1), "första maj"},
      {easter + 39, "Kristi himmelsfärdsdag"},
      {easter + 49, "pingstdagen"},
      {absl::CivilDay(year, 6, 6), "nationaldagen"},
      {midsommardagen - 1, "midsommarafton"},
      {midsommardagen, "midsommardagen"},
      {alla_helgons_dag, "alla helgons dag"},
      {absl::CivilDay(year, 12, 24), "julafton"},
      {absl::CivilDay(year, 12, 25), "juldagen"},
      {absl::CivilDay(year, 12, 26), "annandag jul"},
      {absl::CivilDay(year, 12, 31), "nyårsafton"},
  }};
  // Easter can put Kristi himmelsfärdsdag before (or on) första maj and
  // pingstdagen on either side of nationaldagen. Stable, so that coinciding
  // holidays keep the order above and HolidayName is deterministic.
  std::stable_sort(
      holidays.begin(), holidays.end(),
      [](const Holiday& a, const Holiday& b) { return a.day < b.day; });
  return holidays;
}

// The holidays of `year`, from a table of the years deadlines meet (made
// once: the sort showed in the profile of the midnight burst), else made
// (into this thread's buffer: valid until its next call).
constexpr int kFirstTabledYear = 1990;
constexpr int kTabledYears = 160;
const YearHolidays& HolidaysOf(int year) {
  static const auto* const kTable = [] {
    auto* table = new std::array<YearHolidays, kTabledYears>();
    for (int i = 0; i < kTabledYears; ++i) {
      (*table)[i] = ComputeHolidays(kFirstTabledYear + i);
    }
    return table;
  }();
  if (year >= kFirstTabledYear && year < kFirstTabledYear + kTabledYears) {
    return (*kTable)[year - kFirstTabledYear];
  }
  thread_local YearHolidays untabled;
  untabled = ComputeHolidays(year);
  return untabled;
}

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday weekday = absl::GetWeekday(day);
  return weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
}

// Counts are preconditions (see the header): assert in debug builds, and
// clamp in release so a bad rule gives an early deadline, never a late one.
int CheckedCount(int n) {
  assert(n >= 0 && "SwedishCalendar: day count n must be >= 0");
  return std::max(n, 0);
}

// The Nth working day strictly before `day`; n >= 1.
absl::CivilDay NthWorkingDayBefore(absl::CivilDay day, int n) {
  while (n > 0) {
    --day;
    if (SwedishCalendar::IsWorkingDay(day)) --n;
  }
  return day;
}

}  // namespace

absl::StatusOr<SwedishCalendar> SwedishCalendar::Create() {
  absl::TimeZone time_zone;
  if (!absl::LoadTimeZone(kTimeZoneName, &time_zone)) {
    return absl::FailedPreconditionError(
        "time zone \"Europe/Stockholm\" could not be loaded: every deadline "
        "is counted in it; install tzdata (/usr/share/zoneinfo) or point "
        "TZDIR at a zoneinfo directory");
  }
  return SwedishCalendar(time_zone);
}

bool SwedishCalendar::IsWorkingDay(absl::CivilDay day) {
  return !IsWeekend(day) && HolidayName(day).empty();
}

absl::string_view SwedishCalendar::HolidayName(absl::CivilDay day) {
  for (const Holiday& holiday : HolidaysOf(static_cast<int>(day.year()))) {
    if (holiday.day == day) return holiday.name;
  }
  return {};
}

// The anonymous Gregorian algorithm (Meeus, "Astronomical Algorithms").
absl::CivilDay SwedishCalendar::EasterSunday(int year) {
  const int a = year % 19;
  const int b = year / 100;
  const int c = year % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return absl::CivilDay(year, month, day);
}

std::vector<Holiday> SwedishCalendar::Holidays(int year) {
  const YearHolidays& holidays = HolidaysOf(year);
  return std::vector<Holiday>(holidays.begin(), holidays.end());
}

absl::CivilDay SwedishCalendar::LocalDay(absl::Time t) const {
  return absl::ToCivilDay(t, time_zone_);
}

absl::Time SwedishCalendar::StartOfDay(absl::CivilDay day) const {
  return absl::FromCivil(day, time_zone_);
}

absl::Time SwedishCalendar::EndOfDay(absl::CivilDay day) const {
  return StartOfDay(day + 1);
}

absl::CivilDay SwedishCalendar::AddWorkingDays(absl::CivilDay from, int n) {
  absl::CivilDay day = from;
  for (int left = CheckedCount(n); left > 0;) {
    ++day;
    if (IsWorkingDay(day)) --left;
  }
  return day;
}

absl::Time SwedishCalendar::WorkingDaysDeadline(absl::Time arrival,
                                                int n) const {
  return EndOfDay(AddWorkingDays(LocalDay(arrival), n));
}

absl::Time SwedishCalendar::CalendarDaysDeadline(absl::Time arrival,
                                                 int n) const {
  return EndOfDay(LocalDay(arrival) + CheckedCount(n));
}

absl::Time SwedishCalendar::WorkingDaysBefore(absl::Time due, int n) const {
  n = CheckedCount(n);
  if (n == 0) return due;
  const absl::TimeZone::CivilInfo local = time_zone_.At(due);
  const absl::CivilDay day(local.cs);
  if (local.cs == absl::CivilSecond(day) &&
      local.subsecond == absl::ZeroDuration()) {
    // Midnight: deadlines are ends of days, so this is the end of day - 1.
    return EndOfDay(NthWorkingDayBefore(day - 1, n));
  }
  const absl::CivilDay target = NthWorkingDayBefore(day, n);
  const absl::CivilSecond same_time(target.year(), target.month(), target.day(),
                                    local.cs.hour(), local.cs.minute(),
                                    local.cs.second());
  return absl::FromCivil(same_time, time_zone_) + local.subsecond;
}

int SwedishCalendar::WorkingDaysBetween(absl::CivilDay a, absl::CivilDay b) {
  if (b <= a) return 0;
  // Whole weeks hold 5 weekdays each; count the remainder day by day.
  const absl::civil_diff_t weeks = (b - a) / 7;
  int64_t count = weeks * 5;
  for (absl::CivilDay day = a + weeks * 7 + 1; day <= b; ++day) {
    if (!IsWeekend(day)) ++count;
  }
  for (absl::civil_year_t year = a.year(); year <= b.year(); ++year) {
    const YearHolidays& holidays = HolidaysOf(static_cast<int>(year));
    for (int i = 0; i < kHolidaysPerYear; ++i) {
      const absl::CivilDay day = holidays[i].day;
      // Coinciding holidays (sorted next to each other) remove one day.
      if (i > 0 && day == holidays[i - 1].day) continue;
      if (a < day && day <= b && !IsWeekend(day)) --count;
    }
  }
  return static_cast<int>(count);
}

}  // namespace slussen::core
