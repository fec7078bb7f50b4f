// Page tokens for listings (AIP-158).
//
// A token is opaque to clients: base64url of a version, a fingerprint of the
// query it belongs to, and the cursor (the last id returned; ids sort by
// creation time, see ids.h). A token used with another parent or filter is
// refused, rather than silently paging through something else.
//
//   const uint64_t query = QueryFingerprint(canonical_query_bytes);
//   ASSIGN_OR_RETURN(std::string before,
//                    DecodePageToken("page_token", request.page_token(),
//                                    query));
//   response.set_next_page_token(EncodePageToken(last_id, query));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_PAGE_TOKEN_H_
#define SLUSSEN_BROKER_CORE_MODEL_PAGE_TOKEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/names.h"

namespace slussen::core {

// A stable 64-bit fingerprint (FNV-1a) of a canonical query encoding.
uint64_t QueryFingerprint(absl::string_view canonical_query);

// The token continuing after `cursor` (a resource id).
std::string EncodePageToken(absl::string_view cursor, uint64_t query);

// The cursor of `token`: empty for an empty token; INVALID_ARGUMENT naming
// `field` for a malformed token (or one longer than 256 characters), a cursor
// `valid_cursor` refuses (by default: not a server-made id), or one made for
// another query.
absl::StatusOr<std::string> DecodePageToken(
    absl::string_view field, absl::string_view token, uint64_t query,
    bool (*valid_cursor)(absl::string_view) = IsResourceId);

// One page of `ids` (sorted ascending) after the cursor of `page_token`:
// the listings of the small, national directory, read whole.
struct IdPage {
  size_t begin = 0;
  size_t end = 0;
  std::string next_page_token;
};
absl::StatusOr<IdPage> PageOfIds(const std::vector<std::string>& ids,
                                 absl::string_view page_token, int page_size,
                                 uint64_t query);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_PAGE_TOKEN_H_
