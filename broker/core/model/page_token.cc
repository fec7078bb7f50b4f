#include "broker/core/model/page_token.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

constexpr absl::string_view kVersion = "p1";
// The tokens this server makes are about 110 characters long.
constexpr size_t kMaxTokenChars = 256;

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

absl::StatusOr<std::string> DecodePageToken(
    absl::string_view field, absl::string_view token, uint64_t query,
    bool (*valid_cursor)(absl::string_view)) {
  if (token.empty()) return std::string();
  if (token.size() > kMaxTokenChars) {
    return InvalidField(field,
                        absl::StrCat("must be a next_page_token from an "
                                     "earlier response (at most ",
                                     kMaxTokenChars, " characters)"),
                        token);
  }
  std::string plain;
  const std::vector<absl::string_view> parts =
      absl::WebSafeBase64Unescape(token, &plain)
          ? absl::StrSplit(plain, '.')
          : std::vector<absl::string_view>();
  uint64_t token_query = 0;
  if (parts.size() != 3 || parts[0] != kVersion ||
      !absl::SimpleHexAtoi(parts[1], &token_query) || !valid_cursor(parts[2])) {
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

absl::StatusOr<IdPage> PageOfIds(const std::vector<std::string>& ids,
                                 absl::string_view page_token, int page_size,
                                 uint64_t query) {
  ASSIGN_OR_RETURN(const std::string after,
                   DecodePageToken("page_token", page_token, query, IsSlugId));
  IdPage page;
  page.begin = static_cast<size_t>(
      std::upper_bound(ids.begin(), ids.end(), after) - ids.begin());
  if (after.empty()) page.begin = 0;
  page.end = std::min(ids.size(), page.begin + page_size);
  if (page.end < ids.size()) {
    page.next_page_token = EncodePageToken(ids[page.end - 1], query);
  }
  return page;
}

}  // namespace slussen::core
