// The clocks of RedisReferralStore against a real, private redis-server:
// clocks read one by one or together, and written one by one or many at
// once, each write checked against the version read, so that a batch in
// which another replica got to some clocks first writes the rest and
// reports the lost ones, and racing batches write each step exactly once.
#include <algorithm>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "broker/core/deadline_keeper.h"
#include "broker/core/names.h"
#include "broker/core/proto_time.h"
#include "broker/core/referral_repository.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_keys.h"
#include "broker/store/redis_referral_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::core::ClockRecord;
using ::slussen::core::ClockWrite;
using ::slussen::testing::RedisServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRegion[] = "13";
const absl::Time kStart = absl::FromUnixSeconds(1'780'000'000);

// The code of each status, for a readable comparison.
std::vector<absl::StatusCode> Codes(const std::vector<absl::Status>& all) {
  std::vector<absl::StatusCode> codes;
  for (const absl::Status& status : all) codes.push_back(status.code());
  return codes;
}

// A new running call-back clock of referral "ref<n>" in `region`, due
// `due_hours` after kStart.
ClockWrite NewClock(int n, const std::string& region = kRegion,
                    int due_hours = 72) {
  ClockWrite write;
  ClockRecord& r = write.record;
  r.region = region;
  r.id = absl::StrCat("ref", n, "-1-0");
  v1::Clock& clock = r.clock;
  clock.set_name(
      core::ClockName{region, r.id, absl::StrCat("ref", n)}.ToString());
  clock.set_referral(absl::StrCat("regions/", region, "/referrals/ref", n));
  clock.set_kind(v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  clock.set_state(v1::CLOCK_STATE_RUNNING);
  *clock.mutable_start_time() = core::ToProtoTimestamp(kStart);
  *clock.mutable_warn_time() = core::ToProtoTimestamp(kStart + absl::Hours(48));
  *clock.mutable_due_time() =
      core::ToProtoTimestamp(kStart + absl::Hours(due_hours));
  r.next_fire = kStart + absl::Hours(48);
  return write;
}

// `read` warned: its next step, with the event, as FireDue writes it.
ClockWrite Warned(const ClockRecord& read) {
  ClockWrite write{.record = read};
  write.record.clock.set_warned(true);
  write.record.next_fire = core::ToAbslTime(read.clock.due_time());
  const absl::Time now = *read.next_fire;
  write.event =
      core::ClockEvent(write.record.clock, v1::EVENT_TYPE_CLOCK_WARNING, now);
  return write;
}

class RedisReferralStoreClocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    pool_ = MakePool();
    store_ = std::make_unique<RedisReferralStore>(pool_.get());
  }

  std::unique_ptr<RedisPool> MakePool() {
    absl::StatusOr<RedisAddress> address =
        RedisAddress::Parse(server_->address());
    EXPECT_TRUE(address.ok()) << address.status();
    RedisOptions options;
    options.address = address.value_or(RedisAddress());
    // Generous: parallel tests on two cores can hold an fsync up.
    options.command_timeout = absl::Seconds(10);
    return std::make_unique<RedisPool>(options);
  }

  // Writes `writes`, expecting every one to succeed; the records as they
  // are now.
  std::vector<ClockRecord> MustWrite(const std::vector<ClockWrite>& writes) {
    absl::StatusOr<std::vector<absl::Status>> written =
        store_->ApplyClocks(writes);
    EXPECT_TRUE(written.ok()) << written.status();
    std::vector<ClockRecord> records;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (written.ok()) {
        EXPECT_TRUE((*written)[i].ok()) << (*written)[i];
      }
      records.push_back(writes[i].record);
      ++records.back().version;
    }
    return records;
  }

  ClockRecord MustGet(const std::string& id) {
    absl::StatusOr<ClockRecord> record = store_->GetClock(kRegion, id);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.value_or(ClockRecord());
  }

  RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << argv[0] << ": " << reply.status();
    return reply.value_or(RedisValue());
  }

  long long Events(const std::string& region = kRegion) {
    return Redis({"XLEN", keys::Events(region)}).integer;
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<RedisReferralStore> store_;
};

TEST_F(RedisReferralStoreClocksTest, GetClocksReadsEachInOrderOneEntryAnId) {
  const std::vector<ClockRecord> made = MustWrite({NewClock(1), NewClock(2)});
  const absl::StatusOr<std::vector<std::optional<ClockRecord>>> read =
      store_->GetClocks(kRegion, {made[1].id, "ref9-1-0", made[0].id});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  ASSERT_TRUE((*read)[0].has_value());
  EXPECT_EQ((*read)[0]->id, made[1].id);
  EXPECT_EQ((*read)[0]->version, 1);
  EXPECT_EQ((*read)[0]->clock.name(), made[1].clock.name());
  EXPECT_EQ((*read)[0]->next_fire, made[1].next_fire);
  EXPECT_FALSE((*read)[1].has_value());
  ASSERT_TRUE((*read)[2].has_value());
  EXPECT_EQ((*read)[2]->id, made[0].id);

  const absl::StatusOr<std::vector<std::optional<ClockRecord>>> none =
      store_->GetClocks(kRegion, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST_F(RedisReferralStoreClocksTest,
       ABatchWritesTheClocksStillAsReadAndReportsTheLostOnes) {
  const std::vector<ClockRecord> made =
      MustWrite({NewClock(1), NewClock(2), NewClock(3), NewClock(4)});
  ASSERT_EQ(Events(), 0);  // clocks starting are no news
  // Another replica warns clock 3 first.
  ASSERT_TRUE(store_->ApplyClock(Warned(made[2])).ok());
  const std::string before_3 = MustGet(made[2].id).clock.SerializeAsString();

  ClockWrite missing = Warned(made[0]);
  missing.record.id = "ref9-1-0";
  const absl::StatusOr<std::vector<absl::Status>> written =
      store_->ApplyClocks({Warned(made[0]), NewClock(2), Warned(made[2]),
                           missing, Warned(made[3])});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_THAT(Codes(*written),
              ElementsAre(absl::StatusCode::kOk, absl::StatusCode::kAborted,
                          absl::StatusCode::kAborted,
                          absl::StatusCode::kNotFound, absl::StatusCode::kOk));
  EXPECT_THAT((*written)[2].message(), HasSubstr("changed"));

  // The two written are at version 2, warned, re-indexed at their due time
  // and announced; the lost ones are as the other writers left them.
  for (const int i : {0, 3}) {
    const ClockRecord now = MustGet(made[i].id);
    EXPECT_EQ(now.version, 2);
    EXPECT_TRUE(now.clock.warned());
    EXPECT_EQ(now.next_fire, core::ToAbslTime(made[i].clock.due_time()));
    EXPECT_EQ(Redis({"ZSCORE", keys::ClocksDue(kRegion), made[i].id}).str,
              absl::StrCat(absl::ToUnixMillis(*now.next_fire)));
  }
  EXPECT_EQ(MustGet(made[1].id).version, 1);
  EXPECT_EQ(MustGet(made[2].id).version, 2);
  EXPECT_EQ(MustGet(made[2].id).clock.SerializeAsString(), before_3);
  EXPECT_EQ(Redis({"EXISTS", keys::Clock(kRegion, "ref9-1-0")}).integer, 0);
  EXPECT_EQ(Events(), 3);  // the other replica's and this batch's two
}

TEST_F(RedisReferralStoreClocksTest, ABatchLargerThanAScriptCallLosesNothing) {
  constexpr int kClocks = 3 * RedisChange::kChangesPerScript + 5;
  std::vector<ClockWrite> news;
  for (int n = 0; n < kClocks; ++n) news.push_back(NewClock(n));
  const std::vector<ClockRecord> made = MustWrite(news);
  EXPECT_EQ(Redis({"ZCARD", keys::ClocksDue(kRegion)}).integer, kClocks);
  EXPECT_EQ(Redis({"ZCARD", keys::ClocksOpen(kRegion)}).integer, kClocks);

  // Every 50th already warned by another replica.
  std::vector<ClockWrite> steps;
  int lost = 0;
  for (int n = 0; n < kClocks; ++n) {
    if (n % 50 == 7) {
      ASSERT_TRUE(store_->ApplyClock(Warned(made[n])).ok());
      ++lost;
    }
    steps.push_back(Warned(made[n]));
  }
  const absl::StatusOr<std::vector<absl::Status>> written =
      store_->ApplyClocks(steps);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(written->size(), steps.size());
  for (int n = 0; n < kClocks; ++n) {
    EXPECT_EQ((*written)[n].code(),
              n % 50 == 7 ? absl::StatusCode::kAborted : absl::StatusCode::kOk)
        << n;
  }
  EXPECT_EQ(Events(), kClocks);  // each clock warned once, by someone
  EXPECT_GT(lost, 1);
}

TEST_F(RedisReferralStoreClocksTest, RacingBatchesWriteEachStepExactlyOnce) {
  constexpr int kClocks = 300;
  constexpr int kReplicas = 3;
  std::vector<ClockWrite> news;
  for (int n = 0; n < kClocks; ++n) news.push_back(NewClock(n));
  std::vector<ClockWrite> steps;
  for (const ClockRecord& record : MustWrite(news)) {
    steps.push_back(Warned(record));
  }
  std::vector<std::vector<absl::Status>> results(kReplicas);
  std::latch start(kReplicas);
  std::vector<std::thread> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    replicas.emplace_back([&, i] {
      std::unique_ptr<RedisPool> pool = MakePool();
      RedisReferralStore store(pool.get());
      // Each replica in another order, so that their batches interleave.
      std::vector<ClockWrite> mine = steps;
      std::rotate(mine.begin(), mine.begin() + i * kClocks / kReplicas,
                  mine.end());
      start.arrive_and_wait();
      absl::StatusOr<std::vector<absl::Status>> written =
          store.ApplyClocks(mine);
      if (written.ok()) {
        std::rotate(written->rbegin(),
                    written->rbegin() + i * kClocks / kReplicas,
                    written->rend());
        results[i] = *std::move(written);
      } else {
        results[i].assign(kClocks, written.status());
      }
    });
  }
  for (std::thread& replica : replicas) replica.join();
  for (int n = 0; n < kClocks; ++n) {
    int won = 0;
    for (int i = 0; i < kReplicas; ++i) {
      const absl::Status& status = results[i].at(n);
      EXPECT_TRUE(status.ok() || absl::IsAborted(status)) << status;
      won += status.ok() ? 1 : 0;
    }
    EXPECT_EQ(won, 1) << "clock " << n;
  }
  EXPECT_EQ(Events(), kClocks);
}

TEST_F(RedisReferralStoreClocksTest, ABatchOverTwoRegionsAnswersInItsOrder) {
  const std::vector<ClockRecord> made =
      MustWrite({NewClock(1), NewClock(2, "01"), NewClock(3)});
  EXPECT_EQ(Redis({"ZCARD", keys::ClocksDue("01")}).integer, 1);
  const absl::StatusOr<std::vector<absl::Status>> written = store_->ApplyClocks(
      {Warned(made[0]), NewClock(2, "01"), Warned(made[2]), Warned(made[1])});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_THAT(Codes(*written),
              ElementsAre(absl::StatusCode::kOk, absl::StatusCode::kAborted,
                          absl::StatusCode::kOk, absl::StatusCode::kOk));
  EXPECT_EQ(Events(kRegion), 2);
  EXPECT_EQ(Events("01"), 1);
}

TEST_F(RedisReferralStoreClocksTest, OpenClocksAfterAPositionComeInDueOrder) {
  // Due at 80, 72, 72, 72, 90 hours: by due time, then id.
  MustWrite({NewClock(1, kRegion, 80), NewClock(2), NewClock(3), NewClock(4),
             NewClock(5, kRegion, 90)});
  const auto ids = [&](const std::optional<core::OpenClockPosition>& after,
                       int limit) {
    std::vector<std::string> out;
    const absl::StatusOr<std::vector<ClockRecord>> open =
        store_->ListOpenClocks(kRegion, after, limit);
    EXPECT_TRUE(open.ok()) << open.status();
    for (const ClockRecord& record :
         open.value_or(std::vector<ClockRecord>())) {
      out.push_back(record.id);
    }
    return out;
  };
  const absl::Time due72 = kStart + absl::Hours(72);
  EXPECT_THAT(
      ids(std::nullopt, 10),
      ElementsAre("ref2-1-0", "ref3-1-0", "ref4-1-0", "ref1-1-0", "ref5-1-0"));
  // After a clock still there: by its rank.
  EXPECT_THAT(ids(core::OpenClockPosition{due72, "ref2-1-0"}, 10),
              ElementsAre("ref3-1-0", "ref4-1-0", "ref1-1-0", "ref5-1-0"));
  EXPECT_THAT(ids(core::OpenClockPosition{due72, "ref3-1-0"}, 2),
              ElementsAre("ref4-1-0", "ref1-1-0"));
  // After a clock gone (or never there) at that time: by due time and id.
  EXPECT_THAT(ids(core::OpenClockPosition{due72, "ref25-1-0"}, 10),
              ElementsAre("ref3-1-0", "ref4-1-0", "ref1-1-0", "ref5-1-0"));
  EXPECT_THAT(ids(core::OpenClockPosition{due72, "ref1-1-0"}, 1),
              ElementsAre("ref2-1-0"));
  EXPECT_THAT(
      ids(core::OpenClockPosition{kStart + absl::Hours(85), "ref2-1-0"}, 10),
      ElementsAre("ref5-1-0"));
  EXPECT_THAT(ids(core::OpenClockPosition{kStart + absl::Hours(95), "a"}, 10),
              ::testing::IsEmpty());
  EXPECT_THAT(ids(std::nullopt, 0), ::testing::IsEmpty());
}

TEST_F(RedisReferralStoreClocksTest, GetReferralsAnswersNulloptForAMissingOne) {
  const absl::StatusOr<std::vector<std::optional<core::ReferralRecord>>> none =
      store_->GetReferrals(kRegion, {"01ABSENT", "01ALSOABSENT"});
  ASSERT_TRUE(none.ok()) << none.status();
  ASSERT_EQ(none->size(), 2u);
  EXPECT_FALSE((*none)[0].has_value());
  EXPECT_FALSE((*none)[1].has_value());
}

TEST_F(RedisReferralStoreClocksTest, AnEmptyBatchWritesNothing) {
  const absl::StatusOr<std::vector<absl::Status>> written =
      store_->ApplyClocks({});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(written->empty());
  EXPECT_TRUE(Redis({"KEYS", "*"}).elements.empty());
}

}  // namespace
}  // namespace slussen::store
