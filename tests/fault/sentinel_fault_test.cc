// Redis Sentinel under RedisPool: a primary with one replica and a
// Sentinel watching them. A write acknowledged with wait_replicas=1 is on
// the replica; the primary is killed; the Sentinel promotes the replica;
// the pool, asking the Sentinel again, writes to the new primary and finds
// the acknowledged write there; the old primary, back, becomes a replica,
// and writes are confirmed by a replica again.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace slussen::testing {
namespace {

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
// by host and port), with `more` on its command line.
std::unique_ptr<RedisServer> StartOnPort(int port,
                                         std::vector<std::string> more = {},
                                         std::string config_file = "") {
  RedisServer::Options options;
  // A replica's full sync at once, not after Redis's 5 s wait for more.
  options.extra_args = {"--port",    absl::StrCat(port),           "--bind",
                        "127.0.0.1", "--repl-diskless-sync-delay", "0"};
  options.extra_args.insert(options.extra_args.end(), more.begin(), more.end());
  options.config_file = std::move(config_file);
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      RedisServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

class SentinelFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int* port : {&primary_port_, &replica_port_, &sentinel_port_}) {
      absl::StatusOr<int> free = FreeLoopbackPort();
      ASSERT_TRUE(free.ok()) << free.status();
      *port = *free;
    }
    primary_ = StartOnPort(primary_port_);
    ASSERT_NE(primary_, nullptr);
    replica_ = StartOnPort(replica_port_, {"--replicaof", "127.0.0.1",
                                           absl::StrCat(primary_port_)});
    ASSERT_NE(replica_, nullptr);
    ASSERT_TRUE(Recovered([&] {
      return absl::StrContains(
          replica_->Execute({"INFO", "replication"}).value_or(""),
          "master_link_status:up");
    }));
    sentinel_ = StartOnPort(
        sentinel_port_, {"--sentinel"},
        absl::StrCat("sentinel monitor slussen 127.0.0.1 ", primary_port_,
                     " 1\n"
                     "sentinel down-after-milliseconds slussen 1000\n"
                     "sentinel failover-timeout slussen 10000\n"));
    ASSERT_NE(sentinel_, nullptr);
    // The Sentinel has found the replica (it may only promote one it knows).
    ASSERT_TRUE(Recovered([&] {
      return absl::StrContains(
          sentinel_->Execute({"INFO", "sentinel"}).value_or(""), "slaves=1");
    }));
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

  int primary_port_ = 0, replica_port_ = 0, sentinel_port_ = 0;
  std::unique_ptr<RedisServer> primary_, replica_, sentinel_;
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

}  // namespace
}  // namespace slussen::testing
