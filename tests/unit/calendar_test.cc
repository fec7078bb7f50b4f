#include "broker/core/model/calendar.h"

#include <cstdlib>
#include <optional>
#include <ostream>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {

// Found by GoogleTest through argument-dependent lookup, hence outside the
// anonymous namespace: failures print "2026-04-03 långfredagen".
void PrintTo(const Holiday& holiday, std::ostream* os) {
  *os << holiday.day << " " << holiday.name;
}

namespace {

using ::absl::CivilDay;
using ::testing::ElementsAreArray;

// Expected instants are written in UTC, so they do not depend on the time
// zone conversion under test. Stockholm is UTC+1 (CET) in winter and UTC+2
// (CEST) in summer: local midnight is 23:00Z or 22:00Z the day before.
absl::Time Utc(int y, int mo, int d, int h, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

class SwedishCalendarTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SwedishCalendar> calendar = SwedishCalendar::Create();
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_.emplace(*calendar);
  }

  const SwedishCalendar& calendar() const { return *calendar_; }

  // An instant given in Stockholm local time.
  absl::Time Local(int y, int mo, int d, int h, int mi = 0, int s = 0) const {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                           calendar().time_zone());
  }

 private:
  std::optional<SwedishCalendar> calendar_;
};

// ---------------------------------------------------------------------------
// Holidays, against a table written by hand (weekdays of the movable dates
// checked with `date -d`; Easter Sundays from published tables).

struct Expected {
  int year, month, day;
  absl::string_view name;
};

std::vector<Holiday> ToHolidays(const std::vector<Expected>& table, int year) {
  std::vector<Holiday> holidays;
  for (const Expected& e : table) {
    if (e.year == year) {
      holidays.push_back({CivilDay(e.year, e.month, e.day), e.name});
    }
  }
  return holidays;
}

const std::vector<Expected>& HandWrittenHolidays() {
  static const auto* const kTable = new std::vector<Expected>{
      {2024, 1, 1, "nyårsdagen"},
      {2024, 1, 6, "trettondedag jul"},
      {2024, 3, 29, "långfredagen"},
      {2024, 3, 31, "påskdagen"},
      {2024, 4, 1, "annandag påsk"},
      {2024, 5, 1, "första maj"},
      {2024, 5, 9, "Kristi himmelsfärdsdag"},
      {2024, 5, 19, "pingstdagen"},
      {2024, 6, 6, "nationaldagen"},
      {2024, 6, 21, "midsommarafton"},
      {2024, 6, 22, "midsommardagen"},
      {2024, 11, 2, "alla helgons dag"},
      {2024, 12, 24, "julafton"},
      {2024, 12, 25, "juldagen"},
      {2024, 12, 26, "annandag jul"},
      {2024, 12, 31, "nyårsafton"},

      {2025, 1, 1, "nyårsdagen"},
      {2025, 1, 6, "trettondedag jul"},
      {2025, 4, 18, "långfredagen"},
      {2025, 4, 20, "påskdagen"},
      {2025, 4, 21, "annandag påsk"},
      {2025, 5, 1, "första maj"},
      {2025, 5, 29, "Kristi himmelsfärdsdag"},
      {2025, 6, 6, "nationaldagen"},
      {2025, 6, 8, "pingstdagen"},
      {2025, 6, 20, "midsommarafton"},
      {2025, 6, 21, "midsommardagen"},
      {2025, 11, 1, "alla helgons dag"},
      {2025, 12, 24, "julafton"},
      {2025, 12, 25, "juldagen"},
      {2025, 12, 26, "annandag jul"},
      {2025, 12, 31, "nyårsafton"},

      {2026, 1, 1, "nyårsdagen"},
      {2026, 1, 6, "trettondedag jul"},
      {2026, 4, 3, "långfredagen"},
      {2026, 4, 5, "påskdagen"},
      {2026, 4, 6, "annandag påsk"},
      {2026, 5, 1, "första maj"},
      {2026, 5, 14, "Kristi himmelsfärdsdag"},
      {2026, 5, 24, "pingstdagen"},
      {2026, 6, 6, "nationaldagen"},
      {2026, 6, 19, "midsommarafton"},
      {2026, 6, 20, "midsommardagen"},
      {2026, 10, 31, "alla helgons dag"},
      {2026, 12, 24, "julafton"},
      {2026, 12, 25, "juldagen"},
      {2026, 12, 26, "annandag jul"},
      {2026, 12, 31, "nyårsafton"},

      {2027, 1, 1, "nyårsdagen"},
      {2027, 1, 6, "trettondedag jul"},
      {2027, 3, 26, "långfredagen"},
      {2027, 3, 28, "påskdagen"},
      {2027, 3, 29, "annandag påsk"},
      {2027, 5, 1, "första maj"},
      {2027, 5, 6, "Kristi himmelsfärdsdag"},
      {2027, 5, 16, "pingstdagen"},
      {2027, 6, 6, "nationaldagen"},
      {2027, 6, 25, "midsommarafton"},
      {2027, 6, 26, "midsommardagen"},
      {2027, 11, 6, "alla helgons dag"},
      {2027, 12, 24, "julafton"},
      {2027, 12, 25, "juldagen"},
      {2027, 12, 26, "annandag jul"},
      {2027, 12, 31, "nyårsafton"},

      {2028, 1, 1, "nyårsdagen"},
      {2028, 1, 6, "trettondedag jul"},
      {2028, 4, 14, "långfredagen"},
      {2028, 4, 16, "påskdagen"},
      {2028, 4, 17, "annandag påsk"},
      {2028, 5, 1, "första maj"},
      {2028, 5, 25, "Kristi himmelsfärdsdag"},
      {2028, 6, 4, "pingstdagen"},
      {2028, 6, 6, "nationaldagen"},
      {2028, 6, 23, "midsommarafton"},
      {2028, 6, 24, "midsommardagen"},
      {2028, 11, 4, "alla helgons dag"},
      {2028, 12, 24, "julafton"},
      {2028, 12, 25, "juldagen"},
      {2028, 12, 26, "annandag jul"},
      {2028, 12, 31, "nyårsafton"},

      {2029, 1, 1, "nyårsdagen"},
      {2029, 1, 6, "trettondedag jul"},
      {2029, 3, 30, "långfredagen"},
      {2029, 4, 1, "påskdagen"},
      {2029, 4, 2, "annandag påsk"},
      {2029, 5, 1, "första maj"},
      {2029, 5, 10, "Kristi himmelsfärdsdag"},
      {2029, 5, 20, "pingstdagen"},
      {2029, 6, 6, "nationaldagen"},
      {2029, 6, 22, "midsommarafton"},
      {2029, 6, 23, "midsommardagen"},
      {2029, 11, 3, "alla helgons dag"},
      {2029, 12, 24, "julafton"},
      {2029, 12, 25, "juldagen"},
      {2029, 12, 26, "annandag jul"},
      {2029, 12, 31, "nyårsafton"},

      {2030, 1, 1, "nyårsdagen"},
      {2030, 1, 6, "trettondedag jul"},
      {2030, 4, 19, "långfredagen"},
      {2030, 4, 21, "påskdagen"},
      {2030, 4, 22, "annandag påsk"},
      {2030, 5, 1, "första maj"},
      {2030, 5, 30, "Kristi himmelsfärdsdag"},
      {2030, 6, 6, "nationaldagen"},
      {2030, 6, 9, "pingstdagen"},
      {2030, 6, 21, "midsommarafton"},
      {2030, 6, 22, "midsommardagen"},
      {2030, 11, 2, "alla helgons dag"},
      {2030, 12, 24, "julafton"},
      {2030, 12, 25, "juldagen"},
      {2030, 12, 26, "annandag jul"},
      {2030, 12, 31, "nyårsafton"},

      {2031, 1, 1, "nyårsdagen"},
      {2031, 1, 6, "trettondedag jul"},
      {2031, 4, 11, "långfredagen"},
      {2031, 4, 13, "påskdagen"},
      {2031, 4, 14, "annandag påsk"},
      {2031, 5, 1, "första maj"},
      {2031, 5, 22, "Kristi himmelsfärdsdag"},
      {2031, 6, 1, "pingstdagen"},
      {2031, 6, 6, "nationaldagen"},
      {2031, 6, 20, "midsommarafton"},
      {2031, 6, 21, "midsommardagen"},
      {2031, 11, 1, "alla helgons dag"},
      {2031, 12, 24, "julafton"},
      {2031, 12, 25, "juldagen"},
      {2031, 12, 26, "annandag jul"},
      {2031, 12, 31, "nyårsafton"},

      {2032, 1, 1, "nyårsdagen"},
      {2032, 1, 6, "trettondedag jul"},
      {2032, 3, 26, "långfredagen"},
      {2032, 3, 28, "påskdagen"},
      {2032, 3, 29, "annandag påsk"},
      {2032, 5, 1, "första maj"},
      {2032, 5, 6, "Kristi himmelsfärdsdag"},
      {2032, 5, 16, "pingstdagen"},
      {2032, 6, 6, "nationaldagen"},
      {2032, 6, 25, "midsommarafton"},
      {2032, 6, 26, "midsommardagen"},
      {2032, 11, 6, "alla helgons dag"},
      {2032, 12, 24, "julafton"},
      {2032, 12, 25, "juldagen"},
      {2032, 12, 26, "annandag jul"},
      {2032, 12, 31, "nyårsafton"},
  };
  return *kTable;
}

TEST(SwedishCalendarHolidaysTest, HandTableHasSixteenPerYear) {
  // Guards the table itself against a lost or doubled line.
  for (int year = 2024; year <= 2032; ++year) {
    EXPECT_EQ(ToHolidays(HandWrittenHolidays(), year).size(), 16u) << year;
  }
}

TEST(SwedishCalendarHolidaysTest, HolidaysOf2024To2032MatchHandTable) {
  for (int year = 2024; year <= 2032; ++year) {
    EXPECT_THAT(SwedishCalendar::Holidays(year),
                ElementsAreArray(ToHolidays(HandWrittenHolidays(), year)))
        << year;
  }
}

TEST(SwedishCalendarHolidaysTest, HolidayNameFindsEveryTableDate) {
  for (const Expected& e : HandWrittenHolidays()) {
    const CivilDay day(e.year, e.month, e.day);
    EXPECT_EQ(SwedishCalendar::HolidayName(day), e.name) << day;
    EXPECT_FALSE(SwedishCalendar::IsWorkingDay(day)) << day;
  }
}

TEST(SwedishCalendarHolidaysTest, NoOtherDayOf2024To2032IsAHoliday) {
  // Every day not in the table, scanned: catches extra holidays that
  // Holidays() might hide (HolidayName is what IsWorkingDay uses).
  int holidays_found = 0;
  for (CivilDay day(2024, 1, 1); day <= CivilDay(2032, 12, 31); ++day) {
    if (!SwedishCalendar::HolidayName(day).empty()) ++holidays_found;
  }
  EXPECT_EQ(holidays_found, 9 * 16);
}

TEST(SwedishCalendarHolidaysTest, EasterSundayMatchesPublishedDates) {
  EXPECT_EQ(SwedishCalendar::EasterSunday(2024), CivilDay(2024, 3, 31));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2025), CivilDay(2025, 4, 20));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2026), CivilDay(2026, 4, 5));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2027), CivilDay(2027, 3, 28));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2028), CivilDay(2028, 4, 16));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2029), CivilDay(2029, 4, 1));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2030), CivilDay(2030, 4, 21));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2031), CivilDay(2031, 4, 13));
  EXPECT_EQ(SwedishCalendar::EasterSunday(2032), CivilDay(2032, 3, 28));
  // Extremes of the Gregorian range: 22 March 1818, 25 April 1943.
  EXPECT_EQ(SwedishCalendar::EasterSunday(1818), CivilDay(1818, 3, 22));
  EXPECT_EQ(SwedishCalendar::EasterSunday(1943), CivilDay(1943, 4, 25));
}

TEST(SwedishCalendarHolidaysTest, CoincidingHolidaysIn2008AreBothListed) {
  // Easter 2008 was 23 March, so Kristi himmelsfärdsdag fell on första maj.
  const CivilDay may_first(2008, 5, 1);
  EXPECT_EQ(SwedishCalendar::HolidayName(may_first), "första maj");
  std::vector<absl::string_view> names_on_may_first;
  for (const Holiday& holiday : SwedishCalendar::Holidays(2008)) {
    if (holiday.day == may_first) names_on_may_first.push_back(holiday.name);
  }
  EXPECT_THAT(names_on_may_first,
              testing::ElementsAre("första maj", "Kristi himmelsfärdsdag"));
  // The shared date is one non-working day, not two: Wed 30 Apr to Fri 2 May.
  EXPECT_EQ(SwedishCalendar::WorkingDaysBetween(CivilDay(2008, 4, 30),
                                                CivilDay(2008, 5, 2)),
            1);
}

TEST(SwedishCalendarHolidaysTest, EvesAndOrdinaryDaysThatAreNotHolidays) {
  // Skärtorsdagen, valborgsmässoafton, trettondagsafton and annandag pingst
  // (not a holiday since 2005) are ordinary working days.
  for (const CivilDay day :
       {CivilDay(2026, 4, 2), CivilDay(2026, 4, 30), CivilDay(2026, 1, 5),
        CivilDay(2026, 5, 25), CivilDay(2026, 12, 28)}) {
    EXPECT_TRUE(SwedishCalendar::IsWorkingDay(day)) << day;
    EXPECT_EQ(SwedishCalendar::HolidayName(day), "") << day;
  }
}

TEST(SwedishCalendarHolidaysTest, WeekendsAreNotWorkingDaysButNotHolidays) {
  const CivilDay saturday(2026, 3, 7);
  const CivilDay sunday(2026, 3, 8);
  EXPECT_FALSE(SwedishCalendar::IsWorkingDay(saturday));
  EXPECT_FALSE(SwedishCalendar::IsWorkingDay(sunday));
  EXPECT_EQ(SwedishCalendar::HolidayName(saturday), "");
  EXPECT_EQ(SwedishCalendar::HolidayName(sunday), "");
}

// ---------------------------------------------------------------------------
// Working-day deadlines.

TEST_F(SwedishCalendarTest, ImpulseOnDecember23IsDueEndOfDecember30) {
  // 24 julafton, 25 juldagen, 26 annandag jul (Sat), 27 Sun; 28, 29, 30.
  EXPECT_EQ(SwedishCalendar::AddWorkingDays(CivilDay(2026, 12, 23), 3),
            CivilDay(2026, 12, 30));
  const absl::Time end_of_december_30 = Utc(2026, 12, 30, 23);
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 12, 23, 10, 15), 3),
            end_of_december_30);
}

TEST_F(SwedishCalendarTest, TimeOfArrivalWithinTheLocalDayDoesNotMatter) {
  const absl::Time due = Utc(2026, 12, 30, 23);
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 12, 23, 0, 0, 0), 3),
            due);
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 12, 23, 23, 59, 59), 3),
            due);
  EXPECT_EQ(calendar().WorkingDaysDeadline(
                Local(2026, 12, 23, 23, 59, 59) + absl::Milliseconds(999), 3),
            due);
  // One second earlier is the day before: 23, 28, 29.
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 12, 22, 23, 59, 59), 3),
            Utc(2026, 12, 29, 23));
}

TEST_F(SwedishCalendarTest, ArrivalDayIsTheStockholmDayNotTheUtcDay) {
  // 22 Dec 23:30 UTC is 23 Dec 00:30 in Stockholm.
  EXPECT_EQ(calendar().WorkingDaysDeadline(Utc(2026, 12, 22, 23, 30), 3),
            Utc(2026, 12, 30, 23));
}

TEST_F(SwedishCalendarTest, ArrivalOnSaturdayCountsFromMonday) {
  // Sat 3 Jan 2026: Mon 5 (1), Tue 6 trettondedag jul, Wed 7 (2), Thu 8 (3).
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 1, 3, 12), 3),
            Utc(2026, 1, 8, 23));
}

TEST_F(SwedishCalendarTest, ArrivalOnSundaySkipsKristiHimmelsfardsdag) {
  // Sun 10 May 2026: 11, 12, 13, Thu 14 Kristi himmelsfärdsdag, Fri 15 (4).
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 5, 10, 9), 4),
            Utc(2026, 5, 15, 22));
}

TEST_F(SwedishCalendarTest, ArrivalOnLangfredagenCountsFromTuesdayAfter) {
  // Fri 3 Apr 2026: Sat, påskdagen, annandag påsk, then Tue 7 (1), Thu 9 (3).
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 4, 3, 8), 1),
            Utc(2026, 4, 7, 22));
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 4, 3, 8), 3),
            Utc(2026, 4, 9, 22));
}

TEST_F(SwedishCalendarTest, MidsommaraftonIsNotAWorkingDay) {
  // Arriving on midsommarafton (Fri 19 Jun 2026) or the day before, the
  // first working day is Mon 22 Jun.
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 6, 19, 16), 1),
            Utc(2026, 6, 22, 22));
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 6, 18, 16), 1),
            Utc(2026, 6, 22, 22));
}

TEST_F(SwedishCalendarTest, ZeroWorkingDaysIsTheEndOfTheArrivalDay) {
  const CivilDay sunday(2026, 3, 8);
  EXPECT_EQ(SwedishCalendar::AddWorkingDays(sunday, 0), sunday);
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 3, 8, 11), 0),
            Utc(2026, 3, 8, 23));
}

TEST(SwedishCalendarPreconditionTest, NegativeCountIsAProgrammingError) {
  const CivilDay day(2026, 3, 9);
  EXPECT_DEBUG_DEATH(
      static_cast<void>(SwedishCalendar::AddWorkingDays(day, -1)), "n must be");
#ifdef NDEBUG
  // Release builds clamp to 0: early, never late.
  EXPECT_EQ(SwedishCalendar::AddWorkingDays(day, -1), day);
#endif
}

// ---------------------------------------------------------------------------
// Daylight saving: 2026-03-29 02:00 CET -> 03:00 CEST (at 01:00 UTC),
// 2026-10-25 03:00 CEST -> 02:00 CET (at 01:00 UTC).

TEST_F(SwedishCalendarTest, SpringForwardDayHas23Hours) {
  const CivilDay day(2026, 3, 29);
  EXPECT_EQ(calendar().StartOfDay(day), Utc(2026, 3, 28, 23));
  EXPECT_EQ(calendar().EndOfDay(day), Utc(2026, 3, 29, 22));
  EXPECT_EQ(calendar().EndOfDay(day) - calendar().StartOfDay(day),
            absl::Hours(23));
}

TEST_F(SwedishCalendarTest, FallBackDayHas25Hours) {
  const CivilDay day(2026, 10, 25);
  EXPECT_EQ(calendar().StartOfDay(day), Utc(2026, 10, 24, 22));
  EXPECT_EQ(calendar().EndOfDay(day), Utc(2026, 10, 25, 23));
  EXPECT_EQ(calendar().EndOfDay(day) - calendar().StartOfDay(day),
            absl::Hours(25));
}

TEST_F(SwedishCalendarTest, LocalDayAroundTheSwitches) {
  // Around the switch instants themselves.
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 3, 29, 0, 59, 59)),
            CivilDay(2026, 3, 29));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 3, 29, 1)), CivilDay(2026, 3, 29));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 10, 25, 0, 59, 59)),
            CivilDay(2026, 10, 25));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 10, 25, 1)), CivilDay(2026, 10, 25));
  // Around local midnight, where a fixed offset would be an hour off.
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 3, 29, 21, 59, 59)),
            CivilDay(2026, 3, 29));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 3, 29, 22)), CivilDay(2026, 3, 30));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 10, 24, 21, 59, 59)),
            CivilDay(2026, 10, 24));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 10, 24, 22)), CivilDay(2026, 10, 25));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 10, 25, 22, 59, 59)),
            CivilDay(2026, 10, 25));
  EXPECT_EQ(calendar().LocalDay(Utc(2026, 10, 25, 23)), CivilDay(2026, 10, 26));
}

TEST_F(SwedishCalendarTest, DeadlinesAcrossAndOnTheSwitchDays) {
  // Working days: Thu -> Fri still CET; Fri -> Mon over spring forward is in
  // CEST; Fri -> Mon over fall back is in CET again.
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 3, 26, 12), 1),
            Utc(2026, 3, 27, 23));
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 3, 27, 12), 1),
            Utc(2026, 3, 30, 22));
  EXPECT_EQ(calendar().WorkingDaysDeadline(Local(2026, 10, 23, 12), 1),
            Utc(2026, 10, 26, 23));
  // Calendar days ending on the switch Sundays themselves.
  EXPECT_EQ(calendar().CalendarDaysDeadline(Local(2026, 3, 24, 12), 5),
            Utc(2026, 3, 29, 22));
  EXPECT_EQ(calendar().CalendarDaysDeadline(Local(2026, 10, 20, 12), 5),
            Utc(2026, 10, 25, 23));
}

// ---------------------------------------------------------------------------
// Calendar-day deadlines.

TEST_F(SwedishCalendarTest, CalendarDaysIncludeWeekendsAndHolidays) {
  // "Within 5 days" from julafton: 25, 26, 27, 28, 29.
  EXPECT_EQ(calendar().CalendarDaysDeadline(Local(2026, 12, 24, 9), 5),
            Utc(2026, 12, 29, 23));
  // "90 days after exit" on 15 Jan 2026: 15 Apr (CEST).
  EXPECT_EQ(calendar().CalendarDaysDeadline(Local(2026, 1, 15, 14), 90),
            Utc(2026, 4, 15, 22));
  // "4 weeks after the first meeting" on Mon 12 Oct 2026: Mon 9 Nov (CET).
  EXPECT_EQ(calendar().CalendarDaysDeadline(Local(2026, 10, 12, 10), 4 * 7),
            Utc(2026, 11, 9, 23));
  // Zero days: the end of the arrival day.
  EXPECT_EQ(calendar().CalendarDaysDeadline(Local(2026, 12, 24, 9), 0),
            Utc(2026, 12, 24, 23));
}

// ---------------------------------------------------------------------------
// Warnings before a deadline.

TEST_F(SwedishCalendarTest, WorkingDaysBeforeEndOfDay) {
  const absl::Time end_of_december_30 = Utc(2026, 12, 30, 23);
  // End of Tue 29, end of Mon 28, then back over the holidays to Wed 23.
  EXPECT_EQ(calendar().WorkingDaysBefore(end_of_december_30, 1),
            Utc(2026, 12, 29, 23));
  EXPECT_EQ(calendar().WorkingDaysBefore(end_of_december_30, 2),
            Utc(2026, 12, 28, 23));
  EXPECT_EQ(calendar().WorkingDaysBefore(end_of_december_30, 3),
            Utc(2026, 12, 23, 23));
  EXPECT_EQ(calendar().WorkingDaysBefore(end_of_december_30, 0),
            end_of_december_30);
}

TEST_F(SwedishCalendarTest, WorkingDaysBeforeAcrossSpringForward) {
  // End of Mon 30 Mar (CEST) -> end of Fri 27 Mar (CET): 71 hours, not 72.
  EXPECT_EQ(calendar().WorkingDaysBefore(Utc(2026, 3, 30, 22), 1),
            Utc(2026, 3, 27, 23));
}

TEST_F(SwedishCalendarTest, WorkingDaysBeforeACalendarDeadlineOnSunday) {
  // Due end of Sun 29 Mar: warned at the end of Fri 27 Mar.
  EXPECT_EQ(calendar().WorkingDaysBefore(Utc(2026, 3, 29, 22), 1),
            Utc(2026, 3, 27, 23));
}

TEST_F(SwedishCalendarTest, WorkingDaysBeforeKeepsTimeOfDay) {
  // Due Mon 28 Dec 14:00 local: warned Wed 23 Dec 14:00 local.
  EXPECT_EQ(calendar().WorkingDaysBefore(Local(2026, 12, 28, 14), 1),
            Utc(2026, 12, 23, 13));
  // Due Mon 30 Mar 14:00 CEST: warned Fri 27 Mar 14:00 CET.
  EXPECT_EQ(calendar().WorkingDaysBefore(Local(2026, 3, 30, 14), 1),
            Utc(2026, 3, 27, 13));
}

// ---------------------------------------------------------------------------
// Counting working days.

TEST(SwedishCalendarCountTest, WorkingDaysBetween) {
  using C = SwedishCalendar;
  // 2026: 261 weekdays minus 10 holidays on weekdays (checked by hand).
  EXPECT_EQ(
      C::WorkingDaysBetween(CivilDay(2025, 12, 31), CivilDay(2026, 12, 31)),
      251);
  // The December example: 28, 29, 30; and from Tue 22: 23, 28, 29, 30.
  EXPECT_EQ(
      C::WorkingDaysBetween(CivilDay(2026, 12, 23), CivilDay(2026, 12, 30)), 3);
  EXPECT_EQ(
      C::WorkingDaysBetween(CivilDay(2026, 12, 22), CivilDay(2026, 12, 30)), 4);
  // `a` does not count, `b` does: Mon 9 Mar to Tue 10 Mar is 1.
  EXPECT_EQ(C::WorkingDaysBetween(CivilDay(2026, 3, 9), CivilDay(2026, 3, 10)),
            1);
  EXPECT_EQ(C::WorkingDaysBetween(CivilDay(2026, 3, 9), CivilDay(2026, 3, 9)),
            0);
  EXPECT_EQ(C::WorkingDaysBetween(CivilDay(2026, 3, 10), CivilDay(2026, 3, 9)),
            0);
}

TEST(SwedishCalendarCountTest, WorkingDaysBetweenInvertsAddWorkingDays) {
  // Consistency of the two counting paths, over holidays and year ends.
  for (CivilDay from(2025, 12, 1); from <= CivilDay(2027, 1, 31); ++from) {
    for (int n : {0, 1, 3, 10, 30}) {
      const CivilDay to = SwedishCalendar::AddWorkingDays(from, n);
      ASSERT_EQ(SwedishCalendar::WorkingDaysBetween(from, to), n)
          << from << " + " << n << " = " << to;
    }
  }
}

// ---------------------------------------------------------------------------
// Missing tzdata.

TEST(SwedishCalendarCreateTest, MissingTzdataIsFailedPrecondition) {
  // abseil caches loaded zones per process, so the failure must be seen in a
  // fresh one: the threadsafe death-test style re-executes this test alone.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("TZDIR", "/nonexistent-zoneinfo", 1);
        const absl::StatusOr<SwedishCalendar> calendar =
            SwedishCalendar::Create();
        const bool failed_precondition =
            calendar.status().code() == absl::StatusCode::kFailedPrecondition;
        const bool names_tzdata = calendar.status().message().find("tzdata") !=
                                  absl::string_view::npos;
        std::exit(failed_precondition && names_tzdata ? 42 : 1);
      },
      testing::ExitedWithCode(42), "");
}

}  // namespace
}  // namespace slussen::core
