// Conversions between google.protobuf.Timestamp and absl::Time, and the
// check that a timestamp is one (seconds within years 1..9999, nanos within
// a second). Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_PROTO_TIME_H_
#define SLUSSEN_BROKER_CORE_MODEL_PROTO_TIME_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "slussen/v1/common.pb.h"

namespace slussen::core {

absl::Time ToAbslTime(const google::protobuf::Timestamp& timestamp);

google::protobuf::Timestamp ToProtoTimestamp(absl::Time time);

google::protobuf::Duration ToProtoDuration(absl::Duration duration);

// The civil day of `date`; INVALID_ARGUMENT naming `field` unless it is a
// real date in years 1900..2200.
absl::StatusOr<absl::CivilDay> ToCivilDay(absl::string_view field,
                                          const slussen::v1::Date& date);

slussen::v1::Date ToProtoDate(absl::CivilDay day);

// OK if `timestamp` is a valid Timestamp; INVALID_ARGUMENT naming `field`.
absl::Status ValidateTimestamp(absl::string_view field,
                               const google::protobuf::Timestamp& timestamp);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_PROTO_TIME_H_
