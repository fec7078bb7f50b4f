// The Swedish working-day calendar that every deadline is counted in.
//
// Deadlines in Slussen count either arbetsdagar (working days) or calendar
// days, always in Europe/Stockholm time (DOMAIN.md, "Deadlines: working days"):
//
//   - An arbetsdag is Monday to Friday, except the Swedish public holidays
//     and the three eves that lag (1930:173) treats like holidays
//     (midsommarafton, julafton, nyårsafton).
//   - The day something arrives never counts; a deadline of N days is the
//     END of the Nth (working or calendar) day after the arrival day.
//   - "End of day D" is the instant of local midnight starting D + 1, an
//     exclusive bound: an answer strictly before it is on time. Days are
//     23 or 25 hours long around daylight-saving changes, so every
//     conversion goes through the time zone; nothing adds 24h to a Time.
//
// Usage:
//
//   ASSIGN_OR_RETURN(const SwedishCalendar calendar,
//   SwedishCalendar::Create());
//   // Impulse arriving Wednesday 2026-12-23, to be called back within 3
//   // arbetsdagar: due at the end of Wednesday 2026-12-30.
//   absl::Time due = calendar.WorkingDaysDeadline(arrival, 3);
//   absl::Time warn_at = calendar.WorkingDaysBefore(due, 1);  // end of 12-29
//   if (answered_at < due) { ... on time ... }
//
// Holiday rules are today's (nationaldagen a holiday and annandag pingst not,
// both since 2005); earlier years are computed with the same rules, which is
// fine for deadlines but wrong for history. Years must be Gregorian (>= 1583).
//
// The counts `n` are preconditions, not input: deadline rules are validated
// (INVALID_ARGUMENT) where they are loaded, so a negative `n` here is a
// programming error. Debug builds assert; release builds treat it as 0, which
// makes the deadline early (and so noticed) rather than silently late.
//
// Thread-safety: a SwedishCalendar is immutable and cheap to copy (it holds
// only an absl::TimeZone handle); all methods are const and thread-safe.
#ifndef SLUSSEN_BROKER_CORE_MODEL_CALENDAR_H_
#define SLUSSEN_BROKER_CORE_MODEL_CALENDAR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace slussen::core {

// A public holiday or holiday-like eve. `name` is the Swedish name as written
// in running text ("långfredagen", "Kristi himmelsfärdsdag"), pointing to
// static storage.
struct Holiday {
  absl::CivilDay day;
  absl::string_view name;

  friend bool operator==(const Holiday&, const Holiday&) = default;
};

class SwedishCalendar {
 public:
  // Loads Europe/Stockholm from the system tzdata. FAILED_PRECONDITION if it
  // cannot be loaded (tzdata not installed, or TZDIR pointing elsewhere).
  static absl::StatusOr<SwedishCalendar> Create();

  // Europe/Stockholm.
  absl::TimeZone time_zone() const { return time_zone_; }

  // Functions on civil days need no time zone and are static; functions on
  // instants convert through Europe/Stockholm.

  // Monday to Friday and not a holiday or holiday-eve.
  static bool IsWorkingDay(absl::CivilDay day);

  // The name of the holiday or holiday-eve on `day`, or empty if none; a
  // plain Saturday or Sunday is not a holiday. When two fall on one date
  // (första maj and Kristi himmelsfärdsdag in 2008), the first in Holidays().
  static absl::string_view HolidayName(absl::CivilDay day);

  // Easter Sunday (påskdagen) of a Gregorian `year` (>= 1583).
  static absl::CivilDay EasterSunday(int year);

  // The 16 holidays and holiday-eves of `year`, in date order. A date can
  // appear twice when two holidays coincide (see HolidayName).
  static std::vector<Holiday> Holidays(int year);

  // The local (Stockholm) day that `t` falls on.
  absl::CivilDay LocalDay(absl::Time t) const;
  // Local midnight starting `day`.
  absl::Time StartOfDay(absl::CivilDay day) const;
  // Local midnight starting the day after `day`: an exclusive bound.
  absl::Time EndOfDay(absl::CivilDay day) const;

  // The Nth working day after `from` (`from` itself never counts, working
  // day or not); `from` when n == 0. Requires n >= 0.
  static absl::CivilDay AddWorkingDays(absl::CivilDay from, int n);

  // End of the Nth working day after the local day of `arrival`; the end of
  // the arrival day when n == 0. Requires n >= 0.
  absl::Time WorkingDaysDeadline(absl::Time arrival, int n) const;

  // End of the Nth calendar day after the local day of `arrival` ("within 5
  // days", "90 days after exit"; "4 weeks" is 28 days). Requires n >= 0.
  absl::Time CalendarDaysDeadline(absl::Time arrival, int n) const;

  // The instant `n` working days before `due`, for warnings. A `due` at
  // local midnight is read as the end of the previous day D, so the result
  // is the end of the Nth working day before D (end of Wed -> end of Tue);
  // any other `due` keeps its local time of day on that working day.
  // Returns `due` when n == 0. Requires n >= 0.
  absl::Time WorkingDaysBefore(absl::Time due, int n) const;

  // Number of working days d with a < d <= b; 0 if b <= a. Runs in time
  // proportional to the number of years spanned, not days.
  static int WorkingDaysBetween(absl::CivilDay a, absl::CivilDay b);

 private:
  explicit SwedishCalendar(absl::TimeZone time_zone) : time_zone_(time_zone) {}

  absl::TimeZone time_zone_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_CALENDAR_H_
