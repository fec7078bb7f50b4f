#include "providers/agent/schedule.h"

#include <libical/ical.h>

#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/referral_import.h"

namespace slussen::agent {
namespace {

namespace v1 = ::slussen::v1;

const absl::TimeZone& Stockholm() { return cli::StockholmZone(); }

absl::Status Bad(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::StatusOr<int> Count(absl::string_view where, absl::string_view name,
                          absl::string_view text) {
  int n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &n) || n < 0) {
    return Bad(where,
               absl::StrCat(name, " must be a whole number from 0; got \"",
                            text, "\""));
  }
  return n;
}

// The local (Stockholm) day of an iCalendar date or date-time: a UTC time
// converted, a floating or zoned one taken as written (a Swedish booking
// system's zone is Stockholm's).
absl::CivilDay DayOf(const icaltimetype& t) {
  if (!t.is_date && icaltime_is_utc(t)) {
    const absl::Time instant = absl::FromCivil(
        absl::CivilSecond(t.year, t.month, t.day, t.hour, t.minute, t.second),
        absl::UTCTimeZone());
    return absl::ToCivilDay(instant, Stockholm());
  }
  return absl::CivilDay(t.year, t.month, t.day);
}

absl::StatusOr<Schedule> ParseICalendar(absl::string_view text) {
  const std::string copy(text);
  std::unique_ptr<icalcomponent, void (*)(icalcomponent*)> calendar(
      icalparser_parse_string(copy.c_str()), icalcomponent_free);
  if (calendar == nullptr) {
    return absl::InvalidArgumentError("not iCalendar (RFC 5545) text");
  }
  Schedule schedule;
  int index = 0;
  for (icalcomponent* event = icalcomponent_get_first_component(
           calendar.get(), ICAL_VEVENT_COMPONENT);
       event != nullptr; event = icalcomponent_get_next_component(
                             calendar.get(), ICAL_VEVENT_COMPONENT)) {
    ++index;
    const char* uid = icalcomponent_get_uid(event);
    const std::string where = uid != nullptr
                                  ? absl::StrCat("event ", uid)
                                  : absl::StrCat("event ", index, " (no UID)");
    if (icalproperty* error =
            icalcomponent_get_first_property(event, ICAL_XLICERROR_PROPERTY)) {
      return Bad(where, icalproperty_get_xlicerror(error));
    }
    if (icalcomponent_get_status(event) == ICAL_STATUS_CANCELLED) continue;
    const icaltimetype start = icalcomponent_get_dtstart(event);
    if (icaltime_is_null_time(start)) return Bad(where, "has no DTSTART");
    ScheduleEntry entry;
    entry.where = where;
    entry.start = DayOf(start);
    const icaltimetype end = icalcomponent_get_dtend(event);
    if (!icaltime_is_null_time(end)) entry.end = DayOf(end);
    bool sized = false;
    for (icalproperty* p =
             icalcomponent_get_first_property(event, ICAL_X_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(event, ICAL_X_PROPERTY)) {
      const std::string name =
          absl::AsciiStrToUpper(icalproperty_get_x_name(p));
      const char* value = icalproperty_get_x(p);
      const absl::string_view text = value == nullptr ? "" : value;
      int* field = name == "X-SLUSSEN-MAX-SIZE"   ? &entry.max_size
                   : name == "X-SLUSSEN-MIN-SIZE" ? &entry.min_size
                   : name == "X-SLUSSEN-PLACES"   ? &entry.places
                   : name == "X-SLUSSEN-CASES"    ? &entry.cases
                                                  : nullptr;
      if (field == nullptr) continue;
      absl::StatusOr<int> n = Count(where, name, text);
      if (!n.ok()) return n.status();
      *field = *n;
      sized = true;
    }
    if (!sized) {
      return Bad(where,
                 "says no size: give X-SLUSSEN-MAX-SIZE (a cohort), "
                 "X-SLUSSEN-PLACES or X-SLUSSEN-CASES");
    }
    schedule.entries.push_back(std::move(entry));
  }
  return schedule;
}

absl::StatusOr<Schedule> ParseCsvSchedule(absl::string_view text) {
  absl::StatusOr<cli::CsvTable> table = cli::ParseCsv(text);
  if (!table.ok()) return table.status();
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < table->header.size(); ++i) {
    column[table->header[i]] = i;
  }
  for (const auto& [name, i] : column) {
    if (name != "start_date" && name != "end_date" && name != "min_size" &&
        name != "max_size" && name != "places" && name != "cases") {
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", name,
          " is none of start_date, end_date, min_size, max_size, places, "
          "cases"));
    }
  }
  if (column.count("start_date") == 0) {
    return absl::InvalidArgumentError("the CSV has no start_date column");
  }
  Schedule schedule;
  for (size_t r = 0; r < table->rows.size(); ++r) {
    const std::vector<std::string>& row = table->rows[r];
    ScheduleEntry entry;
    entry.where = absl::StrCat("line ", table->lines[r]);
    const auto cell = [&](const char* name) -> std::string {
      const auto it = column.find(name);
      return it == column.end()
                 ? ""
                 : std::string(absl::StripAsciiWhitespace(row[it->second]));
    };
    if (!absl::ParseCivilTime(cell("start_date"), &entry.start)) {
      return Bad(entry.where,
                 absl::StrCat("start_date must be a date such as 2027-03-01; "
                              "got \"",
                              cell("start_date"), "\""));
    }
    if (const std::string end = cell("end_date"); !end.empty()) {
      absl::CivilDay day;
      if (!absl::ParseCivilTime(end, &day)) {
        return Bad(entry.where,
                   absl::StrCat("end_date must be a date; got \"", end, "\""));
      }
      entry.end = day;
    }
    for (const auto& [name, field] : std::vector<std::pair<const char*, int*>>{
             {"min_size", &entry.min_size},
             {"max_size", &entry.max_size},
             {"places", &entry.places},
             {"cases", &entry.cases}}) {
      const std::string text = cell(name);
      if (text.empty()) continue;
      absl::StatusOr<int> n = Count(entry.where, name, text);
      if (!n.ok()) return n.status();
      *field = *n;
    }
    schedule.entries.push_back(std::move(entry));
  }
  return schedule;
}

v1::Date ToDate(absl::CivilDay day) {
  v1::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::CivilDay FromDate(const v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

bool Running(const ScheduleEntry& entry, absl::CivilDay today) {
  return entry.start <= today && (!entry.end || today < *entry.end);
}

}  // namespace

absl::StatusOr<Schedule> ParseSchedule(absl::string_view text) {
  absl::string_view start = absl::StripLeadingAsciiWhitespace(text);
  absl::ConsumePrefix(&start, "\xEF\xBB\xBF");
  if (absl::StartsWithIgnoreCase(start, "BEGIN:VCALENDAR")) {
    return ParseICalendar(text);
  }
  return ParseCsvSchedule(text);
}

absl::StatusOr<v1::Capacity> CapacityFor(const Schedule& schedule,
                                         const v1::Offering& offering,
                                         absl::CivilDay today) {
  bool places = false;
  bool cases = false;
  for (const ScheduleEntry& e : schedule.entries) {
    places = places || e.places > 0;
    cases = cases || e.cases > 0;
  }
  const v1::Capacity& now = offering.capacity();
  v1::Capacity capacity;
  if (places || now.has_places()) {
    int total = 0;
    for (const ScheduleEntry& e : schedule.entries) {
      if (Running(e, today)) total += e.places;
    }
    const int taken = now.places().occupied() + now.places().held();
    if (total < taken) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the schedule gives ", total, " places today, but ", taken,
          " are taken (", now.places().occupied(), " occupied, ",
          now.places().held(), " held): not published"));
    }
    capacity.mutable_places()->set_total(total);
    return capacity;
  }
  if (cases || now.has_caseload()) {
    int total = 0;
    for (const ScheduleEntry& e : schedule.entries) {
      if (Running(e, today)) total += e.cases;
    }
    const int taken = now.caseload().open_cases() + now.caseload().held();
    if (total < taken) {
      return absl::FailedPreconditionError(
          absl::StrCat("the schedule gives ", total, " open cases today, but ",
                       taken, " are taken: not published"));
    }
    capacity.mutable_caseload()->set_max_open_cases(total);
    return capacity;
  }
  // Cohorts: those starting from today; a published one of the same start
  // keeps its name.
  std::map<absl::CivilDay, const v1::Cohort*> published;
  for (const v1::Cohort& c : now.cohorts().cohorts()) {
    published[FromDate(c.start_date())] = &c;
  }
  std::map<absl::CivilDay, const ScheduleEntry*> wanted;
  for (const ScheduleEntry& e : schedule.entries) {
    if (e.start < today) continue;
    if (e.max_size <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(e.where, ": a cohort needs its size (max_size)"));
    }
    if (!wanted.emplace(e.start, &e).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(e.where, ": another cohort starts the same day, ",
                       absl::FormatCivilTime(e.start)));
    }
  }
  for (const auto& [day, cohort] : published) {
    if (day < today) continue;  // started: kept as it is, below
    const int taken = cohort->enrolled() + cohort->held();
    const auto it = wanted.find(day);
    if (taken > 0 && it == wanted.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cohort ", cohort->name(), " (starts ", absl::FormatCivilTime(day),
          ") has ", cohort->enrolled(), " enrolled and ", cohort->held(),
          " held, and the schedule leaves it out: not published"));
    }
    if (it != wanted.end() && it->second->max_size < taken) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cohort ", cohort->name(), " (starts ", absl::FormatCivilTime(day),
          ") has ", taken, " taken, and ", it->second->where, " makes it ",
          it->second->max_size, ": not published"));
    }
  }
  v1::CohortCapacity* cohorts = capacity.mutable_cohorts();
  // Cohorts that have started are history the schedule no longer says:
  // kept as published.
  for (const auto& [day, cohort] : published) {
    if (day >= today) continue;
    v1::Cohort* kept = cohorts->add_cohorts();
    kept->set_name(cohort->name());
    *kept->mutable_start_date() = cohort->start_date();
    kept->set_min_size(cohort->min_size());
    kept->set_max_size(cohort->max_size());
  }
  for (const auto& [day, entry] : wanted) {
    v1::Cohort* c = cohorts->add_cohorts();
    if (const auto it = published.find(day); it != published.end()) {
      c->set_name(it->second->name());
    }
    *c->mutable_start_date() = ToDate(day);
    c->set_max_size(entry->max_size);
    c->set_min_size(entry->min_size > 0 ? entry->min_size : entry->max_size);
  }
  return capacity;
}

bool SameCapacity(const v1::Capacity& published, const v1::Capacity& wanted) {
  if (wanted.has_places()) {
    return published.has_places() &&
           published.places().total() == wanted.places().total();
  }
  if (wanted.has_caseload()) {
    return published.has_caseload() && published.caseload().max_open_cases() ==
                                           wanted.caseload().max_open_cases();
  }
  if (!published.has_cohorts() ||
      published.cohorts().cohorts_size() != wanted.cohorts().cohorts_size()) {
    return false;
  }
  for (int i = 0; i < wanted.cohorts().cohorts_size(); ++i) {
    const v1::Cohort& a = published.cohorts().cohorts(i);
    const v1::Cohort& b = wanted.cohorts().cohorts(i);
    if (a.name() != b.name() ||
        FromDate(a.start_date()) != FromDate(b.start_date()) ||
        a.min_size() != b.min_size() || a.max_size() != b.max_size()) {
      return false;
    }
  }
  return true;
}

bool DueForRefresh(const v1::Offering& offering, absl::Time now) {
  const v1::Capacity& c = offering.capacity();
  if (c.stale() || !c.has_update_time()) return true;
  const int days =
      offering.stale_after_days() > 0 ? offering.stale_after_days() : 14;
  const absl::Time published = absl::FromUnixSeconds(c.update_time().seconds());
  return now - published > absl::Hours(24) * days / 2;
}

}  // namespace slussen::agent
