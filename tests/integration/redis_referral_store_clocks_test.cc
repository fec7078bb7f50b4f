// The clocks of RedisReferralStore against a real, private redis-server:
// clocks read one by one or together, and written one by one or many at
// once, each write checked against the version read, so that a batch in
// which another replica got to some clocks first writes the rest and
// reports the lost ones, and racing batches write each step exactly once;
// and clocks fired inside Redis by their plans (PlannedFiringTest).
#include <algorithm>
#include <atomic>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/referral_repository.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_keys.h"
#include "broker/store/redis_referral_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "slussen/v1/event.pb.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_records.h"
#include "tests/support/sample_referrals.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::core::ClockRecord;
using ::slussen::core::ClockWrite;
using ::slussen::core::PlannedFiring;
using ::slussen::testing::RedisServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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
  return testing::SampleClock(n, region, kStart, absl::Hours(due_hours));
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
    // Generous: parallel tests on two cores can hold an fsync up.
    return std::make_unique<RedisPool>(
        server_->ClientOptions({.command_timeout = absl::Seconds(10)}));
  }

  // Runs `replica(i, store)` for i in [0, replicas) at once, each on a
  // thread with a store and pool of its own, as broker replicas are.
  void AtOnce(int replicas,
              const std::function<void(int, RedisReferralStore&)>& replica) {
    std::latch start(replicas);
    std::vector<std::thread> threads;
    for (int i = 0; i < replicas; ++i) {
      threads.emplace_back([&, i] {
        std::unique_ptr<RedisPool> pool = MakePool();
        RedisReferralStore store(pool.get());
        start.arrive_and_wait();
        replica(i, store);
      });
    }
    for (std::thread& thread : threads) thread.join();
  }

  // Writes `writes`, expecting every one to succeed; the records as they
  // are now, read back.
  std::vector<ClockRecord> MustWrite(const std::vector<ClockWrite>& writes) {
    absl::StatusOr<std::vector<absl::Status>> written =
        store_->ApplyClocks(writes);
    EXPECT_TRUE(written.ok()) << written.status();
    std::vector<ClockRecord> records;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (written.ok()) {
        EXPECT_TRUE((*written)[i].ok()) << (*written)[i];
      }
      records.push_back(MustGet(writes[i].record.id, writes[i].record.region));
    }
    return records;
  }

  ClockRecord MustGet(const std::string& id,
                      const std::string& region = kRegion) {
    absl::StatusOr<ClockRecord> record = store_->GetClock(region, id);
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

// Counting the clocks of a region whose every clock was counted by its
// write (its first came to a region with none open) writes nothing: a
// broker's count every 5 s leaves a quiet store as it is.
TEST(ClockCountTest, CountingWritesNothingWhereEveryClockWasCountedByItsWrite) {
  RedisServer::Options options;
  options.extra_args = {"--enable-debug-command", "local"};
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  RedisPool pool((*server)->ClientOptions());
  RedisReferralStore store(&pool);
  const auto digest = [&] {
    absl::StatusOr<RedisValue> reply = pool.Command({"DEBUG", "DIGEST"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->str : "";
  };
  ASSERT_TRUE(store.ApplyClock(NewClock(1)).ok());
  ASSERT_TRUE(store.ApplyClock(NewClock(2)).ok());
  const std::string before = digest();
  for (int i = 0; i < 2; ++i) {
    const absl::StatusOr<std::vector<core::ClockTally>> counted =
        store.CountClocks(kRegion);
    ASSERT_TRUE(counted.ok()) << counted.status();
    EXPECT_THAT(*counted, ElementsAre(core::ClockTally{
                              .kind = v1::CLOCK_KIND_IMPULSE_CALL_BACK,
                              .stage = core::ClockStage::kOpen,
                              .clocks = 2}));
  }
  EXPECT_EQ(digest(), before);
}

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

// A matching pass reads every waiting referral's clocks together: the same
// as ListClocks a referral at a time, in the order asked, none for a
// referral without clocks.
TEST_F(RedisReferralStoreClocksTest, ListClocksOfEachIsListClocksForEach) {
  MustWrite({NewClock(1), NewClock(2), NewClock(3)});
  const std::vector<std::string> ids = {"ref2", "ref9", "ref1", "ref3"};
  const absl::StatusOr<std::vector<std::vector<ClockRecord>>> each =
      store_->ListClocksOfEach(kRegion, ids);
  ASSERT_TRUE(each.ok()) << each.status();
  ASSERT_EQ(each->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const absl::StatusOr<std::vector<ClockRecord>> one =
        store_->ListClocks(kRegion, ids[i]);
    ASSERT_TRUE(one.ok()) << one.status();
    ASSERT_EQ((*each)[i].size(), one->size()) << ids[i];
    for (size_t k = 0; k < one->size(); ++k) {
      EXPECT_EQ((*each)[i][k].id, (*one)[k].id);
      EXPECT_EQ((*each)[i][k].version, (*one)[k].version);
      EXPECT_EQ((*each)[i][k].clock.due_time().seconds(),
                (*one)[k].clock.due_time().seconds());
    }
  }
  EXPECT_TRUE((*each)[1].empty());
  EXPECT_EQ((*each)[0].size(), 1u);
  const absl::StatusOr<std::vector<std::vector<ClockRecord>>> none =
      store_->ListClocksOfEach(kRegion, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

// A referral's clocks are named by fields of the referral's hash, not by a
// key of their own (about 250 bytes a referral); clocks a store from before
// 2026-12-07 named in a set of the referral's are still listed.
TEST_F(RedisReferralStoreClocksTest, AReferralsClocksAreNamedInItsOwnHash) {
  const std::vector<ClockRecord> made = MustWrite({NewClock(1)});
  EXPECT_EQ(Redis({"EXISTS", keys::ClocksOf(kRegion, "ref1")}).integer, 0);
  EXPECT_EQ(Redis({"HEXISTS", keys::Referral(kRegion, "ref1"),
                   keys::ClockField(made[0].id)})
                .integer,
            1);

  // An older clock of the referral, as the old layout recorded it.
  ClockWrite older = NewClock(1);
  older.record.id = "ref1-0-0";
  older.record.clock.set_name("regions/13/clocks/ref1-0-0");
  MustWrite({older});
  Redis({"HDEL", keys::Referral(kRegion, "ref1"), "clock-0-0"});
  Redis({"SADD", keys::ClocksOf(kRegion, "ref1"), "ref1-0-0"});

  const absl::StatusOr<std::vector<ClockRecord>> listed =
      store_->ListClocks(kRegion, "ref1");
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> ids;
  for (const ClockRecord& clock : *listed) ids.push_back(clock.id);
  EXPECT_THAT(ids, ElementsAre("ref1-0-0", "ref1-1-0"));
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

  // The two written are one version on, warned, re-indexed at their due
  // time and announced; the lost ones are as the other writers left them.
  for (const int i : {0, 3}) {
    const ClockRecord now = MustGet(made[i].id);
    EXPECT_EQ(now.version, made[i].version + 1);
    EXPECT_TRUE(now.clock.warned());
    EXPECT_EQ(now.next_fire, core::ToAbslTime(made[i].clock.due_time()));
    EXPECT_EQ(Redis({"ZSCORE", keys::ClocksDue(kRegion), made[i].id}).str,
              absl::StrCat(absl::ToUnixMillis(*now.next_fire)));
  }
  EXPECT_EQ(MustGet(made[1].id).version, made[1].version);
  EXPECT_EQ(MustGet(made[2].id).version, made[2].version + 1);
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
  AtOnce(kReplicas, [&](int i, RedisReferralStore& store) {
    // Each replica in another order, so that their batches interleave.
    std::vector<ClockWrite> mine = steps;
    std::rotate(mine.begin(), mine.begin() + i * kClocks / kReplicas,
                mine.end());
    absl::StatusOr<std::vector<absl::Status>> written = store.ApplyClocks(mine);
    if (written.ok()) {
      std::rotate(written->rbegin(),
                  written->rbegin() + i * kClocks / kReplicas, written->rend());
      results[i] = *std::move(written);
    } else {
      results[i].assign(kClocks, written.status());
    }
  });
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

// Clocks fired inside Redis (FirePlanned): every step as the broker's own
// Fire would take it, clocks written without a plan left for the keeper
// (which plans them), replicas firing at once firing each step once, and a
// change read before a step refused after it.
class PlannedFiringTest : public RedisReferralStoreClocksTest {
 protected:
  void SetUp() override {
    absl::StatusOr<core::SwedishCalendar> calendar =
        core::SwedishCalendar::Create();
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_.emplace(*calendar);
    RedisReferralStoreClocksTest::SetUp();
  }

  const core::SwedishCalendar& calendar() const { return *calendar_; }

  absl::Time Local(int y, int mo, int d, int h = 0) const {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0),
                           calendar().time_zone());
  }

  // The clocks referral "ref<n>" (made like `sample`) starts arriving at
  // `arrival`, as the keeper writes them: planned.
  std::vector<ClockWrite> Arrive(int n, const v1::CreateReferralRequest& sample,
                                 absl::Time arrival) const {
    v1::Referral referral = sample.referral();
    const std::string id = absl::StrCat("ref", n);
    referral.set_name(core::ReferralName{kRegion, id}.ToString());
    referral.set_state(v1::REFERRAL_STATE_RECEIVED);
    v1::Transition create;
    create.set_action(v1::ACTION_CREATE);
    create.set_to_state(v1::REFERRAL_STATE_RECEIVED);
    *create.mutable_time() = core::ToProtoTimestamp(arrival);
    const core::ClockUpdates updates =
        core::ClocksAfter(core::RuleSetFor(rule_sets_, referral), referral, "",
                          create, {}, calendar());
    std::vector<ClockWrite> writes;
    for (const v1::Clock& started : updates.started) {
      ClockWrite write;
      write.record.region = kRegion;
      write.record.id =
          absl::StrCat(id, "-", static_cast<int>(started.kind()), "-0");
      write.record.clock = started;
      write.record.clock.set_name(
          core::ClockName{kRegion, write.record.id, id}.ToString());
      core::ScheduleClock(&write, calendar());
      writes.push_back(std::move(write));
    }
    return writes;
  }

  // The clock of an impulse arriving on Wednesday 2026-12-23 at 10:00
  // (referral "ref1"), written: with its plan, or without it as a broker
  // before plans wrote it.
  ClockWrite ChristmasImpulse(bool planned = true) {
    std::vector<ClockWrite> writes =
        Arrive(1, testing::SampleImpulse(), Local(2026, 12, 23, 10));
    EXPECT_EQ(writes.size(), 1u);
    if (!planned) writes[0].plan.clear();
    MustWrite(writes);
    return writes.empty() ? ClockWrite() : writes[0];
  }

  // One FirePlanned call at `now` (preparing `ahead`), which must succeed.
  PlannedFiring MustFirePlanned(absl::Time now, int limit = 10,
                                absl::Duration ahead = absl::ZeroDuration()) {
    absl::StatusOr<PlannedFiring> fired =
        store_->FirePlanned(kRegion, now, now + ahead, limit);
    EXPECT_TRUE(fired.ok()) << fired.status();
    return fired.value_or(PlannedFiring());
  }

  // FirePlanned at `now` until it takes fewer than its limit; the steps.
  int FireAll(absl::Time now, int limit = 7,
              absl::Duration ahead = absl::ZeroDuration()) {
    int steps = 0;
    for (;;) {
      const PlannedFiring fired = MustFirePlanned(now, limit, ahead);
      EXPECT_THAT(fired.unplanned, IsEmpty());
      steps += fired.steps;
      if (fired.clocks < limit) return steps;
    }
  }

  std::vector<core::LoggedEvent> Logged() {
    RedisEventLog log(pool_.get());
    absl::StatusOr<std::vector<core::LoggedEvent>> events =
        log.ReadAfter(kRegion, "0-0", 100000);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.value_or(std::vector<core::LoggedEvent>());
  }

  // Impulses and joint mappings arriving every 5 hours over a fortnight
  // around Christmas; fired every 6 hours (and at each midnight) until
  // every clock has escalated, each call preparing the steps due `ahead`:
  // every clock read between calls is as Fire leaves it, and every event
  // written, parsed by protobuf from the stream, the one Fire announces.
  void ExpectEveryStepFiredAsFireWouldTakeIt(absl::Duration ahead);

  const std::vector<v1::DeadlineRuleSet> rule_sets_ =
      core::DefaultDeadlineRuleSets();
  std::optional<core::SwedishCalendar> calendar_;
};

// An event as compared: what it is about, when, and all of it (its name,
// the stream position, aside).
using EventKey = std::tuple<std::string, int64_t, int, std::string>;
EventKey KeyOf(v1::Event event) {
  event.clear_name();
  return {event.clock(), absl::ToUnixMillis(core::ToAbslTime(event.time())),
          static_cast<int>(event.type()), event.SerializeAsString()};
}

// The events of a stream entry's field `events` (a batch of clock steps,
// laid out as a repeated message field 1), parsed by protobuf: the batch
// as fields of an unknown message, each field an Event. Fails the test
// where one is not an Event as protos/slussen/v1/event.proto has it.
std::vector<v1::Event> ParseBatch(const std::string& batch) {
  google::protobuf::UnknownFieldSet fields;
  EXPECT_TRUE(fields.ParseFromString(batch));
  std::vector<v1::Event> events;
  for (int i = 0; i < fields.field_count(); ++i) {
    const google::protobuf::UnknownField& field = fields.field(i);
    EXPECT_EQ(field.number(), 1);
    EXPECT_EQ(field.type(),
              google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED);
    if (field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    v1::Event& event = events.emplace_back();
    EXPECT_TRUE(event.ParseFromString(field.length_delimited()));
    EXPECT_EQ(event.GetReflection()->GetUnknownFields(event).field_count(), 0)
        << event.DebugString();
    EXPECT_EQ(event.time()
                  .GetReflection()
                  ->GetUnknownFields(event.time())
                  .field_count(),
              0)
        << event.DebugString();
    EXPECT_TRUE(event.has_time()) << event.DebugString();
    EXPECT_FALSE(event.clock().empty()) << event.DebugString();
  }
  EXPECT_FALSE(events.empty());
  return events;
}

void PlannedFiringTest::ExpectEveryStepFiredAsFireWouldTakeIt(
    absl::Duration ahead) {
  std::map<std::string, v1::Clock> expected;  // by clock id
  int n = 0;
  for (absl::Time arrival = Local(2026, 12, 14); arrival < Local(2026, 12, 28);
       arrival += absl::Hours(5)) {
    for (const v1::CreateReferralRequest& sample :
         {testing::SampleImpulse(), testing::SampleJointMapping()}) {
      const std::vector<ClockWrite> writes = Arrive(++n, sample, arrival);
      ASSERT_FALSE(writes.empty());
      MustWrite(writes);
      for (const ClockWrite& write : writes) {
        EXPECT_FALSE(write.plan.empty());
        expected[write.record.id] = write.record.clock;
      }
    }
  }
  std::vector<std::string> ids;
  for (const auto& [id, clock] : expected) ids.push_back(id);
  std::map<std::string, int64_t> versions;  // by clock id, as last read
  std::multiset<EventKey> expected_events;
  int expected_steps = 0;
  int steps = 0;
  for (absl::Time now = Local(2026, 12, 15); now < Local(2027, 2, 1);
       now += absl::Hours(6)) {
    std::map<std::string, int> stepped;  // steps by clock id
    for (auto& [id, clock] : expected) {
      for (;;) {
        // An event's time is its step's instant.
        const std::optional<absl::Time> at =
            core::NextFireTime(clock, calendar());
        const std::optional<core::Firing> firing =
            core::Fire(clock, now, calendar());
        if (!firing.has_value()) break;
        ASSERT_TRUE(at.has_value());
        clock = firing->clock;
        expected_events.insert(
            KeyOf(core::ClockEvent(clock, firing->event, *at)));
        ++expected_steps;
        ++stepped[id];
      }
    }
    steps += FireAll(now, 7, ahead);
    ASSERT_EQ(steps, expected_steps) << "at " << now;
    // Read between steps, every clock is as Fire left it, its next firing
    // Fire's next, and its version one more for each step.
    const absl::StatusOr<std::vector<std::optional<ClockRecord>>> read =
        store_->GetClocks(kRegion, ids);
    ASSERT_TRUE(read.ok()) << read.status();
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE((*read)[i].has_value()) << ids[i];
      const ClockRecord& stored = *(*read)[i];
      const v1::Clock& clock = expected.at(ids[i]);
      ASSERT_EQ(stored.clock.SerializeAsString(), clock.SerializeAsString())
          << "at " << now << "\n"
          << stored.clock.DebugString() << "expected\n"
          << clock.DebugString();
      EXPECT_EQ(stored.next_fire, core::NextFireTime(clock, calendar()))
          << ids[i] << " at " << now;
      auto [last, first_read] = versions.emplace(ids[i], stored.version);
      if (!first_read) {
        EXPECT_EQ(stored.version, last->second + stepped[ids[i]])
            << ids[i] << " at " << now;
        last->second = stored.version;
      }
    }
  }
  EXPECT_EQ(expected_steps, 3 * static_cast<int>(expected.size()));
  for (const auto& [id, clock] : expected) {
    const ClockRecord stored = MustGet(id);
    EXPECT_EQ(stored.clock.SerializeAsString(), clock.SerializeAsString())
        << stored.clock.DebugString() << "\nexpected\n"
        << clock.DebugString();
    EXPECT_EQ(stored.next_fire, std::nullopt);
    EXPECT_GT(stored.version, 1);
  }
  std::multiset<EventKey> logged_events;
  for (const core::LoggedEvent& logged : Logged()) {
    logged_events.insert(KeyOf(logged.event));
  }
  EXPECT_EQ(logged_events, expected_events);
  // Nothing is left due or prepared. The stream holds the steps a firing's
  // batch to an entry, in its one field `events`.
  EXPECT_EQ(Redis({"ZCARD", keys::ClocksDue(kRegion)}).integer, 0);
  EXPECT_EQ(Redis({"ZCARD", keys::ClockStepsPrepared(kRegion)}).integer, 0);
  EXPECT_THAT(
      Redis({"KEYS", keys::ClockStepsPreparedAt(kRegion, "*")}).elements,
      IsEmpty());
  const RedisValue entries = Redis({"XRANGE", keys::Events(kRegion), "-", "+"});
  EXPECT_LT(entries.elements.size(), static_cast<size_t>(expected_steps));
  // FirePlanned's script writes the events byte by byte: parsed back by
  // protobuf itself (not by RedisEventLog), each is the Event the keeper
  // would have made, with no field event.proto does not know (as a field
  // it renumbered, and the script did not, would be).
  std::multiset<EventKey> written_events;
  for (const RedisValue& entry : entries.elements) {
    const RedisValue& fields = entry.elements.at(1);
    ASSERT_EQ(fields.elements.size(), 2u);
    EXPECT_EQ(fields.elements[0].str, "events");
    for (const v1::Event& event : ParseBatch(fields.elements[1].str)) {
      written_events.insert(KeyOf(event));
    }
  }
  EXPECT_EQ(written_events, expected_events);
}

TEST_F(PlannedFiringTest, EveryStepIsFiredInsideRedisAsFireWouldTakeIt) {
  ExpectEveryStepFiredAsFireWouldTakeIt(absl::ZeroDuration());
}

TEST_F(PlannedFiringTest, EveryStepPreparedAheadIsFiredAsFireWouldTakeIt) {
  // More than two calls ahead: most steps are prepared by one call and
  // appended by a later one.
  ExpectEveryStepFiredAsFireWouldTakeIt(absl::Hours(13));
}

TEST_F(PlannedFiringTest, APreparedStepFiresOnlyWhenItsInstantComes) {
  const ClockRecord read = MustGet(ChristmasImpulse().record.id);
  const absl::Time warn = Local(2026, 12, 29);
  ASSERT_EQ(read.next_fire, warn);
  // An hour before its warning, preparing two hours ahead.
  PlannedFiring fired =
      MustFirePlanned(warn - absl::Hours(1), 10, absl::Hours(2));
  EXPECT_EQ(fired.clocks, 1);
  EXPECT_EQ(fired.steps, 0);
  const std::string prepared = keys::ClockStepsPreparedAt(
      kRegion, absl::StrCat(absl::ToUnixMillis(warn)));
  EXPECT_EQ(Redis({"HLEN", prepared}).integer, 1);
  EXPECT_THAT(Logged(), IsEmpty());
  // Read meanwhile, it is as it was: not warned, the same version, the
  // warning next.
  ClockRecord now = MustGet(read.id);
  EXPECT_EQ(now.clock.SerializeAsString(), read.clock.SerializeAsString());
  EXPECT_EQ(now.version, read.version);
  EXPECT_EQ(now.next_fire, warn);
  EXPECT_EQ(MustFirePlanned(warn - absl::Milliseconds(1)).steps, 0);

  fired = MustFirePlanned(warn);
  EXPECT_EQ(fired.clocks, 0);
  EXPECT_EQ(fired.steps, 1);
  now = MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, read.version + 1);
  EXPECT_EQ(now.next_fire, Local(2026, 12, 31));
  const std::vector<core::LoggedEvent> logged = Logged();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].event.type(), v1::EVENT_TYPE_CLOCK_WARNING);
  EXPECT_EQ(logged[0].event.clock(), read.clock.name());
  EXPECT_EQ(core::ToAbslTime(logged[0].event.time()), warn);
  EXPECT_EQ(Redis({"EXISTS", prepared}).integer, 0);
  EXPECT_EQ(Redis({"ZCARD", keys::ClockStepsPrepared(kRegion)}).integer, 0);
  // Fired once: again at the same instant, or later, nothing more.
  EXPECT_EQ(MustFirePlanned(warn).steps, 0);
  EXPECT_EQ(Logged().size(), 1u);
}

TEST_F(PlannedFiringTest, PreparedStepsOutliveARedisCrash) {
  // Prepared an hour before the warning; Redis killed (SIGKILL) and
  // restarted from its append-only file; the warning fires once.
  const ClockRecord read = MustGet(ChristmasImpulse().record.id);
  const absl::Time warn = Local(2026, 12, 29);
  ASSERT_EQ(MustFirePlanned(warn - absl::Hours(1), 10, absl::Hours(2)).steps,
            0);
  ASSERT_TRUE(server_->Kill().ok());
  ASSERT_TRUE(server_->Restart().ok());
  // The pool's connections died with the server: the first call may say so.
  absl::StatusOr<PlannedFiring> fired;
  for (int attempt = 0; attempt < 3; ++attempt) {
    fired = store_->FirePlanned(kRegion, warn, warn, 10);
    if (fired.ok()) break;
    EXPECT_TRUE(absl::IsUnavailable(fired.status())) << fired.status();
  }
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_EQ(fired->steps, 1);
  EXPECT_EQ(MustFirePlanned(warn).steps, 0);
  const ClockRecord now = MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, read.version + 1);
  EXPECT_EQ(Logged().size(), 1u);
}

TEST_F(PlannedFiringTest, AStoreFromBeforePreparingReadsAsItDid) {
  // The code before steps were prepared moved a clock's place to its next
  // step when it fired one, and kept no "fired" time: its warning fired.
  const ClockRecord read = MustGet(ChristmasImpulse().record.id);
  const absl::Time breach = Local(2026, 12, 31);
  Redis({"ZADD", keys::ClocksDue(kRegion),
         absl::StrCat(absl::ToUnixMillis(breach)), read.id});
  ASSERT_EQ(Redis({"EXISTS", keys::ClocksFired(kRegion)}).integer, 0);
  ClockRecord now = MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, read.version + 1);
  EXPECT_EQ(now.next_fire, breach);
  // This code's first call, a day later, keeps it so, and fires the breach
  // once when it comes.
  EXPECT_EQ(MustFirePlanned(Local(2026, 12, 30), 10, absl::Hours(25)).steps, 0);
  EXPECT_EQ(MustGet(read.id).version, read.version + 1);
  EXPECT_EQ(FireAll(breach), 1);
  now = MustGet(read.id);
  EXPECT_EQ(now.clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_EQ(now.version, read.version + 2);
  EXPECT_EQ(Logged().size(), 1u);
}

// A store whose clocks were written before counts were kept: the first
// count takes a pass over the open clocks, a few pages a call (UNAVAILABLE
// until it is done), and counts each as reading it finds it, its fired
// steps taken, while its prepared steps move it when their instant comes.
// A new epoch counts every clock afresh.
TEST_F(PlannedFiringTest, ClocksWrittenBeforeCountsWereKeptAreCountedOnce) {
  std::vector<ClockWrite> writes;
  for (int n = 1; n <= 300; ++n) {
    for (ClockWrite& write :
         Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10))) {
      writes.push_back(std::move(write));
    }
  }
  const std::vector<ClockRecord> written = MustWrite(writes);
  const absl::Time warn = Local(2026, 12, 29);
  const absl::Time breach = Local(2026, 12, 31);
  const absl::Time escalate = Local(2027, 1, 5);
  EXPECT_EQ(FireAll(warn, 1000), 300);
  EXPECT_EQ(
      MustFirePlanned(breach - absl::Hours(1), 1000, absl::Hours(2)).steps, 0);
  // As a store from before counts has it: nothing counted.
  for (const ClockRecord& clock : written) {
    Redis({"HDEL", keys::Clock(kRegion, clock.id), "tally"});
  }
  for (const RedisValue& key :
       Redis({"KEYS", keys::ClockTallyMovesAt(kRegion, "*")}).elements) {
    Redis({"DEL", key.str});
  }
  Redis({"DEL", keys::ClockTallies(kRegion), keys::ClockTallyMoves(kRegion)});

  RedisReferralStore counting(pool_.get(),
                              {.count_page = 10, .count_pages_per_call = 2});
  const auto count_until_done = [&](int* calls) {
    absl::StatusOr<std::vector<core::ClockTally>> counted;
    for (*calls = 1; *calls < 1000; ++*calls) {
      counted = counting.CountClocks(kRegion);
      if (!absl::IsUnavailable(counted.status())) break;
    }
    EXPECT_TRUE(counted.ok()) << counted.status();
    return counted.value_or(std::vector<core::ClockTally>());
  };
  const auto all_at = [](core::ClockStage stage) {
    return ElementsAre(
        core::ClockTally{.kind = v1::CLOCK_KIND_IMPULSE_CALL_BACK,
                         .stage = stage,
                         .clocks = 300});
  };
  int calls = 0;
  EXPECT_THAT(count_until_done(&calls), all_at(core::ClockStage::kWarned));
  EXPECT_GT(calls, 2) << "counted in pages";
  EXPECT_EQ(FireAll(breach, 1000), 300);
  EXPECT_THAT(count_until_done(&calls), all_at(core::ClockStage::kBreached));
  EXPECT_EQ(calls, 1);

  Redis({"HINCRBY", keys::ClockTallies(kRegion), "epoch", "1"});
  EXPECT_THAT(count_until_done(&calls), all_at(core::ClockStage::kBreached));
  EXPECT_GT(calls, 2) << "counted afresh, in pages";
  EXPECT_EQ(FireAll(escalate, 1000), 300);
  EXPECT_THAT(count_until_done(&calls), all_at(core::ClockStage::kEscalated));
}

TEST_F(PlannedFiringTest, TheKeeperPreparesStepsDueWithinItsHorizon) {
  const ClockRecord read = MustGet(ChristmasImpulse().record.id);
  const absl::Time warn = Local(2026, 12, 29);
  const std::string prepared = keys::ClockStepsPreparedAt(
      kRegion, absl::StrCat(absl::ToUnixMillis(warn)));
  core::DeadlineKeeper keeper(store_.get(), &calendar(), rule_sets_);
  const auto fire = [&](absl::Time now) {
    absl::StatusOr<int> fired = keeper.FireDue(kRegion, now);
    EXPECT_TRUE(fired.ok()) << fired.status();
    return fired.value_or(-1);
  };
  // Outside the horizon nothing is prepared; inside it the warning is,
  // and nothing fires until its instant.
  const absl::Duration ahead = core::DeadlineKeeper::kPrepareAhead;
  EXPECT_EQ(fire(warn - ahead - absl::Seconds(1)), 0);
  EXPECT_EQ(Redis({"HLEN", prepared}).integer, 0);
  EXPECT_EQ(fire(warn - ahead), 0);
  EXPECT_EQ(Redis({"HLEN", prepared}).integer, 1);
  EXPECT_THAT(Logged(), IsEmpty());
  EXPECT_EQ(fire(warn), 1);
  EXPECT_EQ(Logged().size(), 1u);
  EXPECT_EQ(MustGet(read.id).version, read.version + 1);
}

TEST_F(PlannedFiringTest, AWriteWithdrawsItsClocksPreparedSteps) {
  // Two clocks read, their warnings and breaches prepared, then paused
  // with the versions read (preparing did not move them): one by a change
  // (ApplyClock), one by the keeper's batch of steps (ApplyClocks).
  const absl::Time warn = Local(2026, 12, 29);
  std::vector<ClockRecord> read;
  for (int n = 1; n <= 2; ++n) {
    std::vector<ClockWrite> writes =
        Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10));
    ASSERT_EQ(writes.size(), 1u);
    MustWrite(writes);
    read.push_back(MustGet(writes[0].record.id));
  }
  ASSERT_EQ(MustFirePlanned(warn - absl::Hours(1), 10, absl::Hours(72)).steps,
            0);
  EXPECT_EQ(
      Redis({"KEYS", keys::ClockStepsPreparedAt(kRegion, "*")}).elements.size(),
      2u);
  std::vector<ClockWrite> pauses;
  for (const ClockRecord& clock : read) {
    absl::StatusOr<v1::Clock> paused =
        core::PauseClock(clock.clock, v1::DELAY_CAUSE_PARTICIPANT, "",
                         v1::Actor(), warn - absl::Minutes(30));
    ASSERT_TRUE(paused.ok()) << paused.status();
    ClockWrite write{.record = clock};
    write.record.clock = *paused;
    core::ScheduleClock(&write, calendar());
    pauses.push_back(std::move(write));
  }
  EXPECT_TRUE(store_->ApplyClock(pauses[0]).ok());
  const absl::StatusOr<std::vector<absl::Status>> written =
      store_->ApplyClocks({pauses[1]});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(written->at(0).ok()) << written->at(0);
  EXPECT_THAT(
      Redis({"KEYS", keys::ClockStepsPreparedAt(kRegion, "*")}).elements,
      IsEmpty());
  // Neither warning nor breach fires.
  EXPECT_EQ(FireAll(Local(2027, 1, 31)), 0);
  EXPECT_THAT(Logged(), IsEmpty());
  for (const ClockRecord& clock : read) {
    const ClockRecord now = MustGet(clock.id);
    EXPECT_EQ(now.clock.state(), v1::CLOCK_STATE_PAUSED);
    EXPECT_FALSE(now.clock.warned());
    EXPECT_EQ(now.version, clock.version + 1);
  }
}

TEST_F(PlannedFiringTest, AStepWrittenAfterItsRegionFiredPastItFiresNext) {
  // The region has fired up to the 29th at noon; then a clock is written
  // whose warning was due at midnight (written late, or by a replica
  // whose clock is behind). It is not taken as fired until it is.
  EXPECT_EQ(MustFirePlanned(Local(2026, 12, 29, 12)).steps, 0);
  const ClockRecord read = MustGet(ChristmasImpulse().record.id);
  EXPECT_FALSE(read.clock.warned());
  EXPECT_EQ(read.next_fire, Local(2026, 12, 29));
  const PlannedFiring fired =
      MustFirePlanned(Local(2026, 12, 29, 11), 10, absl::Hours(24));
  EXPECT_EQ(fired.steps, 1);
  const ClockRecord now = MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, read.version + 1);
  const std::vector<core::LoggedEvent> logged = Logged();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(core::ToAbslTime(logged[0].event.time()), Local(2026, 12, 29));
}

TEST_F(PlannedFiringTest, ANextFiringOfAPausedClockIsNotStepped) {
  // The plan was written with the clock: pausing writes an empty one, and
  // resuming a new one from the clock's new times.
  const ClockWrite written = ChristmasImpulse();
  const absl::StatusOr<v1::Clock> paused =
      core::PauseClock(written.record.clock, v1::DELAY_CAUSE_PARTICIPANT,
                       "sjuk", v1::Actor(), Local(2026, 12, 28, 9));
  ASSERT_TRUE(paused.ok()) << paused.status();
  ClockWrite pause{.record = MustGet(written.record.id)};
  pause.record.clock = *paused;
  core::ScheduleClock(&pause, calendar());
  EXPECT_THAT(pause.plan, IsEmpty());
  ASSERT_TRUE(store_->ApplyClock(pause).ok());
  EXPECT_EQ(FireAll(Local(2027, 2, 1)), 0);
  EXPECT_EQ(MustGet(pause.record.id).clock.state(), v1::CLOCK_STATE_PAUSED);
}

TEST_F(PlannedFiringTest, AClockWithoutAPlanIsLeftForTheKeeperWhichPlansIt) {
  // Written as a broker before plans wrote it: no plan fields.
  const std::string id = ChristmasImpulse(/*planned=*/false).record.id;
  const int64_t written = MustGet(id).version;
  const absl::Time warn = Local(2026, 12, 29);

  PlannedFiring fired = MustFirePlanned(warn);
  EXPECT_EQ(fired.clocks, 1);
  EXPECT_EQ(fired.steps, 0);
  EXPECT_THAT(fired.unplanned, ElementsAre(id));
  EXPECT_EQ(MustGet(id).version, written);
  EXPECT_THAT(Logged(), IsEmpty());

  // The keeper fires it itself, and writes its plan with the step.
  core::DeadlineKeeper keeper(store_.get(), &calendar(), rule_sets_);
  absl::StatusOr<int> by_keeper = keeper.FireDue(kRegion, warn);
  ASSERT_TRUE(by_keeper.ok()) << by_keeper.status();
  EXPECT_EQ(*by_keeper, 1);
  EXPECT_TRUE(MustGet(id).clock.warned());
  EXPECT_NE(Redis({"HGET", keys::Clock(kRegion, id), "plan"}).str, "");

  // Its breach is fired inside Redis.
  fired = MustFirePlanned(Local(2026, 12, 31));
  EXPECT_EQ(fired.steps, 1);
  EXPECT_THAT(fired.unplanned, IsEmpty());
  EXPECT_EQ(MustGet(id).clock.state(), v1::CLOCK_STATE_BREACHED);
  const std::vector<core::LoggedEvent> logged = Logged();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].event.type(), v1::EVENT_TYPE_CLOCK_WARNING);
  EXPECT_EQ(logged[1].event.type(), v1::EVENT_TYPE_CLOCK_BREACHED);
}

TEST_F(PlannedFiringTest, ClocksWithoutPlansStillDrainABatchACall) {
  // A store written before plans: every clock left to the keeper, which
  // still fires a whole batch a call, not one script call's worth.
  constexpr int kReferrals = 600;
  static_assert(kReferrals > core::DeadlineKeeper::kPlannedBatch &&
                kReferrals <= core::DeadlineKeeper::kFireBatch);
  for (int n = 0; n < kReferrals; ++n) {
    std::vector<ClockWrite> writes =
        Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10));
    for (ClockWrite& write : writes) write.plan.clear();
    MustWrite(writes);
  }
  core::DeadlineKeeper keeper(store_.get(), &calendar(), rule_sets_);
  absl::StatusOr<int> fired = keeper.FireDue(kRegion, Local(2026, 12, 29));
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_EQ(*fired, kReferrals);
  // Written with their plans: the breaches fire inside Redis.
  EXPECT_EQ(FireAll(Local(2026, 12, 31), 250), kReferrals);
}

TEST_F(PlannedFiringTest, APlaceThatIsNoneOfThePlansStepsIsLeftAlone) {
  const std::string id = ChristmasImpulse().record.id;
  const ClockRecord before = MustGet(id);
  // Its place moved without its plan (a hand edit, a broken write): before
  // its first step, and between its steps.
  for (const absl::Time place :
       {Local(2026, 12, 24), Local(2026, 12, 30, 12)}) {
    Redis({"ZADD", keys::ClocksDue(kRegion),
           absl::StrCat(absl::ToUnixMillis(place)), id});
    const PlannedFiring fired = MustFirePlanned(Local(2026, 12, 31));
    EXPECT_EQ(fired.steps, 0);
    EXPECT_THAT(fired.unplanned, ElementsAre(id));
  }
  EXPECT_THAT(Logged(), IsEmpty());
  // Read as it stands: the steps before the place have fired, and its
  // next firing is its plan's next step (the breach).
  const ClockRecord now = MustGet(id);
  EXPECT_EQ(now.next_fire, Local(2026, 12, 31));
  EXPECT_TRUE(now.clock.warned());
  EXPECT_NE(now.version, before.version);
}

TEST_F(PlannedFiringTest, AStalePlaceInTheDueSetIsPutRightByTheKeeper) {
  const std::string id = ChristmasImpulse().record.id;
  const std::string warn =
      absl::StrCat(absl::ToUnixMillis(Local(2026, 12, 29)));
  // Due now by its place in the due set, not by its plan or `next`.
  Redis({"ZADD", keys::ClocksDue(kRegion), "1", id});
  // And a place without a clock.
  Redis({"ZADD", keys::ClocksDue(kRegion), "2", "gone-1-0"});
  const absl::Time now = Local(2026, 12, 24);
  const PlannedFiring fired = MustFirePlanned(now);
  EXPECT_EQ(fired.clocks, 2);
  EXPECT_EQ(fired.steps, 0);
  EXPECT_THAT(fired.unplanned, ElementsAre(id));
  EXPECT_EQ(Redis({"ZSCORE", keys::ClocksDue(kRegion), "gone-1-0"}).type,
            RedisValue::Type::kNil);

  core::DeadlineKeeper keeper(store_.get(), &calendar(), rule_sets_);
  absl::StatusOr<int> by_keeper = keeper.FireDue(kRegion, now);
  ASSERT_TRUE(by_keeper.ok()) << by_keeper.status();
  EXPECT_EQ(*by_keeper, 0);
  EXPECT_EQ(Redis({"ZSCORE", keys::ClocksDue(kRegion), id}).str, warn);
  EXPECT_EQ(MustFirePlanned(now).clocks, 0);
  EXPECT_THAT(Logged(), IsEmpty());
}

TEST_F(PlannedFiringTest, AChangeReadBeforeAStepIsRefusedAfterIt) {
  const ClockRecord read = MustGet(ChristmasImpulse().record.id);
  EXPECT_EQ(FireAll(Local(2026, 12, 29)), 1);
  ClockWrite met{.record = read};
  met.record.clock.set_state(v1::CLOCK_STATE_MET);
  core::ScheduleClock(&met, calendar());
  EXPECT_TRUE(absl::IsAborted(store_->ApplyClock(met).status()));
  // The same by the keeper's batch of steps.
  const absl::StatusOr<std::vector<absl::Status>> batch =
      store_->ApplyClocks({met});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(absl::IsAborted(batch->at(0))) << batch->at(0);
  EXPECT_THAT(batch->at(0).message(),
              HasSubstr(absl::StrCat("changed (version ", read.version + 1,
                                     ", expected ", read.version, ")")));
  EXPECT_TRUE(MustGet(read.id).clock.warned());
}

TEST_F(PlannedFiringTest, AWatcherReadsABatchAnEventAtATimeFromAnyPlaceInIt) {
  constexpr int kReferrals = 30;
  for (int n = 0; n < kReferrals; ++n) {
    MustWrite(Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10)));
  }
  // A referral's event between two batches of warnings.
  ASSERT_EQ(MustFirePlanned(Local(2026, 12, 29), 20).steps, 20);
  Redis({"XADD", keys::Events(kRegion), "*", "type", "1", "referral", "r",
         "event", v1::Event().SerializeAsString()});
  ASSERT_EQ(MustFirePlanned(Local(2026, 12, 29), 20).steps, kReferrals - 20);
  ASSERT_EQ(Redis({"XLEN", keys::Events(kRegion)}).integer, 3);

  const std::vector<core::LoggedEvent> all = Logged();
  ASSERT_EQ(all.size(), kReferrals + 1u);
  std::set<std::string> positions;
  for (const core::LoggedEvent& logged : all) {
    EXPECT_TRUE(core::IsStreamPosition(logged.position)) << logged.position;
    EXPECT_EQ(logged.event.name(),
              absl::StrCat("regions/", kRegion, "/events/", logged.position));
    positions.insert(logged.position);
  }
  EXPECT_EQ(positions.size(), all.size());
  // A batch's last event has its entry's position, as a lone event does.
  EXPECT_EQ(all[19].position,
            Redis({"XRANGE", keys::Events(kRegion), "-", "+", "COUNT", "1"})
                .elements.at(0)
                .elements.at(0)
                .str);
  RedisEventLog log(pool_.get());
  EXPECT_EQ(log.LastPosition(kRegion).value_or(""), all.back().position);

  // From every position, in steps of every size: the rest, each once.
  for (size_t from = 0; from <= all.size(); ++from) {
    for (const int limit : {1, 3, 7, 100}) {
      std::string position = from == 0 ? "0-0" : all[from - 1].position;
      std::vector<std::string> read;
      for (;;) {
        absl::StatusOr<std::vector<core::LoggedEvent>> page =
            log.ReadAfter(kRegion, position, limit);
        ASSERT_TRUE(page.ok()) << page.status();
        ASSERT_LE(page->size(), static_cast<size_t>(limit));
        if (page->empty()) break;
        for (const core::LoggedEvent& logged : *page) {
          read.push_back(logged.position);
        }
        position = page->back().position;
      }
      std::vector<std::string> expected;
      for (size_t i = from; i < all.size(); ++i) {
        expected.push_back(all[i].position);
      }
      EXPECT_EQ(read, expected) << "from " << from << " by " << limit;
    }
  }
}

TEST_F(PlannedFiringTest, APlanStoppingShortHandsTheClockBackWhenItsTailIsDue) {
  // A plan cut after the warning, as PlanSteps cuts one at its limit or at
  // a step it cannot express: the breach is the keeper's.
  std::vector<ClockWrite> writes =
      Arrive(1, testing::SampleImpulse(), Local(2026, 12, 23, 10));
  ASSERT_EQ(writes.size(), 1u);
  ClockWrite& write = writes[0];
  ASSERT_GE(write.plan.size(), 2u);
  write.after_plan = write.plan[1].at;
  write.plan.resize(1);
  MustWrite(writes);
  const std::string id = write.record.id;

  EXPECT_EQ(FireAll(Local(2026, 12, 29)), 1);
  ClockRecord read = MustGet(id);
  EXPECT_TRUE(read.clock.warned());
  EXPECT_EQ(read.next_fire, Local(2026, 12, 31));
  // Before the tail is due nothing is left; when it is, the clock is.
  EXPECT_EQ(FireAll(Local(2026, 12, 30, 23)), 0);
  PlannedFiring fired = MustFirePlanned(Local(2026, 12, 31));
  EXPECT_EQ(fired.steps, 0);
  EXPECT_THAT(fired.unplanned, ElementsAre(id));
  EXPECT_EQ(MustGet(id).version, read.version);

  core::DeadlineKeeper keeper(store_.get(), &calendar(), rule_sets_);
  absl::StatusOr<int> by_keeper = keeper.FireDue(kRegion, Local(2026, 12, 31));
  ASSERT_TRUE(by_keeper.ok()) << by_keeper.status();
  EXPECT_EQ(*by_keeper, 1);
  read = MustGet(id);
  EXPECT_EQ(read.clock.state(), v1::CLOCK_STATE_BREACHED);
  const std::vector<core::LoggedEvent> logged = Logged();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[1].event.type(), v1::EVENT_TYPE_CLOCK_BREACHED);
  // Written again with a whole plan: its escalation fires inside Redis.
  EXPECT_EQ(FireAll(Local(2027, 1, 31)), 1);
}

TEST_F(PlannedFiringTest, APlanWhoseTimesGoBackIsNotWritten) {
  std::vector<ClockWrite> writes =
      Arrive(1, testing::SampleImpulse(), Local(2026, 12, 23, 10));
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_GE(writes[0].plan.size(), 2u);
  std::swap(writes[0].plan[0].at, writes[0].plan[1].at);
  writes[0].record.next_fire = writes[0].plan[0].at;
  MustWrite(writes);
  EXPECT_EQ(
      Redis({"HGET", keys::Clock(kRegion, writes[0].record.id), "plan"}).str,
      "");
}

TEST_F(PlannedFiringTest, AReadIsNeverTornByAWriteBetweenItsHashAndItsPlace) {
  // A writer pauses and resumes a clock as fast as it can: paused, it has
  // no plan and no place; running, a plan and the place of its warning.
  // A read taking the running clock's hash with the paused clock's
  // (missing) place would show every step fired: warned and breached,
  // which the clock never is. A large read (the clock, then 1,999 others)
  // spans several of Redis's reads of the request, so writes land inside
  // it.
  const ClockWrite written = ChristmasImpulse();
  const std::string id = written.record.id;
  std::vector<std::string> ids = {id};
  std::vector<ClockWrite> others;
  for (int n = 2; n <= 2000; ++n) {
    for (ClockWrite& write :
         Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10))) {
      ids.push_back(write.record.id);
      others.push_back(std::move(write));
    }
  }
  ASSERT_EQ(ids.size(), 2000u);
  const absl::StatusOr<std::vector<absl::Status>> made =
      store_->ApplyClocks(others);
  ASSERT_TRUE(made.ok()) << made.status();
  std::atomic<bool> done = false;
  std::atomic<int> toggles = 0;
  std::thread writer([&] {
    RedisPool pool(server_->ClientOptions());
    RedisReferralStore store(&pool);
    for (int n = 0; n < 1000 && !done; ++n) {
      absl::StatusOr<ClockRecord> read = store.GetClock(kRegion, id);
      ASSERT_TRUE(read.ok()) << read.status();
      ClockWrite write{.record = *read};
      const absl::Time at = Local(2026, 12, 24) + absl::Seconds(n);
      absl::StatusOr<v1::Clock> next =
          read->clock.state() == v1::CLOCK_STATE_PAUSED
              ? core::ResumeClock(read->clock, at)
              : core::PauseClock(read->clock, v1::DELAY_CAUSE_PARTICIPANT, "",
                                 v1::Actor(), at);
      ASSERT_TRUE(next.ok()) << next.status();
      write.record.clock = *next;
      core::ScheduleClock(&write, calendar());
      if (store.ApplyClock(write).ok()) ++toggles;
    }
  });
  int reads = 0, paused = 0, running = 0, torn = 0;
  while ((toggles < 200 || reads < 20) && reads < 2000) {
    absl::StatusOr<std::vector<std::optional<ClockRecord>>> read =
        store_->GetClocks(kRegion, ids);
    ASSERT_TRUE(read.ok()) << read.status();
    ++reads;
    for (const std::optional<ClockRecord>& record : *read) {
      ASSERT_TRUE(record.has_value());
      if (record->id != id) continue;
      const bool is_paused = record->clock.state() == v1::CLOCK_STATE_PAUSED;
      (is_paused ? paused : running) += 1;
      if (record->clock.warned() ||
          record->clock.state() == v1::CLOCK_STATE_BREACHED ||
          record->next_fire.has_value() == is_paused) {
        ++torn;
      }
    }
  }
  done = true;
  writer.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(paused, 0);
  EXPECT_GT(running, 0);
}

TEST_F(PlannedFiringTest, AReadWhileStepsArePreparedAndFiredIsNeverTorn) {
  // A firer ticks every 5 minutes across the warnings' midnight and the
  // breaches' two days later, preparing two hours ahead, while a reader
  // reads all 2,000 clocks again and again. Each clock read must be one
  // that was: not warned at its first version, warned at one more,
  // breached at two more, its next firing the step after.
  std::vector<std::string> ids;
  std::vector<ClockWrite> clocks;
  for (int n = 1; n <= 2000; ++n) {
    for (ClockWrite& write :
         Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10))) {
      ids.push_back(write.record.id);
      clocks.push_back(std::move(write));
    }
  }
  const absl::StatusOr<std::vector<absl::Status>> made =
      store_->ApplyClocks(clocks);
  ASSERT_TRUE(made.ok()) << made.status();
  const int64_t first = MustGet(ids[0]).version;
  const absl::Time warn = Local(2026, 12, 29);
  const absl::Time breach = Local(2026, 12, 31);
  std::atomic<bool> started = false, done = false;
  std::thread firer([&] {
    RedisPool pool(server_->ClientOptions());
    RedisReferralStore store(&pool);
    while (!started) std::this_thread::yield();
    // 50 clocks a call, so that preparing takes many calls.
    for (absl::Time now = warn - absl::Hours(3); now < breach + absl::Hours(1);
         now += absl::Minutes(5)) {
      for (;;) {
        absl::StatusOr<PlannedFiring> fired =
            store.FirePlanned(kRegion, now, now + absl::Hours(2), 50);
        ASSERT_TRUE(fired.ok()) << fired.status();
        if (fired->clocks < 50) break;
      }
    }
    done = true;
  });
  int reads = 0, torn = 0;
  std::set<int64_t> versions;
  // Once before the firer starts, all the while it fires, once after.
  for (bool last = false; !last;) {
    last = done;
    absl::StatusOr<std::vector<std::optional<ClockRecord>>> read =
        store_->GetClocks(kRegion, ids);
    started = true;
    ASSERT_TRUE(read.ok()) << read.status();
    ++reads;
    for (const std::optional<ClockRecord>& record : *read) {
      ASSERT_TRUE(record.has_value());
      const int64_t steps = record->version - first;
      versions.insert(steps);
      const bool warned = record->clock.warned();
      const bool breached = record->clock.state() == v1::CLOCK_STATE_BREACHED;
      const bool whole =
          (steps == 0 && !warned && !breached && record->next_fire == warn) ||
          (steps == 1 && warned && !breached && record->next_fire == breach) ||
          (steps == 2 && warned && breached && record->next_fire > breach);
      if (!whole) ++torn;
    }
  }
  firer.join();
  EXPECT_EQ(torn, 0) << "in " << reads << " reads";
  // The reads saw the clocks before, between and after their steps.
  EXPECT_THAT(versions, ElementsAre(0, 1, 2));
  EXPECT_EQ(Logged().size(), 2u * ids.size());
}

TEST_F(PlannedFiringTest, ReplicasFiringAtOnceFireEachStepOnce) {
  constexpr int kReferrals = 400;
  constexpr int kReplicas = 3;
  for (int n = 0; n < kReferrals; ++n) {
    MustWrite(Arrive(n, testing::SampleImpulse(), Local(2026, 12, 1, 10)));
  }
  // A week late: warning, breach and escalation all due.
  const absl::Time late = Local(2026, 12, 14);
  std::vector<int> fired(kReplicas, 0);
  AtOnce(kReplicas, [&](int i, RedisReferralStore& store) {
    core::DeadlineKeeper keeper(&store, &calendar(), rule_sets_);
    for (;;) {
      absl::StatusOr<int> steps = keeper.FireDue(kRegion, late);
      ASSERT_TRUE(steps.ok()) << steps.status();
      if (*steps == 0) break;
      fired[i] += *steps;
    }
  });
  EXPECT_EQ(fired[0] + fired[1] + fired[2], 3 * kReferrals);
  EXPECT_EQ(Logged().size(), 3u * kReferrals);
}

TEST_F(PlannedFiringTest, ReplicasPreparingAndFiringAtOnceFireEachStepOnce) {
  // Replicas ticking across the warnings' midnight, each from a clock of
  // its own (a second apart), preparing and appending at once.
  constexpr int kReferrals = 400;
  constexpr int kReplicas = 3;
  for (int n = 0; n < kReferrals; ++n) {
    MustWrite(Arrive(n, testing::SampleImpulse(), Local(2026, 12, 23, 10)));
  }
  const absl::Time warn = Local(2026, 12, 29);
  std::vector<int> fired(kReplicas, 0);
  AtOnce(kReplicas, [&](int i, RedisReferralStore& store) {
    core::DeadlineKeeper keeper(&store, &calendar(), rule_sets_);
    for (absl::Time now = warn - absl::Minutes(3) + absl::Seconds(i);
         now < warn + absl::Minutes(1); now += absl::Seconds(7)) {
      absl::StatusOr<int> steps = keeper.FireDue(kRegion, now);
      ASSERT_TRUE(steps.ok()) << steps.status();
      fired[i] += *steps;
    }
  });
  EXPECT_EQ(fired[0] + fired[1] + fired[2], kReferrals);
  const std::vector<core::LoggedEvent> logged = Logged();
  std::set<std::string> warned;
  for (const core::LoggedEvent& event : logged) {
    EXPECT_EQ(event.event.type(), v1::EVENT_TYPE_CLOCK_WARNING);
    EXPECT_EQ(core::ToAbslTime(event.event.time()), warn);
    warned.insert(event.event.clock());
  }
  EXPECT_EQ(logged.size(), static_cast<size_t>(kReferrals));
  EXPECT_EQ(warned.size(), static_cast<size_t>(kReferrals));
}

}  // namespace
}  // namespace slussen::store
