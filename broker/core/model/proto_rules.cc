#include "broker/core/model/proto_rules.h"

#include "absl/strings/ascii.h"

namespace slussen::core {

absl::Status ValidateCode(absl::string_view field, absl::string_view code) {
  if (code.empty()) return MissingField(field, "a code of [a-z0-9-]");
  bool ok = code.size() <= 64;
  for (char c : code) {
    const auto u = static_cast<unsigned char>(c);
    ok = ok && (absl::ascii_islower(u) || absl::ascii_isdigit(u) || c == '-');
  }
  if (!ok) {
    return InvalidField(field, "must be 1..64 characters of [a-z0-9-]", code);
  }
  return absl::OkStatus();
}

}  // namespace slussen::core
