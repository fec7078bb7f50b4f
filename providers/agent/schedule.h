// The provider's schedule, as its own booking system exports it, and the
// capacity Slussen should have from it: the pure part of
// slussen-provider-agent.
//
// iCalendar (RFC 5545; the usual export of booking systems), one VEVENT
// per cohort or block of places, its size in an X- property:
//
//   BEGIN:VEVENT
//   UID:kom-igang-2027-03
//   DTSTART;VALUE=DATE:20270301
//   SUMMARY:Hälsosam kom igång, mars
//   X-SLUSSEN-MAX-SIZE:12        a cohort: the most it takes
//   X-SLUSSEN-MIN-SIZE:6         the fewest it starts with (else the max)
//   X-SLUSSEN-PLACES:8           or places, from DTSTART until DTEND
//   X-SLUSSEN-CASES:40           or a caseload, from DTSTART until DTEND
//   END:VEVENT
//
// A cancelled event (STATUS:CANCELLED) is left out. Or CSV (as
// `referrals import` reads it) with the columns start_date, end_date,
// min_size, max_size, places, cases (those that apply).
//
// Thread-compatible; pure functions.
#ifndef SLUSSEN_PROVIDERS_AGENT_SCHEDULE_H_
#define SLUSSEN_PROVIDERS_AGENT_SCHEDULE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "slussen/v1/provider.pb.h"

namespace slussen::agent {

struct ScheduleEntry {
  // Where in the file: "event kom-igang-2027-03" or "line 3".
  std::string where;
  absl::CivilDay start;
  // The first day it no longer runs (DTEND); none: open-ended.
  std::optional<absl::CivilDay> end;
  int min_size = 0;
  int max_size = 0;
  int places = 0;
  int cases = 0;
};

struct Schedule {
  std::vector<ScheduleEntry> entries;
};

// `text` read as iCalendar when it starts with BEGIN:VCALENDAR, else as
// CSV. INVALID_ARGUMENT naming the event or line and what is wrong.
absl::StatusOr<Schedule> ParseSchedule(absl::string_view text);

// The capacity to publish for `offering` from `schedule` on `today`:
// cohorts starting from today (a published cohort of the same start date
// keeps its name, so it is changed rather than replaced), or the places or
// cases of the blocks running today. FAILED_PRECONDITION when it would drop
// below what is taken, naming the cohort: a cohort with participants the
// schedule leaves out or makes too small, or fewer places or cases than
// are occupied and held.
absl::StatusOr<slussen::v1::Capacity> CapacityFor(
    const Schedule& schedule, const slussen::v1::Offering& offering,
    absl::CivilDay today);

// Whether the published capacity is the same as `wanted` (names, dates and
// sizes; the broker's counts aside).
bool SameCapacity(const slussen::v1::Capacity& published,
                  const slussen::v1::Capacity& wanted);

// Whether to publish again although nothing changed, so that capacity
// never goes stale: when the broker says it is stale, or when more than
// half of the offering's stale_after_days (14 if unset) has passed since
// it was published.
bool DueForRefresh(const slussen::v1::Offering& offering, absl::Time now);

}  // namespace slussen::agent

#endif  // SLUSSEN_PROVIDERS_AGENT_SCHEDULE_H_
