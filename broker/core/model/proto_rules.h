// Field rules shared by the validation of every request: enum values,
// sets of enum values, integer ranges, catalogue codes, field paths.
// Each returns OK or INVALID_ARGUMENT naming the field, the rule and the
// value.
//
//   RETURN_IF_ERROR(ValidateEnum<v1::Gender>(Path(field, "gender"),
//                                            a.gender(), /*required=*/false));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_PROTO_RULES_H_
#define SLUSSEN_BROKER_CORE_MODEL_PROTO_RULES_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace slussen::core {

// "parent.field".
inline std::string Path(absl::string_view parent, absl::string_view field) {
  return absl::StrCat(parent, ".", field);
}

// OK if `value` is a named value of `E`, and not the unspecified 0 when
// `required`.
template <typename E>
absl::Status ValidateEnum(absl::string_view field, int value, bool required) {
  const google::protobuf::EnumDescriptor* descriptor =
      google::protobuf::GetEnumDescriptor<E>();
  const bool named = descriptor->FindValueByNumber(value) != nullptr;
  if (named && (value != 0 || !required)) return absl::OkStatus();
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() != 0) {
      names.push_back(descriptor->value(i)->name());
    }
  }
  std::string got = absl::StrCat(value);
  if (named) {
    absl::StrAppend(&got, " (", descriptor->FindValueByNumber(value)->name(),
                    ")");
  }
  return FieldViolation(
      field, absl::StrCat(value == 0 && named ? "is required: one of "
                                              : "must be one of ",
                          absl::StrJoin(names, ", "), ", got ", got));
}

// Each value named and specified, none twice.
template <typename E, typename Repeated>
absl::Status ValidateEnumSet(absl::string_view field, const Repeated& values) {
  std::set<int> seen;
  for (int i = 0; i < values.size(); ++i) {
    const std::string item = absl::StrCat(field, "[", i, "]");
    RETURN_IF_ERROR(ValidateEnum<E>(item, values[i], /*required=*/true));
    if (!seen.insert(values[i]).second) {
      return InvalidField(item, "must not repeat an earlier value",
                          google::protobuf::GetEnumDescriptor<E>()
                              ->FindValueByNumber(values[i])
                              ->name());
    }
  }
  return absl::OkStatus();
}

inline absl::Status ValidateIntRange(absl::string_view field, int64_t value,
                                     int64_t min, int64_t max) {
  if (value < min || value > max) {
    return InvalidField(field, absl::StrCat("must be ", min, "..", max), value);
  }
  return absl::OkStatus();
}

// A catalogue code: 1..64 characters of [a-z0-9-].
absl::Status ValidateCode(absl::string_view field, absl::string_view code);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_PROTO_RULES_H_
