// The provider agent's pure part: a booking system's schedule (iCalendar or
// CSV) into the capacity to publish. The agent against a real broker is
// tests/e2e/provider_agent_test.sh.
#include "providers/agent/schedule.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::agent {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

constexpr char kCalendar[] =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bokning//SV\r\n"
    "BEGIN:VEVENT\r\nUID:mars\r\nDTSTAMP:20261201T080000Z\r\n"
    "DTSTART;VALUE=DATE:20270301\r\nSUMMARY:Hälsosam kom igång, en lång\r\n"
    " rubrik som fortsätter\r\nX-SLUSSEN-MAX-SIZE:12\r\n"
    "X-SLUSSEN-MIN-SIZE:6\r\nEND:VEVENT\r\n"
    // A UTC time late on 31 March is 1 April in Stockholm.
    "BEGIN:VEVENT\r\nUID:april\r\nDTSTAMP:20261201T080000Z\r\n"
    "DTSTART:20270331T230000Z\r\nX-SLUSSEN-MAX-SIZE:10\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:inställd\r\nDTSTAMP:20261201T080000Z\r\n"
    "DTSTART;VALUE=DATE:20270510\r\nSTATUS:CANCELLED\r\n"
    "X-SLUSSEN-MAX-SIZE:12\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n";

TEST(ParseSchedule, ICalendarEventsWithTheirSizes) {
  const absl::StatusOr<Schedule> schedule = ParseSchedule(kCalendar);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  ASSERT_EQ(schedule->entries.size(), 2u);  // the cancelled one left out
  EXPECT_EQ(schedule->entries[0].start, absl::CivilDay(2027, 3, 1));
  EXPECT_EQ(schedule->entries[0].max_size, 12);
  EXPECT_EQ(schedule->entries[0].min_size, 6);
  EXPECT_EQ(schedule->entries[0].where, "event mars");
  EXPECT_EQ(schedule->entries[1].start, absl::CivilDay(2027, 4, 1));
}

TEST(ParseSchedule, AnEventWithoutSizeOrStartIsNamed) {
  EXPECT_THAT(ParseSchedule("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"
                            "DTSTART;VALUE=DATE:20270301\r\nEND:VEVENT\r\n"
                            "END:VCALENDAR\r\n")
                  .status()
                  .message(),
              HasSubstr("event x: says no size"));
  EXPECT_THAT(ParseSchedule("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:y\r\n"
                            "X-SLUSSEN-PLACES:3\r\nEND:VEVENT\r\n"
                            "END:VCALENDAR\r\n")
                  .status()
                  .message(),
              HasSubstr("event y: has no DTSTART"));
  EXPECT_THAT(ParseSchedule("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\n"
                            "DTSTART;VALUE=DATE:20270301\r\n"
                            "X-SLUSSEN-MAX-SIZE:tolv\r\nEND:VEVENT\r\n"
                            "END:VCALENDAR\r\n")
                  .status()
                  .message(),
              HasSubstr("event z: X-SLUSSEN-MAX-SIZE must be a whole number"));
}

TEST(ParseSchedule, Csv) {
  const absl::StatusOr<Schedule> schedule = ParseSchedule(
      "start_date;end_date;places\n2026-11-01;2027-01-01;5\n2026-12-01;;3\n");
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  ASSERT_EQ(schedule->entries.size(), 2u);
  EXPECT_EQ(schedule->entries[0].end, absl::CivilDay(2027, 1, 1));
  EXPECT_EQ(schedule->entries[1].places, 3);
  EXPECT_THAT(ParseSchedule("start;places\n2026-11-01;5\n").status().message(),
              HasSubstr("column start is none of"));
  EXPECT_THAT(ParseSchedule("start_date;places\n1 nov;5\n").status().message(),
              HasSubstr("line 2: start_date must be a date"));
}

v1::Cohort Published(const std::string& id, absl::CivilDay start, int max,
                     int enrolled, int held) {
  v1::Cohort c;
  c.set_name("providers/p/offerings/o/cohorts/" + id);
  c.mutable_start_date()->set_year(static_cast<int>(start.year()));
  c.mutable_start_date()->set_month(start.month());
  c.mutable_start_date()->set_day(start.day());
  c.set_min_size(6);
  c.set_max_size(max);
  c.set_enrolled(enrolled);
  c.set_held(held);
  return c;
}

ScheduleEntry Cohort(absl::CivilDay start, int max) {
  ScheduleEntry e;
  e.where = "event " + absl::FormatCivilTime(start);
  e.start = start;
  e.max_size = max;
  e.min_size = 6;
  return e;
}

TEST(CapacityFor, CohortsKeepTheirNamesByStartAndStartedOnesStay) {
  const absl::CivilDay today(2027, 2, 1);
  v1::Offering offering;
  auto* published = offering.mutable_capacity()->mutable_cohorts();
  *published->add_cohorts() =
      Published("jan", absl::CivilDay(2027, 1, 11), 12, 9, 0);  // started
  *published->add_cohorts() =
      Published("mars", absl::CivilDay(2027, 3, 1), 12, 2, 1);
  Schedule schedule;
  schedule.entries = {Cohort(absl::CivilDay(2027, 3, 1), 10),
                      Cohort(absl::CivilDay(2027, 4, 12), 12),
                      Cohort(absl::CivilDay(2027, 1, 11), 12)};  // past
  const absl::StatusOr<v1::Capacity> capacity =
      CapacityFor(schedule, offering, today);
  ASSERT_TRUE(capacity.ok()) << capacity.status();
  ASSERT_EQ(capacity->cohorts().cohorts_size(), 3);
  EXPECT_EQ(capacity->cohorts().cohorts(0).name(),
            "providers/p/offerings/o/cohorts/jan");
  EXPECT_EQ(capacity->cohorts().cohorts(1).name(),
            "providers/p/offerings/o/cohorts/mars");
  EXPECT_EQ(capacity->cohorts().cohorts(1).max_size(), 10);
  EXPECT_EQ(capacity->cohorts().cohorts(2).name(), "");  // new
  EXPECT_FALSE(SameCapacity(offering.capacity(), *capacity));
  EXPECT_TRUE(SameCapacity(*capacity, *capacity));
}

TEST(CapacityFor, NeverBelowWhatIsTakenNamingTheCohort) {
  const absl::CivilDay today(2027, 2, 1);
  v1::Offering offering;
  *offering.mutable_capacity()->mutable_cohorts()->add_cohorts() =
      Published("mars", absl::CivilDay(2027, 3, 1), 12, 2, 1);
  Schedule dropped;
  dropped.entries = {Cohort(absl::CivilDay(2027, 4, 12), 12)};
  const absl::Status left_out = CapacityFor(dropped, offering, today).status();
  EXPECT_EQ(left_out.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(left_out.message(),
              HasSubstr("cohort providers/p/offerings/o/cohorts/mars (starts "
                        "2027-03-01) has 2 enrolled and 1 held"));
  Schedule shrunk;
  shrunk.entries = {Cohort(absl::CivilDay(2027, 3, 1), 2)};
  EXPECT_THAT(CapacityFor(shrunk, offering, today).status().message(),
              HasSubstr("has 3 taken, and event 2027-03-01 makes it 2"));
}

TEST(CapacityFor, PlacesOfTheBlocksRunningToday) {
  const absl::CivilDay today(2027, 2, 1);
  v1::Offering offering;
  offering.mutable_capacity()->mutable_places()->set_occupied(6);
  ScheduleEntry a;
  a.start = absl::CivilDay(2027, 1, 1);
  a.end = absl::CivilDay(2027, 3, 1);
  a.places = 5;
  ScheduleEntry b = a;
  b.end.reset();
  b.places = 3;
  ScheduleEntry ended = a;
  ended.end = absl::CivilDay(2027, 2, 1);  // DTEND is the first day not run
  ScheduleEntry future = b;
  future.start = absl::CivilDay(2027, 2, 2);
  Schedule schedule;
  schedule.entries = {a, b, ended, future};
  const absl::StatusOr<v1::Capacity> capacity =
      CapacityFor(schedule, offering, today);
  ASSERT_TRUE(capacity.ok()) << capacity.status();
  EXPECT_EQ(capacity->places().total(), 8);
  offering.mutable_capacity()->mutable_places()->set_held(3);
  EXPECT_THAT(CapacityFor(schedule, offering, today).status().message(),
              HasSubstr("gives 8 places today, but 9 are taken"));
}

TEST(DueForRefresh, BeforeHalfTheStaleLimitNotAfter) {
  v1::Offering offering;
  offering.set_stale_after_days(14);
  const absl::Time published = absl::FromUnixSeconds(1800000000);
  offering.mutable_capacity()->mutable_update_time()->set_seconds(1800000000);
  EXPECT_FALSE(DueForRefresh(offering, published + absl::Hours(24 * 6)));
  EXPECT_TRUE(DueForRefresh(offering, published + absl::Hours(24 * 8)));
  offering.mutable_capacity()->set_stale(true);
  EXPECT_TRUE(DueForRefresh(offering, published));
  EXPECT_TRUE(DueForRefresh(v1::Offering(), published));  // never published
}

}  // namespace
}  // namespace slussen::agent
