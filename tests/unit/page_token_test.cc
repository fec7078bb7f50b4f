#include "broker/core/model/page_token.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kCursor[] = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C";

// FNV-1a 64 values computed outside the code under test, in Python:
//   h = 0xcbf29ce484222325
//   for b in s.encode(): h = ((h ^ b) * 0x100000001b3) % 2**64
constexpr uint64_t kFnvOfEmpty = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvOfA = 0xaf63dc4c8601ec8cull;  // the published vector
constexpr uint64_t kFnvOfRegion13 =
    0x76161e568b53321aull;  // "parent=regions/13"
constexpr uint64_t kFnvOfRegion14 =
    0x761619568b53299bull;  // "parent=regions/14"

void ExpectRefused(const absl::StatusOr<std::string>& cursor,
                   absl::string_view why) {
  EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument)
      << cursor.status();
  EXPECT_THAT(std::string(cursor.status().message()),
              StartsWith("page_token "));
  EXPECT_THAT(std::string(cursor.status().message()), HasSubstr(why));
}

TEST(QueryFingerprint, IsFnv1a64) {
  EXPECT_EQ(QueryFingerprint(""), kFnvOfEmpty);
  EXPECT_EQ(QueryFingerprint("a"), kFnvOfA);
  EXPECT_EQ(QueryFingerprint("parent=regions/13"), kFnvOfRegion13);
  EXPECT_EQ(QueryFingerprint("parent=regions/14"), kFnvOfRegion14);
}

TEST(QueryFingerprint, DiffersForDifferentQueries) {
  EXPECT_NE(QueryFingerprint("parent=regions/13"),
            QueryFingerprint("parent=regions/14"));
  EXPECT_NE(QueryFingerprint("ab"), QueryFingerprint("ba"));
  EXPECT_NE(QueryFingerprint("a"),
            QueryFingerprint(absl::string_view("a\0", 2)));
}

TEST(PageToken, RoundTrips) {
  const uint64_t query = QueryFingerprint("parent=regions/13");
  const std::string token = EncodePageToken(kCursor, query);
  EXPECT_FALSE(token.empty());
  const absl::StatusOr<std::string> cursor =
      DecodePageToken("page_token", token, query);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, kCursor);
}

TEST(PageToken, IsUrlSafe) {
  for (uint64_t query : {uint64_t{0}, ~uint64_t{0}, kFnvOfRegion13}) {
    const std::string token = EncodePageToken(kCursor, query);
    EXPECT_EQ(token.find_first_of("+/= "), std::string::npos) << token;
  }
}

TEST(PageToken, RoundTripsExtremeQueries) {
  for (uint64_t query : {uint64_t{0}, ~uint64_t{0}}) {
    const absl::StatusOr<std::string> cursor =
        DecodePageToken("page_token", EncodePageToken(kCursor, query), query);
    ASSERT_TRUE(cursor.ok()) << cursor.status();
    EXPECT_EQ(*cursor, kCursor);
  }
}

TEST(PageToken, EmptyTokenIsTheFirstPage) {
  const absl::StatusOr<std::string> cursor =
      DecodePageToken("page_token", "", kFnvOfRegion13);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, "");
}

TEST(PageToken, TokenForAnotherQueryIsRefused) {
  const std::string token = EncodePageToken(kCursor, kFnvOfRegion13);
  ExpectRefused(DecodePageToken("page_token", token, kFnvOfRegion14),
                "different parent or filter");
}

TEST(PageToken, GarbageIsRefused) {
  for (absl::string_view garbage : {"not a token", "!!!!", "cDE", "AAAA",
                                    "p1.0.01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C"}) {
    SCOPED_TRACE(garbage);
    ExpectRefused(DecodePageToken("page_token", garbage, kFnvOfRegion13),
                  "next_page_token");
  }
}

TEST(PageToken, OverlongTokenIsRefusedBeforeDecoding) {
  // A real token followed by padding the decoder would skip: refused by
  // its length alone.
  const std::string token =
      EncodePageToken(kCursor, kFnvOfRegion13) + std::string(300, 'A');
  ExpectRefused(DecodePageToken("page_token", token, kFnvOfRegion13),
                "at most 256 characters");
  // The longest cursor a listing makes fits well within the limit.
  const std::string longest =
      EncodePageToken(std::string(63, 'a'), ~uint64_t{0});
  EXPECT_LE(longest.size(), 128u);
  EXPECT_TRUE(DecodePageToken("page_token", longest, ~uint64_t{0},
                              [](absl::string_view) { return true; })
                  .ok());
}

TEST(PageToken, TamperedTokenIsRefused) {
  std::string token = EncodePageToken(kCursor, kFnvOfRegion13);
  token.pop_back();
  token.pop_back();
  token.pop_back();
  EXPECT_FALSE(DecodePageToken("page_token", token, kFnvOfRegion13).ok());
}

// Tokens built by hand in the documented layout, base64url of
// "{version}.{query in hex}.{cursor}", each with one part wrong.
TEST(PageToken, WrongVersionIsRefused) {
  const std::string hex = absl::StrCat(absl::Hex(kFnvOfRegion13));
  for (absl::string_view version : {"p2", "p0", "", "P1"}) {
    SCOPED_TRACE(version);
    const std::string token = absl::WebSafeBase64Escape(
        absl::StrCat(version, ".", hex, ".", kCursor));
    ExpectRefused(DecodePageToken("page_token", token, kFnvOfRegion13),
                  "next_page_token");
  }
}

TEST(PageToken, TokenInTheDocumentedLayoutIsAccepted) {
  // The counterpart of the refusals below: only one part differs there.
  const std::string token = absl::WebSafeBase64Escape(
      absl::StrCat("p1.", absl::Hex(kFnvOfRegion13), ".", kCursor));
  const absl::StatusOr<std::string> cursor =
      DecodePageToken("page_token", token, kFnvOfRegion13);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, kCursor);
}

TEST(PageToken, BadCursorIsRefused) {
  const std::string hex = absl::StrCat(absl::Hex(kFnvOfRegion13));
  for (absl::string_view cursor :
       {"", "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1", "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1U",
        "regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C"}) {
    SCOPED_TRACE(cursor);
    const std::string token =
        absl::WebSafeBase64Escape(absl::StrCat("p1.", hex, ".", cursor));
    ExpectRefused(DecodePageToken("page_token", token, kFnvOfRegion13),
                  "next_page_token");
  }
}

TEST(PageToken, BadQueryPartIsRefused) {
  for (absl::string_view query : {"", "xyz", "1.2", "11111111111111111"}) {
    SCOPED_TRACE(query);
    const std::string token =
        absl::WebSafeBase64Escape(absl::StrCat("p1.", query, ".", kCursor));
    EXPECT_EQ(
        DecodePageToken("page_token", token, kFnvOfRegion13).status().code(),
        absl::StatusCode::kInvalidArgument);
  }
}

TEST(PageToken, MessageNamesTheGivenField) {
  const absl::StatusOr<std::string> cursor =
      DecodePageToken("request.page_token", "!!!!", kFnvOfRegion13);
  EXPECT_THAT(std::string(cursor.status().message()),
              StartsWith("request.page_token "));
}

TEST(PageToken, TheCallerSaysWhatACursorLooksLike) {
  // A listing whose cursor is a position, not an id ("p12" of a queue).
  const auto is_position = [](absl::string_view c) {
    return c.size() > 1 && c[0] == 'p';
  };
  const std::string token = EncodePageToken("p12", kFnvOfRegion13);
  const absl::StatusOr<std::string> cursor =
      DecodePageToken("page_token", token, kFnvOfRegion13, is_position);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, "p12");
  // The default (an id) refuses it; the position rule refuses an id.
  EXPECT_FALSE(DecodePageToken("page_token", token, kFnvOfRegion13).ok());
  EXPECT_FALSE(DecodePageToken("page_token",
                               EncodePageToken(kCursor, kFnvOfRegion13),
                               kFnvOfRegion13, is_position)
                   .ok());
}

}  // namespace
}  // namespace slussen::core
