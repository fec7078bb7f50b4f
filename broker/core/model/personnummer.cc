#include "broker/core/model/personnummer.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

// The rules as they appear in error messages, after the field name. The value
// is personal data and error messages are logged, so it never appears:
// InvalidFieldWithheld says it was left out on purpose.
constexpr absl::string_view kWrongForm =
    "must be 10 or 12 digits, written YYYYMMDD-NNNC, YYYYMMDDNNNC, "
    "YYMMDD-NNNC, YYMMDDNNNC or YYMMDD+NNNC";
constexpr absl::string_view kPlusNeedsTenDigits =
    "must be 10 or 12 digits, and '+' (age 100 or more) goes only with the "
    "10-digit form YYMMDD+NNNC";
constexpr absl::string_view kNoDate =
    "has no valid date: YYYYMMDD must be a real day, or day + 60 for a "
    "samordningsnummer";
constexpr absl::string_view kWrongCheckDigit = "has a wrong check digit";
constexpr absl::string_view kInTheFuture = "lies in the future";

// Samordningsnummer add this to the day of month.
constexpr int kSamordningsOffset = 60;

bool AllDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !text.empty();
}

// The value of a short run of digits (already checked to be digits).
int DigitsValue(absl::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Luhn over the first nine digits of YYMMDDNNNC, compared with C: doubling
// every other digit from the left, as Skatteverket defines it.
bool CheckDigitMatches(absl::string_view ten_digits) {
  int sum = 0;
  for (int i = 0; i < 9; ++i) {
    int term = (ten_digits[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += term / 10 + term % 10;
  }
  return (10 - sum % 10) % 10 == ten_digits[9] - '0';
}

bool IsLeapYear(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Month and day of birth read from the MMDD digits, before the year is known.
struct MonthDay {
  int month = 0;
  int day = 0;  // The real day, without the samordningsnummer offset.
  bool samordningsnummer = false;
};

// Month 1..12 and day 1..31 or 61..91; whether the day exists in that month
// is decided once the year is known.
std::optional<MonthDay> ReadMonthDay(absl::string_view mmdd) {
  MonthDay md;
  md.month = DigitsValue(mmdd.substr(0, 2));
  md.day = DigitsValue(mmdd.substr(2, 2));
  if (md.day > kSamordningsOffset) {
    md.day -= kSamordningsOffset;
    md.samordningsnummer = true;
  }
  if (md.month < 1 || md.month > 12 || md.day < 1 || md.day > 31) {
    return std::nullopt;
  }
  return md;
}

// The input cut into its parts; `date` is 6 or 8 digits, `serial` is NNNC.
struct Parts {
  absl::string_view date;
  absl::string_view serial;
  bool plus = false;
};

// Splits one of the accepted forms, or returns the rule it breaks.
absl::StatusOr<Parts> SplitForm(absl::string_view text,
                                absl::string_view field) {
  Parts parts;
  size_t date_length = 0;
  switch (text.size()) {
    case 13:  // YYYYMMDD-NNNC
    case 11:  // YYMMDD-NNNC, YYMMDD+NNNC
      date_length = text.size() - 5;
      if (text[date_length] == '+') {
        if (date_length == 8) {
          return InvalidFieldWithheld(field, kPlusNeedsTenDigits);
        }
        parts.plus = true;
      } else if (text[date_length] != '-') {
        return InvalidFieldWithheld(field, kWrongForm);
      }
      parts.serial = text.substr(date_length + 1);
      break;
    case 12:  // YYYYMMDDNNNC
    case 10:  // YYMMDDNNNC
      date_length = text.size() - 4;
      parts.serial = text.substr(date_length);
      break;
    default:
      return InvalidFieldWithheld(field, kWrongForm);
  }
  parts.date = text.substr(0, date_length);
  if (!AllDigits(parts.date) || !AllDigits(parts.serial)) {
    return InvalidFieldWithheld(field, kWrongForm);
  }
  return parts;
}

// The century of a 10-digit number: the latest year ending in `yy` whose
// date (month, day) is not after `today`; 100 years earlier with '+'. A
// person under 100 writes '-', so this is the only reading that fits.
int64_t InferYear(int yy, const MonthDay& md, absl::CivilDay today, bool plus) {
  int64_t year = today.year() - ((today.year() - yy) % 100 + 100) % 100;
  if (year == today.year() &&
      (md.month > today.month() ||
       (md.month == today.month() && md.day > today.day()))) {
    year -= 100;
  }
  return plus ? year - 100 : year;
}

}  // namespace

absl::StatusOr<Personnummer> ParsePersonnummer(absl::string_view text,
                                               absl::CivilDay today,
                                               absl::string_view field) {
  ASSIGN_OR_RETURN(const Parts parts, SplitForm(text, field));
  const bool long_form = parts.date.size() == 8;
  const absl::string_view mmdd = parts.date.substr(long_form ? 4 : 2, 4);
  const std::optional<MonthDay> md = ReadMonthDay(mmdd);
  if (!md.has_value()) return InvalidFieldWithheld(field, kNoDate);
  const int64_t year = long_form
                           ? DigitsValue(parts.date.substr(0, 4))
                           : InferYear(DigitsValue(parts.date.substr(0, 2)),
                                       *md, today, parts.plus);
  // Year 0 and earlier cannot be written as YYYY, and no one alive was born
  // then; it can only come from a '+' with a `today` before year 100.
  if (year < 1 || md->day > DaysInMonth(year, md->month)) {
    return InvalidFieldWithheld(field, kNoDate);
  }
  // The check digit covers the 10-digit form only, never the century.
  std::string ten(long_form ? parts.date.substr(2) : parts.date);
  absl::StrAppend(&ten, parts.serial);
  if (!CheckDigitMatches(ten)) {
    return InvalidFieldWithheld(field, kWrongCheckDigit);
  }
  Personnummer result;
  result.birth_date = absl::CivilDay(year, md->month, md->day);
  if (result.birth_date > today) {
    return InvalidFieldWithheld(field, kInTheFuture);
  }
  result.digits = absl::StrFormat("%04d%s%s", year, mmdd, parts.serial);
  result.samordningsnummer = md->samordningsnummer;
  return result;
}

bool LooksLikePersonnummer(absl::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c != ' ' && c != '-' && c != '+') digits.push_back(c);
  }
  if ((digits.size() != 10 && digits.size() != 12) || !AllDigits(digits)) {
    return false;
  }
  const absl::string_view ten =
      absl::string_view(digits).substr(digits.size() - 10);
  const std::optional<MonthDay> md = ReadMonthDay(ten.substr(2, 4));
  if (!md.has_value()) return false;
  // Without a century, 29 February is possible when some century makes the
  // year a leap year: any two-digit year divisible by four (00 as in 2000).
  const int64_t year =
      digits.size() == 12
          ? DigitsValue(absl::string_view(digits).substr(0, 4))
          : (DigitsValue(ten.substr(0, 2)) % 4 == 0 ? 2000 : 2001);
  return md->day <= DaysInMonth(year, md->month) && CheckDigitMatches(ten);
}

}  // namespace slussen::core
