// The Redis event log read as the event feed reads it: every watched
// region in one call (ReadAfterEach), whole entries, only regions with
// news; on one Redis the call waits for news (XREAD BLOCK), on a Cluster
// it reads the regions of every primary at once. Retention removes the
// events before a time and remembers the last one removed.
#include "broker/store/redis_event_log.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace slussen::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Appends an entry of one event (its referral `referral`) to `region`'s
// stream, as the stores do; its id.
std::string Append(store::RedisPool& pool, const std::string& region,
                   const std::string& referral) {
  slussen::v1::Event event;
  event.set_referral(referral);
  absl::StatusOr<store::RedisValue> id =
      pool.Command({"XADD", store::keys::Events(region), "*", "event",
                    event.SerializeAsString()});
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? id->str : "";
}

std::vector<std::string> Referrals(
    const std::vector<core::LoggedEvent>& events) {
  std::vector<std::string> out;
  for (const core::LoggedEvent& logged : events) {
    out.push_back(logged.event.referral());
  }
  return out;
}

class RedisEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    pool_ = std::make_unique<store::RedisPool>(redis_->ClientOptions());
    log_ = std::make_unique<store::RedisEventLog>(pool_.get());
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<store::RedisPool> pool_;
  std::unique_ptr<store::RedisEventLog> log_;
};

TEST_F(RedisEventLogTest, ReadsTheNewsOfEveryRegionInOneCall) {
  const std::string start = Append(*pool_, "13", "a");
  Append(*pool_, "13", "b");
  Append(*pool_, "13", "c");
  const std::string last_19 = Append(*pool_, "19", "x");
  absl::StatusOr<std::map<std::string, std::vector<core::LoggedEvent>>> read =
      log_->ReadAfterEach({{"13", start}, {"19", last_19}, {"20", "0-0"}},
                          /*limit=*/10, absl::ZeroDuration());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u) << "regions without news are left out";
  EXPECT_THAT(Referrals(read->at("13")), ElementsAre("b", "c"));
  EXPECT_EQ(read->at("13").back().position,
            log_->LastPosition("13").value_or(""));
  EXPECT_EQ(read->at("13")[0].event.name(),
            absl::StrCat("regions/13/events/", read->at("13")[0].position));

  // At most `limit` entries a region.
  read = log_->ReadAfterEach({{"13", "0-0"}}, 2, absl::ZeroDuration());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(Referrals(read->at("13")), ElementsAre("a", "b"));

  // A position inside an entry is the feed's mistake, refused.
  EXPECT_FALSE(
      log_->ReadAfterEach({{"13", start + ".0"}}, 2, absl::ZeroDuration())
          .ok());
}

TEST_F(RedisEventLogTest, WaitsForNewsOnOneRedis) {
  ASSERT_TRUE(log_->CanWait());
  const std::string start = Append(*pool_, "13", "a");
  // Nothing new: an empty answer after the wait.
  absl::StatusOr<std::map<std::string, std::vector<core::LoggedEvent>>> read =
      log_->ReadAfterEach({{"13", start}}, 10, absl::Milliseconds(20));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, IsEmpty());
  // News while it waits: the answer.
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    store::RedisPool other(redis_->ClientOptions());
    Append(other, "19", "b");
  });
  read = log_->ReadAfterEach({{"13", start}, {"19", "0-0"}}, 10,
                             absl::Milliseconds(900));
  writer.join();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->count("19"), 1u) << "the news came during the wait";
  EXPECT_THAT(Referrals(read->at("19")), ElementsAre("b"));
}

TEST(RedisEventLogClusterTest, ReadsTheRegionsOfEveryPrimaryAtOnce) {
  absl::StatusOr<std::unique_ptr<RedisCluster>> cluster =
      RedisCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  store::RedisPool pool((*cluster)->ClientOptions());
  store::RedisEventLog log(&pool);
  EXPECT_FALSE(log.CanWait()) << "a Cluster cannot block on several slots";
  std::map<std::string, std::string> positions;
  for (const char* region :
       {"01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13",
        "14", "17", "18", "19", "20", "21", "22", "23", "24", "25"}) {
    positions[region] = "0-0";
    Append(pool, region, absl::StrCat("r", region));
  }
  absl::StatusOr<std::map<std::string, std::vector<core::LoggedEvent>>> read =
      log.ReadAfterEach(positions, 10, absl::Seconds(1));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), positions.size());
  for (const auto& [region, events] : *read) {
    EXPECT_THAT(Referrals(events), ElementsAre(absl::StrCat("r", region)));
  }
}

TEST_F(RedisEventLogTest, AppendsAnEventOnceUnderItsMark) {
  slussen::v1::Event event;
  event.set_type(slussen::v1::EVENT_TYPE_QUEUE_SHORTFALL_FORECAST);
  event.set_queue("regions/13/queues/halsosam~13");
  event.mutable_forecast()->set_warning_weeks(8);
  EXPECT_EQ(
      log_->AppendOnce("13", "week-1", event, absl::Hours(1)).value_or(false),
      true);
  // The same mark again: told already, nothing appended.
  EXPECT_EQ(
      log_->AppendOnce("13", "week-1", event, absl::Hours(1)).value_or(true),
      false);
  // Another mark, or another region, is another event.
  EXPECT_EQ(
      log_->AppendOnce("13", "week-2", event, absl::Hours(1)).value_or(false),
      true);
  EXPECT_EQ(
      log_->AppendOnce("19", "week-1", event, absl::Hours(1)).value_or(false),
      true);
  const absl::StatusOr<std::vector<core::LoggedEvent>> read =
      log_->ReadAfter("13", "", 10);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].event.queue(), "regions/13/queues/halsosam~13");
  EXPECT_EQ((*read)[0].event.forecast().warning_weeks(), 8);
  // The mark lasts as long as it was asked to.
  const absl::StatusOr<store::RedisValue> ttl =
      pool_->Command({"PTTL", store::keys::EventOnce("13", "week-1")});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 3600 * 1000);
}

// Appends an event (its referral `referral`) to `region`'s stream under
// the entry id `id`.
void AppendAt(store::RedisPool& pool, const std::string& region,
              const std::string& id, const std::string& referral) {
  slussen::v1::Event event;
  event.set_referral(referral);
  absl::StatusOr<store::RedisValue> added =
      pool.Command({"XADD", store::keys::Events(region), id, "event",
                    event.SerializeAsString()});
  EXPECT_TRUE(added.ok()) << added.status();
}

TEST_F(RedisEventLogTest, RemovesTheEventsBeforeATimeAndRemembersTheLast) {
  AppendAt(*pool_, "13", "1000-0", "a");
  AppendAt(*pool_, "13", "2000-0", "b");
  AppendAt(*pool_, "13", "2000-1", "c");
  AppendAt(*pool_, "13", "3000-0", "d");
  EXPECT_EQ(log_->RemovedBefore("13").value_or("?"), "");

  EXPECT_EQ(log_->RemoveBefore("13", absl::FromUnixMillis(2500)).value_or(-1),
            3);
  absl::StatusOr<std::vector<core::LoggedEvent>> kept =
      log_->ReadAfter("13", "0-0", 10);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_THAT(Referrals(*kept), ElementsAre("d"));
  // The last entry removed, not the time: a reader at 2000-1 missed nothing.
  EXPECT_EQ(log_->RemovedBefore("13").value_or("?"), "2000-1");

  // Nothing before an earlier time is left, and the mark stays.
  EXPECT_EQ(log_->RemoveBefore("13", absl::FromUnixMillis(1500)).value_or(-1),
            0);
  EXPECT_EQ(log_->RemoveBefore("13", absl::FromUnixMillis(2500)).value_or(-1),
            0);
  EXPECT_EQ(log_->RemovedBefore("13").value_or("?"), "2000-1");
  // A region with no events, or none old enough, is not marked.
  EXPECT_EQ(log_->RemoveBefore("19", absl::FromUnixMillis(2500)).value_or(-1),
            0);
  EXPECT_EQ(log_->RemovedBefore("19").value_or("?"), "");
  EXPECT_EQ(log_->RemoveBefore("13", absl::FromUnixMillis(3000)).value_or(-1),
            0);
  EXPECT_EQ(log_->RemovedBefore("13").value_or("?"), "2000-1");

  // Every entry removed: a watch from now starts after the last one
  // removed, not at the stream's start (from where its token would be
  // refused, and a reader from memory would still find them).
  EXPECT_EQ(log_->LastPosition("13").value_or("?"), "3000-0");
  EXPECT_EQ(log_->RemoveBefore("13", absl::FromUnixMillis(3001)).value_or(-1),
            1);
  EXPECT_EQ(log_->LastPosition("13").value_or("?"), "3000-0");
  EXPECT_EQ(log_->LastPosition("19").value_or("?"), "0-0");
}

}  // namespace
}  // namespace slussen::testing
