// Event positions and watchers' resume tokens: their form is checked before
// a position reaches the store.
#include "broker/core/ports/event_log.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

TEST(EventLogTest, APositionIsAStreamEntryPerhapsWithAnIndexInIt) {
  for (const char* good : {"0-0", "1767225600000-0", "1767225600000-12.0",
                           "1767225600000-0.249", "1-1.999999"}) {
    EXPECT_TRUE(IsStreamPosition(good)) << good;
  }
  for (const char* bad : {"", "-", "1767225600000", "1767225600000-", "-0",
                          "1-0.", "1-0.x", "1-0.1.2", "1-0.1234567", "1.2-0",
                          "a-0", "1-0-0", " 1-0", "123456789012345678901-0"}) {
    EXPECT_FALSE(IsStreamPosition(bad)) << bad;
  }
}

TEST(EventLogTest, ATokenOfEveryRegionAtItsLongestPositionsIsTakenBack) {
  std::map<std::string, std::string> positions;
  for (int region = 1; region <= 25; ++region) {
    if (region == 2 || region == 11 || region == 15 || region == 16) continue;
    positions[absl::StrCat(region < 10 ? "0" : "", region)] =
        "99999999999999999999-99999999999999999999.999999";
  }
  ASSERT_EQ(positions.size(), 21u);
  const std::string token = EncodeWatchPositions(positions);
  const absl::StatusOr<std::map<std::string, std::string>> decoded =
      DecodeWatchPositions("resume_token", token);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, positions);

  const absl::StatusOr<std::map<std::string, std::string>> forged =
      DecodeWatchPositions("resume_token", "13=1-0.x");
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(forged.status().message(), ::testing::HasSubstr("resume_token"));
}

}  // namespace
}  // namespace slussen::core
