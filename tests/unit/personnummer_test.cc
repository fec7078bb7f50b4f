#include "broker/core/model/personnummer.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

using ::absl::CivilDay;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::string_view kField =
    "referral.participant.personal_identity_number";
constexpr absl::string_view kWithheld = "(value withheld: personal data)";

// Every test parses relative to this day unless it says otherwise.
const CivilDay kToday(2024, 6, 1);

absl::StatusOr<Personnummer> Parse(absl::string_view text,
                                   CivilDay today = kToday) {
  return ParsePersonnummer(text, today, kField);
}

// Parses `text`, which must be valid, and checks the normalised digits and
// the birth date.
void ExpectValid(absl::string_view text, absl::string_view digits,
                 CivilDay birth_date, bool samordningsnummer = false,
                 CivilDay today = kToday) {
  SCOPED_TRACE(text);
  const absl::StatusOr<Personnummer> pnr = Parse(text, today);
  ASSERT_TRUE(pnr.ok()) << pnr.status();
  EXPECT_EQ(pnr->digits, digits);
  EXPECT_EQ(pnr->birth_date, birth_date);
  EXPECT_EQ(pnr->samordningsnummer, samordningsnummer);
}

// Parses `text`, which must be refused for `rule`, and checks that the
// message names the field and the rule and holds no part of the number: no
// four consecutive digits of it appear (the rules themselves hold no more
// than two digits in a row).
void ExpectRefused(absl::string_view text, absl::string_view rule,
                   CivilDay today = kToday) {
  SCOPED_TRACE(text);
  const absl::StatusOr<Personnummer> pnr = Parse(text, today);
  ASSERT_FALSE(pnr.ok());
  EXPECT_EQ(pnr.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(pnr.status().message());
  EXPECT_THAT(message, StartsWith(std::string(kField) + " "));
  EXPECT_THAT(message, HasSubstr(rule));
  EXPECT_THAT(message, HasSubstr(kWithheld));
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  for (size_t i = 0; i + 4 <= digits.size(); ++i) {
    EXPECT_THAT(message, Not(HasSubstr(digits.substr(i, 4))));
  }
}

// Check digits below were computed by hand with Luhn over YYMMDDNNN, weights
// 2,1,2,1,... from the left, digits of each product summed, C = (10 - sum %
// 10) % 10:
//   1212121212: 2+2+2+2+2+2+2+2+2 = 18 -> 2
//   8112189876: 7(16)+1+2+2+2+8+9(18)+8+5(14) = 44 -> 6
//   9001010017: 9(18)+0+0+1+0+1+0+0+2 = 13 -> 7

TEST(ParsePersonnummerTest, AcceptsTwelveDigitsWithDash) {
  ExpectValid("19121212-1212", "191212121212", CivilDay(1912, 12, 12));
  ExpectValid("19900101-0017", "199001010017", CivilDay(1990, 1, 1));
}

TEST(ParsePersonnummerTest, AcceptsTwelveDigitsWithoutSeparator) {
  ExpectValid("191212121212", "191212121212", CivilDay(1912, 12, 12));
  ExpectValid("198112189876", "198112189876", CivilDay(1981, 12, 18));
}

TEST(ParsePersonnummerTest, AcceptsTenDigitsWithDash) {
  ExpectValid("811218-9876", "198112189876", CivilDay(1981, 12, 18));
  ExpectValid("900101-0017", "199001010017", CivilDay(1990, 1, 1));
}

TEST(ParsePersonnummerTest, AcceptsTenDigitsWithoutSeparator) {
  ExpectValid("8112189876", "198112189876", CivilDay(1981, 12, 18));
}

TEST(ParsePersonnummerTest, TenDigitsWithoutPlusAreUnderOneHundred) {
  // 12-12-12 is not after 2024-06-01 in 2012, the most recent such year.
  ExpectValid("121212-1212", "201212121212", CivilDay(2012, 12, 12));
  ExpectValid("1212121212", "201212121212", CivilDay(2012, 12, 12));
}

TEST(ParsePersonnummerTest, PlusMeansOneHundredYearsEarlier) {
  ExpectValid("121212+1212", "191212121212", CivilDay(1912, 12, 12));
}

// 240601-0021: 4+4+0+6+0+1+0+0+4 = 19 -> 1.
// 240602-0020: 4+4+0+6+0+2+0+0+4 = 20 -> 0.
TEST(ParsePersonnummerTest, CenturyTurnsOnTodaysDate) {
  // Born today: this year. Born tomorrow's date: a hundred years ago.
  ExpectValid("240601-0021", "202406010021", CivilDay(2024, 6, 1));
  ExpectValid("2406010021", "202406010021", CivilDay(2024, 6, 1));
  ExpectValid("240602-0020", "192406020020", CivilDay(1924, 6, 2));
  ExpectValid("2406020020", "192406020020", CivilDay(1924, 6, 2));
}

TEST(ParsePersonnummerTest, PlusCenturyTurnsOnTodaysDate) {
  // 100 today, so '+': 1924. Tomorrow's date with '+' would be 100 only
  // tomorrow if born 1924, so it means 1824.
  ExpectValid("240601+0021", "192406010021", CivilDay(1924, 6, 1));
  ExpectValid("240602+0020", "182406020020", CivilDay(1824, 6, 2));
}

TEST(ParsePersonnummerTest, CenturyFollowsToday) {
  // The same number read on 1990-01-01: 81 is then 1981, and 12 is 1912.
  const CivilDay today(1990, 1, 1);
  ExpectValid("811218-9876", "198112189876", CivilDay(1981, 12, 18),
              /*samordningsnummer=*/false, today);
  ExpectValid("121212-1212", "191212121212", CivilDay(1912, 12, 12),
              /*samordningsnummer=*/false, today);
  ExpectValid("121212+1212", "181212121212", CivilDay(1812, 12, 12),
              /*samordningsnummer=*/false, today);
}

// 701063-2391: 5(14)+0+2+0+3(12)+3+4+3+9(18) = 29 -> 1.
TEST(ParsePersonnummerTest, AcceptsSamordningsnummerAndKeepsItsDay) {
  ExpectValid("701063-2391", "197010632391", CivilDay(1970, 10, 3),
              /*samordningsnummer=*/true);
  ExpectValid("19701063-2391", "197010632391", CivilDay(1970, 10, 3),
              /*samordningsnummer=*/true);
  ExpectValid("7010632391", "197010632391", CivilDay(1970, 10, 3),
              /*samordningsnummer=*/true);
}

// 000229-1235: 0+0+0+2+4+9+2+2+6 = 25 -> 5.
TEST(ParsePersonnummerTest, LeapDayOf2000IsValid) {
  ExpectValid("20000229-1235", "200002291235", CivilDay(2000, 2, 29));
  ExpectValid("000229-1235", "200002291235", CivilDay(2000, 2, 29));
}

TEST(ParsePersonnummerTest, LeapDayOf1900HasNoValidDate) {
  // Same ten digits, so the check digit is right: only the date is wrong.
  ExpectRefused("19000229-1235", "has no valid date");
  ExpectRefused("000229+1235", "has no valid date");
}

// 010229-1234: 0+1+0+2+4+9+2+2+6 = 26 -> 4.
TEST(ParsePersonnummerTest, LeapDayOfCommonYearHasNoValidDate) {
  ExpectRefused("010229-1234", "has no valid date");
}

// Check digits right, so that only the date can be refused:
//   121312-1211 (month 13): 2+2+2+3+2+2+2+2+2 = 19 -> 1
//   121232-1218 (day 32):   2+2+2+2+6+2+2+2+2 = 22 -> 8
//   121200-1216 (day 0):    2+2+2+2+0+0+2+2+2 = 14 -> 6
//   120431-1219 (31 April): 2+2+0+4+6+1+2+2+2 = 21 -> 9
//   121292-1215 (day 92):   2+2+2+2+9(18)+2+2+2+2 = 25 -> 5
TEST(ParsePersonnummerTest, RefusesImpossibleDates) {
  ExpectRefused("19121312-1211", "has no valid date");
  ExpectRefused("19121232-1218", "has no valid date");
  ExpectRefused("19121200-1216", "has no valid date");
  ExpectRefused("19120431-1219", "has no valid date");
  ExpectRefused("19121292-1215", "has no valid date");
  ExpectRefused("00000000-0000", "has no valid date");
}

TEST(ParsePersonnummerTest, RefusesWrongCheckDigit) {
  ExpectRefused("19121212-1213", "has a wrong check digit");
  ExpectRefused("811218-9875", "has a wrong check digit");
  ExpectRefused("7010632390", "has a wrong check digit");
}

TEST(ParsePersonnummerTest, WrongCheckDigitMessageIsExact) {
  const absl::StatusOr<Personnummer> pnr = Parse("19121212-1213");
  EXPECT_EQ(pnr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pnr.status().message(),
            "referral.participant.personal_identity_number has a wrong "
            "check digit (value withheld: personal data)");
  // A field error: its BadRequest names the field and withholds the value.
  EXPECT_EQ(pnr.status(), InvalidFieldWithheld(
                              "referral.participant.personal_identity_number",
                              "has a wrong check digit"));
}

TEST(ParsePersonnummerTest, RefusesDateAfterToday) {
  // Tomorrow, written with its century.
  ExpectRefused("20240602-0020", "lies in the future");
  ExpectRefused("202406020020", "lies in the future");
  // Born today is not in the future.
  ExpectValid("20240601-0021", "202406010021", CivilDay(2024, 6, 1));
}

TEST(ParsePersonnummerTest, RefusesWrongLengthsAndCharacters) {
  constexpr absl::string_view kRule = "must be 10 or 12 digits";
  ExpectRefused("", kRule);
  ExpectRefused("19121212-121", kRule);
  ExpectRefused("1912121212121", kRule);
  ExpectRefused("121212121", kRule);
  ExpectRefused("19121212-12a2", kRule);
  ExpectRefused("121212 1212", kRule);
  ExpectRefused(" 191212121212", kRule);
  ExpectRefused("191212121212\n", kRule);
  ExpectRefused("191212-121212", kRule);
  ExpectRefused("1912-12121212", kRule);
  ExpectRefused("19121212--1212", kRule);
  ExpectRefused("12121-21212", kRule);
  ExpectRefused("121212/1212", kRule);
}

TEST(ParsePersonnummerTest, RefusesPlusWithTwelveDigits) {
  ExpectRefused("19121212+1212", "'+' (age 100 or more) goes only with");
}

TEST(LooksLikePersonnummerTest, TrueForEveryWrittenForm) {
  EXPECT_TRUE(LooksLikePersonnummer("19121212-1212"));
  EXPECT_TRUE(LooksLikePersonnummer("191212121212"));
  EXPECT_TRUE(LooksLikePersonnummer("121212-1212"));
  EXPECT_TRUE(LooksLikePersonnummer("121212+1212"));
  EXPECT_TRUE(LooksLikePersonnummer("1212121212"));
  EXPECT_TRUE(LooksLikePersonnummer("811218-9876"));
}

TEST(LooksLikePersonnummerTest, TrueWithSpacesAndSeparatorsAnywhere) {
  EXPECT_TRUE(LooksLikePersonnummer("1912 1212 1212"));
  EXPECT_TRUE(LooksLikePersonnummer(" 121212 - 1212 "));
  EXPECT_TRUE(LooksLikePersonnummer("1912-12-12-1212"));
}

TEST(LooksLikePersonnummerTest, TrueForSamordningsnummer) {
  EXPECT_TRUE(LooksLikePersonnummer("701063-2391"));
}

// 040229-1231: 0+4+0+2+4+9+2+2+6 = 29 -> 1.
// 020229-1233: 0+2+0+2+4+9+2+2+6 = 27 -> 3.
TEST(LooksLikePersonnummerTest, LeapDayNeedsSomeCenturyWithOne) {
  EXPECT_TRUE(LooksLikePersonnummer("000229-1235"));   // 2000
  EXPECT_TRUE(LooksLikePersonnummer("040229-1231"));   // 1904, 2004
  EXPECT_FALSE(LooksLikePersonnummer("010229-1234"));  // never
  EXPECT_FALSE(LooksLikePersonnummer("020229-1233"));  // never
  EXPECT_TRUE(LooksLikePersonnummer("20000229-1235"));
  EXPECT_FALSE(LooksLikePersonnummer("19000229-1235"));
}

// 990101-0018: 9(18)+9+0+1+0+1+0+0+2 = 22 -> 8.
TEST(LooksLikePersonnummerTest, IgnoresToday) {
  // A pseudonym holding a number dated in the future is still refused.
  EXPECT_TRUE(LooksLikePersonnummer("20990101-0018"));
}

TEST(LooksLikePersonnummerTest, FalseForOtherText) {
  EXPECT_FALSE(LooksLikePersonnummer(""));
  EXPECT_FALSE(LooksLikePersonnummer("19121212-1213"));  // check digit
  EXPECT_FALSE(LooksLikePersonnummer("121212-121"));     // 9 digits
  EXPECT_FALSE(LooksLikePersonnummer("19121212-12123"));
  EXPECT_FALSE(LooksLikePersonnummer("1912121212123"));  // 13 digits
  EXPECT_FALSE(LooksLikePersonnummer("p-19121212-1212"));
  EXPECT_FALSE(LooksLikePersonnummer("1212121212x"));
  EXPECT_FALSE(LooksLikePersonnummer("19121312-1211"));  // month 13
  EXPECT_FALSE(LooksLikePersonnummer("0000000000"));
  EXPECT_FALSE(LooksLikePersonnummer("participant-42"));
}

}  // namespace
}  // namespace slussen::core
