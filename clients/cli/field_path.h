// Setting a field of a protobuf message from text, by its path in proto
// names ("participant.attributes.age_years", "display_name"): what
// `referrals import` does with a CSV cell and `offerings update --set`
// with a flag. The text is read as the field is typed: numbers, true/false
// (or ja/nej), an enum value by its name, long or short ("female" for
// GENDER_FEMALE), a date (2026-12-23), a time (RFC 3339, or a date meaning
// its start in Europe/Stockholm), several values of a repeated field
// separated by "|", and a message field (or a list of them) as JSON.
#ifndef SLUSSEN_CLIENTS_CLI_FIELD_PATH_H_
#define SLUSSEN_CLIENTS_CLI_FIELD_PATH_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace slussen::cli {

// The fields along `path` from `descriptor`; empty when a part is no field
// or a part before the last is not a singular message.
std::vector<const google::protobuf::FieldDescriptor*> ResolvePath(
    const google::protobuf::Descriptor* descriptor, absl::string_view path);

// Every path of `descriptor` that SetPath can set, but those in `skip`
// (and what lies under them): for "did you mean".
std::vector<std::string> FieldPaths(
    const google::protobuf::Descriptor* descriptor,
    const std::set<std::string>& skip = {});

// Sets the field at `path` of `root` (made along the way) from `text`,
// replacing what it held. INVALID_ARGUMENT "<label>: "<text>" <rule>" when
// the text is not of the field's type, or when `path` is no field.
absl::Status SetPath(google::protobuf::Message& root, absl::string_view path,
                     absl::string_view text, absl::string_view label);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_FIELD_PATH_H_
