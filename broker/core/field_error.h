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
#ifndef SLUSSEN_BROKER_CORE_FIELD_ERROR_H_
#define SLUSSEN_BROKER_CORE_FIELD_ERROR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace slussen::core {

// `value` in double quotes, with control characters, quotes, backslashes
// and bytes that are not UTF-8 escaped, cut after 64 bytes (at a character
// boundary) with "...".
std::string QuoteValue(absl::string_view value);

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

#endif  // SLUSSEN_BROKER_CORE_FIELD_ERROR_H_
