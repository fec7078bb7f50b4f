#include "broker/core/ports/ids.h"

#include <cstdint>
#include <set>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace slussen::core {
namespace {

using ::slussen::testing::FakeClock;

constexpr absl::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// 2026-12-23 08:00:00 UTC, in milliseconds since the epoch.
constexpr int64_t kMillis = 1798012800000;

absl::Time Start() { return absl::FromUnixMillis(kMillis); }

bool IsCrockford26(const std::string& id) {
  if (id.size() != 26) return false;
  for (char c : id) {
    if (kCrockford.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

// Expected strings computed outside the code under test, in Python:
//   v = (ms << 80) | (hi16 << 64) | lo64
//   26 characters of "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 5 bits each, from
//   the top (the top two of the 130 bits are zero).
TEST(EncodeUlid, KnownVectors) {
  EXPECT_EQ(EncodeUlid(0, 0, 0), "00000000000000000000000000");
  EXPECT_EQ(EncodeUlid(1, 0, 0), "00000000010000000000000000");
  EXPECT_EQ(EncodeUlid(0, 0, 1), "00000000000000000000000001");
  EXPECT_EQ(EncodeUlid(0, 0xFFFF, 0xFFFFFFFFFFFFFFFFull),
            "0000000000ZZZZZZZZZZZZZZZZ");
  // The largest ULID: 48 bits of time and 80 of randomness all set.
  EXPECT_EQ(EncodeUlid((uint64_t{1} << 48) - 1, 0xFFFF, 0xFFFFFFFFFFFFFFFFull),
            "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  // The time prefix of the ULID specification's example, 01ARYZ6S41.
  EXPECT_EQ(EncodeUlid(1469918176385, 0, 0), "01ARYZ6S410000000000000000");
  EXPECT_EQ(EncodeUlid(1469918176385, 0xABCD, 0x0123456789ABCDEFull),
            "01ARYZ6S41NF6G28T5CY4TQKFF");
  EXPECT_EQ(EncodeUlid(kMillis, 0, 0), "01MAGYM3000000000000000000");
}

TEST(EncodeUlid, IgnoresBitsAboveSixteenInTheHighRandomPart) {
  EXPECT_EQ(EncodeUlid(1469918176385, 0xFFFFABCD, 0x0123456789ABCDEFull),
            "01ARYZ6S41NF6G28T5CY4TQKFF");
}

TEST(MinIdAt, IsTheTimePrefixFollowedByZeros) {
  EXPECT_EQ(MinIdAt(absl::FromUnixMillis(1469918176385)),
            "01ARYZ6S410000000000000000");
  EXPECT_EQ(MinIdAt(absl::UnixEpoch()), "00000000000000000000000000");
  // Before the epoch there are no ids; the smallest id stands in.
  EXPECT_EQ(MinIdAt(absl::UnixEpoch() - absl::Hours(1)),
            "00000000000000000000000000");
}

TEST(UlidGenerator, MakesTwentySixCrockfordCharacters) {
  FakeClock clock(Start());
  UlidGenerator ids(&clock);
  for (int i = 0; i < 100; ++i) {
    const std::string id = ids.NewId();
    EXPECT_TRUE(IsCrockford26(id)) << id;
  }
}

TEST(UlidGenerator, IdStartsWithItsTime) {
  FakeClock clock(Start());
  UlidGenerator ids(&clock);
  EXPECT_EQ(ids.NewId().substr(0, 10), "01MAGYM300");
}

TEST(UlidGenerator, LaterIdsSortAfterEarlierOnes) {
  FakeClock clock(Start());
  UlidGenerator ids(&clock);
  std::string previous = ids.NewId();
  for (int i = 0; i < 1000; ++i) {
    clock.Advance(absl::Milliseconds(1));
    const std::string next = ids.NewId();
    ASSERT_GT(next, previous) << "after " << i + 1 << " ms";
    previous = next;
  }
}

TEST(UlidGenerator, MinIdAtBoundsIdsMadeAtThatTime) {
  FakeClock clock(Start());
  UlidGenerator ids(&clock);
  const std::string min_now = MinIdAt(Start());
  const std::string min_next = MinIdAt(Start() + absl::Milliseconds(1));
  for (int i = 0; i < 1000; ++i) {
    const std::string id = ids.NewId();
    EXPECT_LE(min_now, id);
    EXPECT_LT(id, min_next);
  }
  // Sub-millisecond times count as their millisecond.
  clock.Advance(absl::Microseconds(999));
  EXPECT_LE(min_now, ids.NewId());
}

TEST(UlidGenerator, TenThousandIdsInOneMillisecondAreUnique) {
  FakeClock clock(Start());
  UlidGenerator ids(&clock);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(ids.NewId());
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace slussen::core
