// Redis Sentinel under RedisPool: a primary with one replica (two in one
// run of the test under load) and a Sentinel watching them. A write
// acknowledged with wait_replicas=1 is on the replica; the primary is killed;
// the Sentinel promotes the replica; the pool, asking the Sentinel again,
// writes to the new primary and finds the acknowledged write there; the old
// primary, back, becomes a replica, and writes are confirmed by a replica
// again. And a primary demoted while it stays up: by a switchover, or behind
// the Sentinel's back (READONLY: the connection dropped; the ROLE check
// refusing a new one). And a broker on the Sentinels, whose matching goes on at
// once after a failover.
#include <atomic>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_capacity.h"
#include "tests/support/sample_referrals.h"
#include "tests/support/write_load.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using store::RedisAddress;
using store::RedisOptions;
using store::RedisPool;
using store::RedisValue;

// Eventually, waiting up to 60 s: a Sentinel declares a primary down after
// down-after-milliseconds, then elects and promotes.
bool Recovered(const std::function<bool()>& done) {
  return Eventually(done, absl::Seconds(60), absl::Milliseconds(100));
}

// A server on a free loopback port (replicas and Sentinels find each other
// by host and port), with `more` on its command line; sets `*port`.
std::unique_ptr<RedisServer> StartOnFreePort(int* port,
                                             std::vector<std::string> more = {},
                                             std::string config_file = "") {
  RedisServer::Options options;
  // A replica's full sync at once, not after Redis's 5 s wait for more.
  options.extra_args = {"--repl-diskless-sync-delay", "0"};
  options.extra_args.insert(options.extra_args.end(), more.begin(), more.end());
  options.config_file = std::move(config_file);
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      StartOnFreeLoopbackPort(options, port);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

class SentinelFaultTest : public ::testing::Test {
 protected:
  // How many replicas of the primary SetUp starts (replica_ the first).
  virtual int Replicas() const { return 1; }

  void SetUp() override {
    primary_ = StartOnFreePort(&primary_port_);
    ASSERT_NE(primary_, nullptr);
    for (int i = 0; i < Replicas(); ++i) {
      int port = 0;
      replicas_.push_back(StartOnFreePort(
          &port, {"--replicaof", "127.0.0.1", absl::StrCat(primary_port_)}));
      RedisServer* replica = replicas_.back().get();
      ASSERT_NE(replica, nullptr);
      ASSERT_TRUE(Recovered([&] {
        return absl::StrContains(
            replica->Execute({"INFO", "replication"}).value_or(""),
            "master_link_status:up");
      }));
    }
    replica_ = replicas_.front().get();
    sentinel_ = StartOnFreePort(
        &sentinel_port_, {"--sentinel"},
        absl::StrCat("sentinel monitor slussen 127.0.0.1 ", primary_port_,
                     " 1\n"
                     "sentinel down-after-milliseconds slussen 1000\n"
                     "sentinel failover-timeout slussen 10000\n"));
    ASSERT_NE(sentinel_, nullptr);
    // The Sentinel has found the replicas (it may only promote one it
    // knows).
    ASSERT_TRUE(Recovered([&] {
      return absl::StrContains(
          sentinel_->Execute({"INFO", "sentinel"}).value_or(""),
          absl::StrCat("slaves=", Replicas()));
    }));
  }

  // The replica that says it is a primary now, if any.
  RedisServer* Promoted() {
    for (const std::unique_ptr<RedisServer>& replica : replicas_) {
      if (absl::StrContains(
              replica->Execute({"INFO", "replication"}).value_or(""),
              "role:master")) {
        return replica.get();
      }
    }
    return nullptr;
  }

  RedisOptions Options(int wait_replicas) const {
    RedisOptions options;
    RedisAddress sentinel;
    sentinel.host = "127.0.0.1";
    sentinel.port = sentinel_port_;
    // The first is not there: the pool asks the next.
    RedisAddress nothing = sentinel;
    nothing.port = primary_port_ + 1 == sentinel_port_ ? primary_port_ + 2
                                                       : primary_port_ + 1;
    options.sentinels = {nothing, sentinel};
    options.wait_replicas = wait_replicas;
    // Generous: parallel tests on two cores can hold the replica up.
    options.replica_timeout = absl::Seconds(3);
    options.command_timeout = absl::Seconds(10);
    options.connect_timeout = absl::Milliseconds(300);
    return options;
  }

  int primary_port_ = 0, sentinel_port_ = 0;
  std::unique_ptr<RedisServer> primary_, sentinel_;
  std::vector<std::unique_ptr<RedisServer>> replicas_;
  RedisServer* replica_ = nullptr;  // the first of replicas_
};

TEST_F(SentinelFaultTest, AFailoverKeepsEveryConfirmedWrite) {
  RedisPool durable(Options(/*wait_replicas=*/1));
  RedisPool plain(Options(/*wait_replicas=*/0));
  ASSERT_TRUE(durable.Command({"SET", "confirmed", "1"}).ok());
  EXPECT_EQ(primary_->Execute({"GET", "confirmed"}).value_or(""), "1");

  ASSERT_TRUE(primary_->Kill().ok());
  // Until the Sentinel promotes the replica, writes fail fast.
  const absl::StatusOr<RedisValue> during = plain.Command({"SET", "x", "1"});
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable)
      << during.status();
  ASSERT_TRUE(Recovered([&] {
    return plain.Command({"SET", "after", "2"}).ok();
  })) << sentinel_->LogTail();
  absl::StatusOr<RedisValue> got = plain.Command({"GET", "confirmed"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->str, "1");
  EXPECT_EQ(replica_->Execute({"GET", "after"}).value_or(""), "2")
      << "the write went to the promoted replica";

  // The old primary comes back as a replica of the new one: writes are
  // confirmed by a replica again.
  ASSERT_TRUE(primary_->Restart().ok());
  ASSERT_TRUE(Recovered([&] {
    return durable.Command({"SET", "confirmed", "3"}).ok();
  })) << sentinel_->LogTail();
  EXPECT_TRUE(Recovered([&] {
    return primary_->Execute({"GET", "confirmed"}).value_or("") == "3";
  }));
}

// Issue 22's figures: eight writers keep writing through a failover with
// wait_replicas=1 (the production setting), each trying again 10 ms after
// a refusal, with one replica and with two. The primary is killed and the
// Sentinel promotes a replica. With one, the promoted primary has no
// replica to confirm a write until the old primary, started again, has
// rejoined as its replica; with two, the other replica confirms writes
// once the Sentinel has pointed it at the promoted one, and the old
// primary stays down. Printed for BENCHMARKS.md: how long until a write
// sent after the kill was acknowledged, the refusals meanwhile, and the
// acknowledged writes missing afterwards, which must be none.
class SentinelUnderLoadTest : public SentinelFaultTest,
                              public ::testing::WithParamInterface<int> {
 protected:
  int Replicas() const override { return GetParam(); }
};

TEST_P(SentinelUnderLoadTest, AFailoverLosesNoAcknowledgedWrite) {
  RedisPool pool(Options(/*wait_replicas=*/1));
  WriteLoad load(&pool, {.writers = 8});
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time killed = load.MarkFault();
  ASSERT_TRUE(primary_->Kill().ok());
  ASSERT_TRUE(Recovered([&] { return Promoted() != nullptr; }))
      << sentinel_->LogTail();
  const absl::Time promoted = absl::Now();
  std::string old_primary = "left down";
  if (Replicas() == 1) {
    ASSERT_TRUE(primary_->Restart().ok());
    old_primary =
        absl::StrCat("started again ", FormatSeconds(absl::Now() - killed),
                     " after the kill");
  }
  const bool served_again = Recovered([&] { return load.ServedAgain(); });
  absl::SleepFor(absl::Seconds(1));
  const absl::StatusOr<WriteLoad::Figures> figures = load.Finish();
  ASSERT_TRUE(served_again) << "no write acknowledged after the failover\n"
                            << sentinel_->LogTail();
  ASSERT_TRUE(figures.ok()) << figures.status();
  EXPECT_EQ(figures->lost, 0);
  std::cout << "Sentinel failover under load (" << Replicas()
            << " replica(s), wait_replicas=1): promoted "
            << FormatSeconds(promoted - killed)
            << " after the kill, the old primary " << old_primary << "; "
            << figures->ToString() << "\n";
}

INSTANTIATE_TEST_SUITE_P(, SentinelUnderLoadTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 1 ? std::string("OneReplica")
                                                  : std::string("TwoReplicas");
                         });

// The primary dies while referrals arrive, each running a matching pass
// under the region's lease: a pass cut off leaves the lease behind (on the
// promoted replica too, if it was replicated). The lease lasts a second and
// an arrival that finds it held looks again when it runs out, so a referral
// made after the failover gets its matching decision (QUEUED or OFFERED)
// at once, not after the 60 s full sweep (issue 22: 15-21 s, with the old
// 30 s lock).
TEST_F(SentinelFaultTest, MatchingGoesOnAtOnceAfterAFailoverMidPass) {
  BrokerHarness::Options options;
  options.external_redis = true;
  // As in production: a write counts once the replica holds it (with 0,
  // the directory written just before the kill may be lost with the
  // primary, and every referral after it refused).
  options.broker.redis = Options(/*wait_replicas=*/1);
  absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
      BrokerHarness::Start(std::move(options));
  ASSERT_TRUE(harness.ok()) << harness.status();
  ASSERT_TRUE(CreateHalsosamCapacity((*harness)->channel()).ok());
  std::atomic<int> serial{0};
  absl::Mutex mu;
  std::string last_error;  // guarded by mu
  // Creates one referral, retrying while Redis fails over; its name.
  const auto refer = [&](absl::Duration patience) -> std::string {
    const absl::Time give_up = absl::Now() + patience;
    v1::CreateReferralRequest request = SampleActivityReferral("13");
    const int n = ++serial;
    request.set_request_id(absl::StrCat("failover-", n));
    request.mutable_referral()->mutable_participant()->set_pseudonym(
        absl::StrCat("failover-", n));
    do {
      v1::Referral made;
      const grpc::Status status =
          (*harness)->Client(kFkHalmstad).Create(request, &made);
      if (status.ok()) return made.name();
      {
        absl::MutexLock lock(&mu);
        last_error =
            absl::StrCat(status.error_code(), " ", status.error_message());
      }
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < give_up);
    return "";
  };
  ASSERT_FALSE(refer(absl::Seconds(10)).empty());

  // Arrivals, one after another, while the primary is killed.
  std::atomic<bool> stop{false};
  std::thread arrivals([&] {
    while (!stop) refer(absl::Seconds(1));
  });
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(primary_->Kill().ok());
  ASSERT_TRUE(Recovered([&] {
    return absl::StrContains(
        replica_->Execute({"INFO", "replication"}).value_or(""), "role:master");
  })) << sentinel_->LogTail();
  stop = true;
  arrivals.join();
  // The old primary back, as a replica of the new one: writes are
  // confirmed again.
  ASSERT_TRUE(primary_->Restart().ok());

  const std::string name = refer(absl::Seconds(60));
  ASSERT_FALSE(name.empty())
      << "no create went through after the failover; the last error: " <<
      [&] {
        absl::MutexLock lock(&mu);
        return last_error;
      }()
      << "\n"
      << sentinel_->LogTail();
  // A liveness bound far above the lease (1 s) and far below the sweep.
  v1::Referral referral;
  const bool decided = Eventually(
      [&] {
        return (*harness)->Client(kFkHalmstad).Get(name, &referral).ok() &&
               referral.state() != v1::REFERRAL_STATE_RECEIVED;
      },
      absl::Seconds(15), absl::Milliseconds(100));
  EXPECT_TRUE(decided) << name << " still RECEIVED: matching stalled";
}

TEST_F(SentinelFaultTest, ASwitchoverMovesThePoolToThePromotedReplica) {
  // An operator's switchover (SENTINEL FAILOVER): the primary stays up and
  // is demoted, the Sentinel disconnecting its clients; the pool finds the
  // new primary through the Sentinel, and keeps every confirmed write.
  RedisPool pool(Options(/*wait_replicas=*/0));
  ASSERT_TRUE(pool.Command({"SET", "before", "1"}).ok());
  ASSERT_EQ(primary_->Execute({"GET", "before"}).value_or(""), "1");
  // Confirmed by the replica (replication is asynchronous: a switchover
  // keeps what the replica holds).
  RedisPool durable(Options(/*wait_replicas=*/1));
  ASSERT_TRUE(durable.Command({"SET", "confirmed", "1"}).ok());

  // Refused (NOGOODSLAVE) until the Sentinel has fresh news of the
  // replica: ask until it starts.
  absl::Status failover;
  ASSERT_TRUE(Recovered([&] {
    failover = sentinel_->Execute({"SENTINEL", "FAILOVER", "slussen"}).status();
    return failover.ok();
  })) << failover;
  const auto role_of = [](RedisServer& server) {
    return server.Execute({"INFO", "replication"}).value_or("");
  };
  ASSERT_TRUE(Recovered([&] {
    return absl::StrContains(role_of(*replica_), "role:master") &&
           absl::StrContains(role_of(*primary_), "role:slave");
  })) << sentinel_->LogTail();

  ASSERT_TRUE(Recovered([&] {
    return pool.Command({"SET", "after", "2"}).ok();
  })) << sentinel_->LogTail();
  EXPECT_EQ(replica_->Execute({"GET", "after"}).value_or(""), "2")
      << "the write went to the promoted replica";
  // And every later write goes there too.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pool.Command({"INCR", "n"}).ok());
  }
  EXPECT_EQ(replica_->Execute({"GET", "n"}).value_or(""), "20");
  const absl::StatusOr<RedisValue> confirmed =
      pool.Command({"GET", "confirmed"});
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(confirmed->str, "1");
}

TEST_F(SentinelFaultTest, AConnectionToADemotedPrimaryIsDroppedNotReused) {
  // The primary turned into a replica behind the Sentinel's back (by hand,
  // or a failover it slept through), the Sentinel still naming it: the
  // pool's open connection to it answers a write with READONLY and must be
  // dropped, and a new connection is refused by its ROLE check rather than
  // handed out for writes that cannot succeed.
  RedisPool pool(Options(/*wait_replicas=*/0));
  ASSERT_TRUE(pool.Command({"SET", "before", "1"}).ok());
  int other_port = 0;
  std::unique_ptr<RedisServer> other = StartOnFreePort(&other_port);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(
      primary_->Execute({"REPLICAOF", "127.0.0.1", absl::StrCat(other_port)})
          .ok());

  const absl::StatusOr<RedisValue> first = pool.Command({"SET", "after", "2"});
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable)
      << first.status();
  EXPECT_TRUE(absl::StrContains(first.status().message(), "READONLY"))
      << first.status();
  const absl::StatusOr<RedisValue> second = pool.Command({"SET", "after", "2"});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable)
      << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(),
                                "is not a primary (a failover is under way)"))
      << "the READONLY connection was handed out again: " << second.status();
}

TEST_F(SentinelFaultTest, NoWriteGoesToAPrimaryTheSentinelsNoLongerName) {
  // As after a partition heals: the Sentinels name another primary while
  // the old one, cut off with this broker, still takes writes. The pool's
  // idle connection to the old one must not carry the next write there
  // (with wait_replicas 0 it would be lost when the old one is demoted):
  // within a second of the Sentinels naming the new one, writes go to it.
  RedisPool pool(Options(/*wait_replicas=*/0));
  ASSERT_TRUE(pool.Command({"SET", "before", "1"}).ok());
  int other_port = 0;
  std::unique_ptr<RedisServer> other = StartOnFreePort(&other_port);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(sentinel_->Execute({"SENTINEL", "REMOVE", "slussen"}).ok());
  ASSERT_TRUE(sentinel_
                  ->Execute({"SENTINEL", "MONITOR", "slussen", "127.0.0.1",
                             absl::StrCat(other_port), "1"})
                  .ok());
  // The old primary is still a primary, and still answers.
  ASSERT_TRUE(absl::StrContains(
      primary_->Execute({"INFO", "replication"}).value_or(""), "role:master"));

  absl::SleepFor(absl::Milliseconds(1100));  // the pool's recheck interval
  ASSERT_TRUE(pool.Command({"SET", "after", "2"}).ok());
  EXPECT_EQ(other->Execute({"GET", "after"}).value_or(""), "2");
  EXPECT_EQ(primary_->Execute({"EXISTS", "after"}).value_or(""), "0")
      << "the write went to the primary the Sentinels no longer name";
}

}  // namespace
}  // namespace slussen::testing
