#include "broker/core/page_token.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/field_error.h"
#include "broker/core/names.h"

namespace slussen::core {
namespace {

constexpr absl::string_view kVersion = "p1";

}  // namespace

uint64_t QueryFingerprint(absl::string_view canonical_query) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : canonical_query) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string EncodePageToken(absl::string_view cursor, uint64_t query) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kVersion, ".", absl::Hex(query), ".", cursor));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view field,
                                            absl::string_view token,
                                            uint64_t query) {
  if (token.empty()) return std::string();
  std::string plain;
  const std::vector<absl::string_view> parts =
      absl::WebSafeBase64Unescape(token, &plain)
          ? absl::StrSplit(plain, '.')
          : std::vector<absl::string_view>();
  uint64_t token_query = 0;
  if (parts.size() != 3 || parts[0] != kVersion ||
      !absl::SimpleHexAtoi(parts[1], &token_query) || !IsResourceId(parts[2])) {
    return InvalidField(
        field, "must be a next_page_token from an earlier response", token);
  }
  if (token_query != query) {
    return InvalidField(field,
                        "was made for a different parent or filter; list "
                        "again without page_token",
                        token);
  }
  return std::string(parts[2]);
}

}  // namespace slussen::core
