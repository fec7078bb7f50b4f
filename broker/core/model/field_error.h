// Errors that a person can act on: every INVALID_ARGUMENT names the field,
// the rule and the value given.
//
//   return InvalidField("referral.impulse.kommun_code",
//                       "must be four digits (SCB kommunkod)", code);
//   // referral.impulse.kommun_code must be four digits (SCB kommunkod),
//   // got "13800"
//
// Values are quoted, escaped and cut after 64 bytes (never inside a UTF-8
// character), so a hostile value
// cannot flood a log line. Never pass personal data as the value: use
// InvalidFieldWithheld, which says the value is withheld. Thread-safe: pure
// functions.
//
// So that a program need not parse the message, every field error also
// carries a google.rpc.BadRequest as a payload under kBadRequestTypeUrl,
// with one field violation: the field path as given, and the rest of the
// message ("must be four digits (SCB kommunkod), got \"13800\""). The RPC
// edge sends it on in the google.rpc.Status of the call's trailers
// (service/rpc_scope.h, ToGrpcStatus). Whoever re-wraps a field error must
// keep its payloads (absl::Status::ForEachPayload).
#ifndef SLUSSEN_BROKER_CORE_MODEL_FIELD_ERROR_H_
#define SLUSSEN_BROKER_CORE_MODEL_FIELD_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"

namespace slussen::core {

// The payload type URL of a field error's google.rpc.BadRequest: the one an
// Any holding it has.
inline constexpr char kBadRequestTypeUrl[] =
    "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kErrorInfoTypeUrl[] =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr char kRetryInfoTypeUrl[] =
    "type.googleapis.com/google.rpc.RetryInfo";
// The google.rpc.ErrorInfo domain of every Slussen error.
inline constexpr char kErrorDomain[] = "slussen.se";

// `status` with a google.rpc.ErrorInfo whose reason is `reason`: a stable
// UPPER_SNAKE_CASE code that a program may branch on (README.md, "Errors a
// program can act on", lists them). Errors without one get the status
// code's name at the RPC edge (ToGrpcStatus).
absl::Status WithReason(absl::Status status, absl::string_view reason);

// `status` with a google.rpc.RetryInfo: retry after `delay`.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The ErrorInfo `status` carries, if any.
std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status);

// `value` in double quotes, with control characters, quotes, backslashes
// and bytes that are not UTF-8 escaped, cut after 64 bytes (at a character
// boundary) with "...".
std::string QuoteValue(absl::string_view value);

// INVALID_ARGUMENT: "<field> <description>", carrying a BadRequest whose one
// field violation is {field, description}. The other functions build on it;
// call it for a rule they do not fit. `description` must hold no personal
// data: it goes to the caller and into the log.
absl::Status FieldViolation(absl::string_view field,
                            absl::string_view description);

// The BadRequest `status` carries, if any (not for an OK status).
std::optional<google::rpc::BadRequest> BadRequestOf(const absl::Status& status);

// INVALID_ARGUMENT: "<field> <rule>, got "<value>"".
absl::Status InvalidField(absl::string_view field, absl::string_view rule,
                          absl::string_view value);

// INVALID_ARGUMENT: "<field> <rule>, got <value>".
absl::Status InvalidField(absl::string_view field, absl::string_view rule,
                          int64_t value);

// INVALID_ARGUMENT: "<field> <rule>" for a missing value.
absl::Status MissingField(absl::string_view field, absl::string_view rule = "");

// INVALID_ARGUMENT: "<field> <rule> (value withheld: personal data)".
absl::Status InvalidFieldWithheld(absl::string_view field,
                                  absl::string_view rule);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_FIELD_ERROR_H_
