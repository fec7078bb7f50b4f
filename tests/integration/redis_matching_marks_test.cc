// RedisMatchingMarks against a real, private redis-server: the lease is one
// holder's at a time and only its holder renews or ends it; the marks read
// "0" and no day before anything happened, a pass's end never takes the
// seen count back; a dirty mark outlives a pass begun before it; and the
// sweep's counts of waiting referrals and holds due, region by region.
#include "broker/store/redis_matching_marks.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace slussen::store {
namespace {

using ::slussen::testing::RedisServer;

constexpr char kRegion[] = "13";

class RedisMatchingMarksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    pool_ = std::make_unique<RedisPool>(
        server_->ClientOptions({.command_timeout = absl::Seconds(10)}));
    marks_ = std::make_unique<RedisMatchingMarks>(pool_.get());
  }

  RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << argv[0] << ": " << reply.status();
    return reply.value_or(RedisValue());
  }

  RedisMatchingMarks::Marks MustRead() {
    absl::StatusOr<RedisMatchingMarks::Marks> marks = marks_->Read(kRegion);
    EXPECT_TRUE(marks.ok()) << marks.status();
    return marks.value_or(RedisMatchingMarks::Marks());
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<RedisMatchingMarks> marks_;
};

TEST_F(RedisMatchingMarksTest, TheLeaseIsOneHoldersAndOnlyItsHolderEndsIt) {
  const absl::Duration ttl = absl::Seconds(30);
  EXPECT_EQ(marks_->Lock(kRegion, "a", ttl).value_or(false), true);
  EXPECT_EQ(marks_->Lock(kRegion, "b", ttl).value_or(true), false);
  EXPECT_EQ(marks_->Unlock(kRegion, "b").value_or(true), false);
  EXPECT_EQ(Redis({"GET", keys::MatchingLock(kRegion)}).str, "a");
  EXPECT_EQ(marks_->Unlock(kRegion, "a").value_or(false), true);
  EXPECT_TRUE(Redis({"GET", keys::MatchingLock(kRegion)}).is_nil());
  EXPECT_EQ(marks_->Lock(kRegion, "b", ttl).value_or(false), true);
}

TEST_F(RedisMatchingMarksTest, OnlyTheHolderRenewsTheLease) {
  ASSERT_EQ(marks_->Lock(kRegion, "a", absl::Seconds(5)).value_or(false), true);
  EXPECT_EQ(marks_->Renew(kRegion, "b", absl::Seconds(60)).value_or(true),
            false);
  EXPECT_LE(Redis({"PTTL", keys::MatchingLock(kRegion)}).integer, 5000);
  EXPECT_EQ(marks_->Renew(kRegion, "a", absl::Seconds(60)).value_or(false),
            true);
  EXPECT_GT(Redis({"PTTL", keys::MatchingLock(kRegion)}).integer, 5000);
}

TEST_F(RedisMatchingMarksTest, MarkingDirtyTellsWhatTheLeaseHasLeft) {
  absl::StatusOr<std::optional<absl::Duration>> left =
      marks_->MarkDirty(kRegion, absl::Seconds(60));
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(*left, std::nullopt);  // no lease
  ASSERT_EQ(marks_->Lock(kRegion, "a", absl::Seconds(30)).value_or(false),
            true);
  left = marks_->MarkDirty(kRegion, absl::Seconds(60));
  ASSERT_TRUE(left.ok()) << left.status();
  ASSERT_TRUE(left->has_value());
  EXPECT_GT(**left, absl::ZeroDuration());
  EXPECT_LE(**left, absl::Seconds(30));
  EXPECT_EQ(marks_->IsDirty(kRegion).value_or(false), true);
  EXPECT_GT(Redis({"PTTL", keys::MatchingDirty(kRegion)}).integer, 30000);
}

TEST_F(RedisMatchingMarksTest, APassBeginsUndirtiedSeeingTheChangesCounted) {
  EXPECT_EQ(marks_->Changes(kRegion).value_or(""), "0");
  ASSERT_TRUE(marks_->CountChange(kRegion).ok());
  ASSERT_TRUE(marks_->CountChange(kRegion).ok());
  ASSERT_TRUE(marks_->MarkDirty(kRegion, absl::Seconds(60)).ok());
  EXPECT_EQ(marks_->BeginPass(kRegion).value_or(""), "2");
  EXPECT_EQ(marks_->IsDirty(kRegion).value_or(true), false);
  EXPECT_EQ(marks_->Changes(kRegion).value_or(""), "2");
  // Marked during the pass: still dirty at its end.
  ASSERT_TRUE(marks_->MarkDirty(kRegion, absl::Seconds(60)).ok());
  EXPECT_EQ(marks_->IsDirty(kRegion).value_or(false), true);
}

TEST_F(RedisMatchingMarksTest, NothingReadsAsNoChangesAndNoPass) {
  const RedisMatchingMarks::Marks marks = MustRead();
  EXPECT_EQ(marks.changes, "0");
  EXPECT_EQ(marks.seen, "0");
  EXPECT_EQ(marks.passed, std::nullopt);
}

TEST_F(RedisMatchingMarksTest, APassEndingNeverTakesTheSeenCountBack) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(marks_->CountChange(kRegion).ok());
  ASSERT_TRUE(marks_->EndPass(kRegion, "5", "2026-12-07").ok());
  RedisMatchingMarks::Marks marks = MustRead();
  EXPECT_EQ(marks.changes, "5");
  EXPECT_EQ(marks.seen, "5");
  EXPECT_EQ(marks.passed, "2026-12-07");
  // A slower pass that began before the last changes ends later.
  ASSERT_TRUE(marks_->EndPass(kRegion, "3", "2026-12-08").ok());
  marks = MustRead();
  EXPECT_EQ(marks.seen, "5");
  EXPECT_EQ(marks.passed, "2026-12-08");
}

TEST_F(RedisMatchingMarksTest, WorkIsCountedRegionByRegion) {
  const absl::Time now = absl::FromUnixSeconds(1'780'000'000);
  const std::string before = std::to_string(absl::ToUnixMillis(now) - 1);
  const std::string after = std::to_string(absl::ToUnixMillis(now) + 1);
  Redis({"ZADD", keys::Matchable("01"), "1", "r1", "2", "r2"});
  Redis({"ZADD", keys::Holds("03"), before, "o1", after, "o2"});
  absl::StatusOr<std::vector<RedisMatchingMarks::Work>> work =
      marks_->CountWork({"01", "03", "13"}, now);
  ASSERT_TRUE(work.ok()) << work.status();
  ASSERT_EQ(work->size(), 3u);
  EXPECT_EQ((*work)[0].waiting, 2);
  EXPECT_EQ((*work)[0].holds_due, 0);
  EXPECT_EQ((*work)[1].waiting, 0);
  EXPECT_EQ((*work)[1].holds_due, 1);
  EXPECT_EQ((*work)[2].waiting, 0);
  EXPECT_EQ((*work)[2].holds_due, 0);
}

TEST_F(RedisMatchingMarksTest, AKeyOfAnotherTypeIsAnErrorNotAMark) {
  Redis({"HSET", keys::MatchingSeen(kRegion), "f", "v"});
  EXPECT_EQ(marks_->Read(kRegion).status().code(), absl::StatusCode::kInternal);
}

TEST_F(RedisMatchingMarksTest, RedisAwayIsUnavailable) {
  ASSERT_TRUE(server_->Kill().ok());
  EXPECT_EQ(marks_->Lock(kRegion, "a", absl::Seconds(1)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(marks_->Read(kRegion).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace slussen::store
