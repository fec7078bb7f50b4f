// RedisPool in cluster mode against a real Redis Cluster of three
// primaries: hash slots as Redis computes them, commands and script calls
// routed to the primary of their key's slot, pipelines across primaries
// answered in order, and a slot that moves (MOVED) or is migrating (ASK)
// followed.
#include "tests/support/redis_cluster.h"

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::testing {
namespace {

using store::RedisCommandSlot;
using store::RedisHashSlot;
using store::RedisPool;
using store::RedisValue;

TEST(RedisHashSlotTest, FollowsTheClusterSpecification) {
  // CRC-16/XMODEM's check value: "123456789" -> 0x31C3.
  EXPECT_EQ(RedisHashSlot("123456789"), 0x31C3);
  EXPECT_EQ(RedisHashSlot("{user1000}.following"),
            RedisHashSlot("{user1000}.followers"));
  EXPECT_EQ(RedisHashSlot("foo{}{bar}"), RedisHashSlot("foo{}{bar}"));
  EXPECT_NE(RedisHashSlot("foo{}{bar}"), RedisHashSlot("bar"));
  EXPECT_EQ(RedisHashSlot("foo{{bar}}zap"), RedisHashSlot("{bar"));
  EXPECT_EQ(RedisHashSlot("foo{bar}{zap}"), RedisHashSlot("bar"));
  EXPECT_EQ(RedisHashSlot(store::keys::Clock("13", "x")),
            RedisHashSlot(store::keys::Events("13")));
}

TEST(RedisHashSlotTest, FindsTheKeyOfACommand) {
  EXPECT_EQ(RedisCommandSlot({"PING"}), -1);
  EXPECT_EQ(RedisCommandSlot({"INFO", "memory"}), -1);
  EXPECT_EQ(RedisCommandSlot({"get", "a{x}"}), RedisHashSlot("x"));
  EXPECT_EQ(RedisCommandSlot({"EVALSHA", "sha", "2", "k{y}", "z", "arg"}),
            RedisHashSlot("y"));
  EXPECT_EQ(RedisCommandSlot({"EVAL", "return 1", "0", "arg"}), -1);
  EXPECT_EQ(RedisCommandSlot({"XREAD", "COUNT", "5", "STREAMS", "s{q}", "0"}),
            RedisHashSlot("q"));
  EXPECT_EQ(RedisCommandSlot({"MEMORY", "USAGE", "m{w}"}), RedisHashSlot("w"));
}

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisCluster>> cluster =
        RedisCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    pool_ = std::make_unique<RedisPool>(cluster_->ClientOptions());
  }

  // The keys node `i` holds.
  long long KeysOn(int i) {
    absl::StatusOr<std::string> size = cluster_->node(i).Execute({"DBSIZE"});
    EXPECT_TRUE(size.ok()) << size.status();
    return size.ok() ? std::stoll(*size) : -1;
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<RedisPool> pool_;
};

TEST_F(RedisClusterTest, HashSlotsAreThoseRedisComputes) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(32, 126);
  for (int n = 0; n < 300; ++n) {
    std::string key;
    for (int i = n % 23; i >= 0; --i) key += static_cast<char>(byte(random));
    absl::StatusOr<std::string> slot =
        cluster_->node(n % 3).Execute({"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(slot.ok()) << slot.status();
    EXPECT_EQ(RedisHashSlot(key), std::stoi(*slot)) << key;
  }
}

TEST_F(RedisClusterTest, APipelineAcrossPrimariesIsAnsweredInOrder) {
  // A key in every region, and the directory's: they spread over all three.
  std::vector<std::vector<std::string>> writes, reads;
  for (int region = 1; region <= 25; ++region) {
    const std::string key =
        absl::StrCat(store::keys::Region(absl::StrCat(region)), "probe");
    writes.push_back({"SET", key, absl::StrCat("value ", region)});
    reads.push_back({"GET", key});
  }
  writes.push_back({"SET", "slussen:{dir}:probe", "directory"});
  reads.push_back({"GET", "slussen:{dir}:probe"});
  reads.push_back({"PING"});
  absl::StatusOr<std::vector<RedisValue>> written = pool_->Pipeline(writes);
  ASSERT_TRUE(written.ok()) << written.status();
  for (const RedisValue& reply : *written) {
    EXPECT_EQ(reply.type, RedisValue::Type::kStatus) << reply.str;
  }
  absl::StatusOr<std::vector<RedisValue>> read = pool_->Pipeline(reads);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), reads.size());
  for (int region = 1; region <= 25; ++region) {
    EXPECT_EQ((*read)[region - 1].str, absl::StrCat("value ", region));
  }
  EXPECT_EQ((*read)[25].str, "directory");
  EXPECT_EQ((*read)[26].str, "PONG");
  long long total = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(KeysOn(i), 0) << "node " << i << " got no region";
    total += KeysOn(i);
  }
  EXPECT_EQ(total, 26);
}

// On a cluster the round trips are told by the node asked: a pipeline
// across the primaries is one round trip to each.
TEST_F(RedisClusterTest, RoundTripsAreToldByTheNodeAsked) {
  absl::Mutex mu;
  std::map<std::string, int> answered;
  store::RedisOptions options = cluster_->ClientOptions();
  options.on_round_trip = [&](const std::string& node, bool ok) {
    absl::MutexLock lock(&mu);
    if (ok) ++answered[node];
  };
  RedisPool pool(options);
  std::vector<std::vector<std::string>> writes;
  for (int region = 1; region <= 25; ++region) {
    writes.push_back(
        {"SET", absl::StrCat(store::keys::Region(absl::StrCat(region)), "p"),
         "v"});
  }
  ASSERT_TRUE(pool.Pipeline(writes).ok());
  absl::MutexLock lock(&mu);
  std::set<std::string> nodes;
  for (const auto& [node, trips] : answered) nodes.insert(node);
  std::set<std::string> primaries;
  for (int i = 0; i < cluster_->primaries(); ++i) {
    primaries.insert(absl::StrCat("127.0.0.1:", cluster_->port(i)));
  }
  EXPECT_EQ(nodes, primaries);
}

TEST_F(RedisClusterTest, ScriptCallsRunWhereTheirKeysLive) {
  static const store::RedisScript kIncr(
      "return redis.call('INCRBY', KEYS[1], ARGV[1])");
  std::vector<RedisPool::ScriptCall> calls;
  for (const char* region : {"01", "13", "25"}) {
    calls.push_back({{absl::StrCat(store::keys::Region(region), "n")}, {"5"}});
  }
  for (int round = 1; round <= 2; ++round) {
    absl::StatusOr<std::vector<RedisValue>> replies =
        pool_->EvalPipeline(kIncr, calls);
    ASSERT_TRUE(replies.ok()) << replies.status();
    for (const RedisValue& reply : *replies) {
      EXPECT_EQ(reply.integer, 5 * round) << reply.str;
    }
  }
  absl::StatusOr<RedisValue> one =
      pool_->Eval(kIncr, {"slussen:{r13}:n"}, {"1"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->integer, 11);
}

TEST_F(RedisClusterTest, FollowsASlotThatMoved) {
  const std::string key = "slussen:{r13}:moving";
  const int slot = RedisHashSlot(key);
  const int from = cluster_->NodeOfSlot(slot);
  const int to = (from + 1) % 3;
  // The pool learns the map first.
  ASSERT_TRUE(pool_->Command({"SET", "slussen:{r14}:x", "1"}).ok());
  ASSERT_TRUE(cluster_->MoveEmptySlot(slot, to).ok());

  absl::StatusOr<RedisValue> set = pool_->Command({"SET", key, "here"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(cluster_->node(to).Execute({"GET", key}).value_or(""), "here");
  absl::StatusOr<RedisValue> got = pool_->Command({"GET", key});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->str, "here");
}

TEST_F(RedisClusterTest, FollowsAnAskWhileASlotMigrates) {
  const std::string key = "slussen:{r21}:migrating";
  const int slot = RedisHashSlot(key);
  const int from = cluster_->NodeOfSlot(slot);
  const int to = (from + 2) % 3;
  ASSERT_TRUE(cluster_->node(to)
                  .Execute({"CLUSTER", "SETSLOT", absl::StrCat(slot),
                            "IMPORTING", cluster_->id(from)})
                  .ok());
  ASSERT_TRUE(cluster_->node(from)
                  .Execute({"CLUSTER", "SETSLOT", absl::StrCat(slot),
                            "MIGRATING", cluster_->id(to)})
                  .ok());
  // Not on the old primary: it answers ASK, and the new one takes it.
  absl::StatusOr<RedisValue> set = pool_->Command({"SET", key, "asked"});
  ASSERT_TRUE(set.ok()) << set.status();
  // (A plain GET there would be sent back: the slot is not its own yet.)
  const auto keys_in_slot = [&](int node) {
    return cluster_->node(node)
        .Execute({"CLUSTER", "COUNTKEYSINSLOT", absl::StrCat(slot)})
        .value_or("?");
  };
  EXPECT_EQ(keys_in_slot(to), "1");
  EXPECT_EQ(keys_in_slot(from), "0");
}

TEST_F(RedisClusterTest, ASeedThatIsDownIsPassedOverForTheNext) {
  absl::StatusOr<int> nothing = FreeLoopbackPort();
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  store::RedisOptions options;
  options.address.host = "127.0.0.1";
  options.address.port = *nothing;
  options.cluster = true;
  options.more_seeds = {cluster_->seed()};
  RedisPool pool(options);
  absl::StatusOr<RedisValue> set =
      pool.Command({"SET", "slussen:{r13}:seeded", "yes"});
  ASSERT_TRUE(set.ok()) << set.status();
  absl::StatusOr<RedisValue> got =
      pool_->Command({"GET", "slussen:{r13}:seeded"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->str, "yes");

  options.more_seeds.clear();
  RedisPool lost(options);
  absl::StatusOr<RedisValue> none = lost.Command({"GET", "slussen:{r13}:x"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable)
      << none.status();
}

TEST_F(RedisClusterTest, ACommandAcrossSlotsIsRefusedByRedis) {
  // The store never does this (one hash tag per command); Redis says so if
  // it did, and the pool passes the error on.
  absl::StatusOr<RedisValue> both =
      pool_->Command({"MSET", "slussen:{r01}:a", "1", "slussen:{r13}:b", "2"});
  EXPECT_FALSE(both.ok());
}

}  // namespace
}  // namespace slussen::testing
