#include "broker/core/model/proto_time.h"

#include "absl/strings/str_cat.h"
#include "broker/core/model/field_error.h"

namespace slussen::core {
namespace {

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as in timestamp.proto.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

}  // namespace

absl::Time ToAbslTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

google::protobuf::Duration ToProtoDuration(absl::Duration duration) {
  google::protobuf::Duration out;
  const int64_t nanos = absl::ToInt64Nanoseconds(duration);
  out.set_seconds(nanos / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return out;
}

google::protobuf::Timestamp ToProtoTimestamp(absl::Time time) {
  google::protobuf::Timestamp out;
  const int64_t seconds = absl::ToUnixSeconds(time);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return out;
}

absl::StatusOr<absl::CivilDay> ToCivilDay(absl::string_view field,
                                          const slussen::v1::Date& date) {
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 1900 || date.year() > 2200 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    return FieldViolation(
        field, absl::StrCat("must be a real date in years 1900..2200, got ",
                            date.year(), "-", date.month(), "-", date.day()));
  }
  return day;
}

slussen::v1::Date ToProtoDate(absl::CivilDay day) {
  slussen::v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::Status ValidateTimestamp(absl::string_view field,
                               const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() < kMinSeconds || timestamp.seconds() > kMaxSeconds ||
      timestamp.nanos() < 0 || timestamp.nanos() > 999999999) {
    return FieldViolation(
        field, absl::StrCat("must be a time between years 1 and 9999 with "
                            "nanos in 0..999999999, got seconds=",
                            timestamp.seconds(), " nanos=", timestamp.nanos()));
  }
  return absl::OkStatus();
}

}  // namespace slussen::core
