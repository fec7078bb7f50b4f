// RedisChange against a real, private redis-server: every check passes
// when it holds and fails, with its documented code and message, when it
// does not; a failed check writes nothing (the whole database is compared
// before and after); every write of a change that passes is applied; and
// racing changes on one capacity unit or one version never overbook or
// lose an update.
#include "broker/store/redis_change.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace slussen::store {
namespace {

using ::slussen::testing::RedisServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Every key of the tests shares one hash tag, as a change requires.
constexpr char kHash[] = "test:{t}:hash";
constexpr char kZset[] = "test:{t}:zset";
constexpr char kSet[] = "test:{t}:set";
constexpr char kString[] = "test:{t}:string";
constexpr char kStream[] = "test:{t}:stream";
constexpr char kOffering[] = "test:{t}:offering";
constexpr char kMissing[] = "test:{t}:missing";
constexpr char kNew[] = "test:{t}:new";
constexpr char kNewHash[] = "test:{t}:new-hash";
constexpr char kNewStream[] = "test:{t}:new-stream";

std::unique_ptr<RedisPool> MakePool(const RedisServer& server) {
  // Generous: parallel tests on two cores can hold an fsync up.
  return std::make_unique<RedisPool>(
      server.ClientOptions({.command_timeout = absl::Seconds(10)}));
}

// One of every write, on seeded keys and on new ones.
void AddEveryWrite(RedisChange& change) {
  change.HSet(kHash, {{"version", "4"}, {"note", "written"}})
      .HDel(kHash, "state")
      .HIncrBy(kOffering, "u:-:held", 1)
      .HIncrBy(kNewHash, "count", 5)
      .ZAdd(kZset, "7", "c")
      .ZRem(kZset, "a")
      .SAdd(kSet, "y")
      .SetWithTtl(kNew, "fresh", 60'000)
      .XAdd(kStream, {{"type", "2"}, {"what", "second"}});
}

class RedisChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServer::Options options;
    // DEBUG DIGEST, from this (local) socket only.
    options.extra_args = {"--enable-debug-command", "local"};
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    pool_ = MakePool(*server_);
  }

  // A hash, a sorted set, a set, a string, a stream and an offering with a
  // unit "-" of 3 with one free, and a full cohort "c1" of 2.
  void Seed() {
    Redis({"HSET", kHash, "version", "3", "state", "2"});
    Redis({"ZADD", kZset, "0", "a", "0", "b"});
    Redis({"SADD", kSet, "x"});
    Redis({"SET", kString, "stored"});
    Redis({"XADD", kStream, "*", "type", "1", "what", "first"});
    Redis({"HSET", kOffering, "u:-:cap", "3", "u:-:occupied", "1", "u:-:held",
           "1", "u:c1:cap", "2", "u:c1:occupied", "1", "u:c1:held", "1"});
  }

  RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << argv[0] << ": " << reply.status();
    return reply.value_or(RedisValue());
  }

  // A digest of the whole data set, expiries included: equal digests mean
  // nothing was written in between.
  std::string Digest() { return Redis({"DEBUG", "DIGEST"}).str; }

  // Every key with its serialized value, for a readable failure.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> dump;
    for (const RedisValue& key : Redis({"KEYS", "*"}).elements) {
      dump[key.str] = Redis({"DUMP", key.str}).str;
    }
    return dump;
  }

  std::map<std::string, std::string> Hash(const std::string& key) {
    std::map<std::string, std::string> fields;
    const RedisValue reply = Redis({"HGETALL", key});
    for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
      fields[reply.elements[i].str] = reply.elements[i + 1].str;
    }
    return fields;
  }

  std::vector<std::string> Members(const std::vector<std::string>& argv) {
    std::vector<std::string> members;
    for (const RedisValue& member : Redis(argv).elements) {
      members.push_back(member.str);
    }
    std::sort(members.begin(), members.end());
    return members;
  }

  long long Counter(const std::string& key, const std::string& field) {
    long long value = 0;
    const RedisValue reply = Redis({"HGET", key, field});
    if (!reply.is_nil()) {
      EXPECT_TRUE(absl::SimpleAtoi(reply.str, &value));
    }
    return value;
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
};

// --- Checks that hold --------------------------------------------------------

TEST_F(RedisChangeTest, WhenEveryCheckHoldsEveryWriteIsApplied) {
  Seed();
  RedisChange change;
  change.IfExistsReturn(kMissing)
      .Absent(kMissing, "missing is taken")
      .Absent(kNew, "new is taken", /*already_exists=*/true)
      .FieldEquals(kHash, "version", "3", "hash changed")
      .FieldEquals(kHash, "no-such-field", "", "hash changed")
      .FieldEquals(kMissing, "version", "", "missing changed")
      .HasFreeUnit(kOffering, "u:-:", "no place")
      .UnitFits(kOffering, "u:-:", 2, "too small")
      .UnitFits(kOffering, "u:c1:", 2, "too small")
      .UnitFits(kOffering, "u:none:", 0, "too small");
  AddEveryWrite(change);
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->existing.has_value());
  ASSERT_EQ(result->stream_ids.size(), 1u);

  EXPECT_THAT(Hash(kHash), UnorderedElementsAre(Pair("version", "4"),
                                                Pair("note", "written")));
  EXPECT_EQ(Counter(kOffering, "u:-:held"), 2);
  EXPECT_EQ(Counter(kNewHash, "count"), 5);
  EXPECT_THAT(Members({"ZRANGE", kZset, "0", "-1"}), ElementsAre("b", "c"));
  EXPECT_EQ(Redis({"ZSCORE", kZset, "c"}).str, "7");
  EXPECT_THAT(Members({"SMEMBERS", kSet}), ElementsAre("x", "y"));
  EXPECT_EQ(Redis({"GET", kNew}).str, "fresh");
  EXPECT_EQ(Redis({"XLEN", kStream}).integer, 2);
  EXPECT_FALSE(Redis({"EXISTS", kMissing}).integer);
}

TEST_F(RedisChangeTest, EveryKindOfWriteDoesWhatItSays) {
  Seed();
  RedisChange change;
  change.HSet(kNewHash, {{"a", "1"}, {"b", "two"}, {"c", ""}})
      .HDel(kHash, "state")
      .HDel(kHash, "no-such-field")
      .HIncrBy(kOffering, "u:-:occupied", -1)
      .HIncrBy(kOffering, "u:c2:held", 4)
      .ZAdd(kZset, "0", "d")
      .ZAdd(kZset, "5", "a")
      .ZRem(kZset, "b")
      .ZRem(kZset, "no-such-member")
      .SAdd(kSet, "x")
      .SAdd(kSet, "z")
      .SetWithTtl(kString, "replaced", 30'000);
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->stream_ids.empty());

  EXPECT_THAT(
      Hash(kNewHash),
      UnorderedElementsAre(Pair("a", "1"), Pair("b", "two"), Pair("c", "")));
  EXPECT_THAT(Hash(kHash), UnorderedElementsAre(Pair("version", "3")));
  EXPECT_EQ(Counter(kOffering, "u:-:occupied"), 0);
  EXPECT_EQ(Counter(kOffering, "u:c2:held"), 4);
  EXPECT_THAT(Members({"ZRANGE", kZset, "0", "-1"}), ElementsAre("a", "d"));
  EXPECT_EQ(Redis({"ZSCORE", kZset, "a"}).str, "5");
  EXPECT_THAT(Members({"SMEMBERS", kSet}), ElementsAre("x", "z"));
  EXPECT_EQ(Redis({"GET", kString}).str, "replaced");
  const long long ttl = Redis({"PTTL", kString}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 30'000);
}

TEST_F(RedisChangeTest, XAddReturnsTheIdOfEachEntryInOrder) {
  RedisChange change;
  change.XAdd(kNewStream, {{"type", "1"}, {"n", "one"}})
      .XAdd(kStream, {{"type", "9"}})
      .XAdd(kNewStream, {{"type", "2"}, {"n", "two"}});
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->stream_ids.size(), 3u);

  const RedisValue entries = Redis({"XRANGE", kNewStream, "-", "+"});
  ASSERT_EQ(entries.elements.size(), 2u);
  EXPECT_EQ(entries.elements[0].elements[0].str, result->stream_ids[0]);
  EXPECT_EQ(entries.elements[1].elements[0].str, result->stream_ids[2]);
  std::vector<std::string> fields;
  for (const RedisValue& value : entries.elements[1].elements[1].elements) {
    fields.push_back(value.str);
  }
  EXPECT_THAT(fields, ElementsAre("type", "2", "n", "two"));
  const RedisValue other = Redis({"XRANGE", kStream, "-", "+"});
  ASSERT_EQ(other.elements.size(), 1u);
  EXPECT_EQ(other.elements[0].elements[0].str, result->stream_ids[1]);
}

TEST_F(RedisChangeTest, WritesToOneKeyApplyInTheOrderGiven) {
  RedisChange change;
  change.HSet(kNewHash, {{"n", "10"}, {"gone", "soon"}})
      .HIncrBy(kNewHash, "n", 5)
      .HIncrBy(kNewHash, "n", -2)
      .HDel(kNewHash, "gone")
      .ZAdd(kZset, "1", "m")
      .ZRem(kZset, "m")
      .ZAdd(kZset, "2", "k");
  ASSERT_TRUE(change.Apply(*pool_).ok());
  EXPECT_THAT(Hash(kNewHash), UnorderedElementsAre(Pair("n", "13")));
  EXPECT_THAT(Members({"ZRANGE", kZset, "0", "-1"}), ElementsAre("k"));
}

TEST_F(RedisChangeTest, ChecksSeeTheDataAsItWasBeforeAnyWrite) {
  Seed();
  // The writes come first in the builder, yet every check runs first.
  RedisChange change;
  change.HSet(kHash, {{"version", "4"}})
      .SetWithTtl(kNew, "made", 60'000)
      .HIncrBy(kOffering, "u:-:held", 1)
      .FieldEquals(kHash, "version", "3", "hash changed")
      .Absent(kNew, "new is taken")
      .HasFreeUnit(kOffering, "u:-:", "no place");
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(Redis({"HGET", kHash, "version"}).str, "4");
  EXPECT_EQ(Redis({"GET", kNew}).str, "made");
  EXPECT_EQ(Counter(kOffering, "u:-:held"), 2);
}

TEST_F(RedisChangeTest, AnEmptyChangeSucceedsAndWritesNothing) {
  Seed();
  const std::string before = Digest();
  RedisChange change;
  EXPECT_TRUE(change.empty());
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->existing.has_value());
  EXPECT_TRUE(result->stream_ids.empty());
  EXPECT_EQ(Digest(), before);
  change.SAdd(kSet, "q");
  EXPECT_FALSE(change.empty());
}

TEST_F(RedisChangeTest, ANonPositiveTtlStillLetsTheChangeThrough) {
  for (int64_t ttl : {0, -5}) {
    SCOPED_TRACE(ttl);
    RedisChange change;
    change.SetWithTtl(kNew, "brief", ttl).HIncrBy(kNewHash, "n", 1);
    absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
    ASSERT_TRUE(result.ok()) << result.status();
  }
  EXPECT_EQ(Counter(kNewHash, "n"), 2);
}

// --- IfExistsReturn ----------------------------------------------------------

TEST_F(RedisChangeTest, IfExistsReturnEndsWithTheValueAndWritesNothing) {
  Seed();
  const std::string before = Digest();
  const std::map<std::string, std::string> snapshot = Snapshot();
  RedisChange change;
  change.IfExistsReturn(kString);
  // Later checks would fail: a replay ends before them.
  change.Absent(kHash, "hash is taken")
      .HasFreeUnit(kOffering, "u:c1:", "no place");
  AddEveryWrite(change);
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->existing.has_value());
  EXPECT_EQ(*result->existing, "stored");
  EXPECT_TRUE(result->stream_ids.empty());
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(Snapshot(), snapshot);
}

TEST_F(RedisChangeTest, IfExistsReturnGivesBackAnEmptyValueToo) {
  Redis({"SET", kString, ""});
  RedisChange change;
  change.IfExistsReturn(kString).SAdd(kSet, "x");
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->existing.has_value());
  EXPECT_EQ(*result->existing, "");
  EXPECT_FALSE(Redis({"EXISTS", kSet}).integer);
}

TEST_F(RedisChangeTest, IfExistsReturnOfAnAbsentKeyLetsTheChangeThrough) {
  RedisChange change;
  change.IfExistsReturn(kNew)
      .SetWithTtl(kNew, "first", 60'000)
      .XAdd(kStream, {{"type", "1"}});
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->existing.has_value());
  EXPECT_EQ(result->stream_ids.size(), 1u);

  // The replay finds what the first call wrote.
  absl::StatusOr<RedisChange::Result> replay = change.Apply(*pool_);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->existing.value_or("(none)"), "first");
  EXPECT_EQ(Redis({"XLEN", kStream}).integer, 1);
}

// --- Checks that fail --------------------------------------------------------

struct FailingCheck {
  std::string name;
  std::function<void(RedisChange&)> add;
  absl::StatusCode code;
  std::string message;
};

std::vector<FailingCheck> FailingChecks() {
  using Code = absl::StatusCode;
  return {
      {"AbsentOfAHash",
       [](RedisChange& c) { c.Absent(kHash, "hash is taken"); }, Code::kAborted,
       "hash is taken"},
      {"AbsentOfAString",
       [](RedisChange& c) { c.Absent(kString, "string is taken"); },
       Code::kAborted, "string is taken"},
      {"AbsentOfAStream",
       [](RedisChange& c) { c.Absent(kStream, "stream is taken"); },
       Code::kAborted, "stream is taken"},
      {"AbsentAsAlreadyExists",
       [](RedisChange& c) {
         c.Absent(kZset, "zset exists", /*already_exists=*/true);
       },
       Code::kAlreadyExists, "zset exists"},
      {"FieldEqualsAnotherValue",
       [](RedisChange& c) {
         c.FieldEquals(kHash, "version", "2", "hash changed");
       },
       Code::kAborted, "hash changed (version 3, expected 2)"},
      {"FieldEqualsEmptyButSet",
       [](RedisChange& c) { c.FieldEquals(kHash, "state", "", "state set"); },
       Code::kAborted, "state set (state 2, expected )"},
      {"FieldEqualsAMissingField",
       [](RedisChange& c) {
         c.FieldEquals(kHash, "assigned", "amia", "not assigned");
       },
       Code::kAborted, "not assigned (assigned , expected amia)"},
      {"FieldEqualsOnAMissingKey",
       [](RedisChange& c) {
         c.FieldEquals(kMissing, "version", "1", "missing changed");
       },
       Code::kAborted, "missing changed (version , expected 1)"},
      {"FieldEqualsOnAMissingKeyAsNotFound",
       [](RedisChange& c) {
         c.FieldEquals(kMissing, "version", "1", "missing is gone",
                       /*missing_is_not_found=*/true);
       },
       Code::kNotFound, "missing is gone"},
      {"FieldEqualsEmptyOnAMissingKeyAsNotFound",
       [](RedisChange& c) {
         c.FieldEquals(kMissing, "version", "", "missing is gone",
                       /*missing_is_not_found=*/true);
       },
       Code::kNotFound, "missing is gone"},
      {"HasFreeUnitOfAFullUnit",
       [](RedisChange& c) {
         c.HasFreeUnit(kOffering, "u:c1:", "cohort c1 is full");
       },
       Code::kFailedPrecondition, "cohort c1 is full"},
      {"HasFreeUnitOfAUnitWithoutCapacity",
       [](RedisChange& c) {
         c.HasFreeUnit(kOffering, "u:c9:", "cohort c9 has no place");
       },
       Code::kFailedPrecondition, "cohort c9 has no place"},
      {"HasFreeUnitOfAMissingKey",
       [](RedisChange& c) { c.HasFreeUnit(kMissing, "u:-:", "no offering"); },
       Code::kFailedPrecondition, "no offering"},
      {"UnitFitsBelowTaken",
       [](RedisChange& c) {
         c.UnitFits(kOffering, "u:-:", 1, "holds more than 1");
       },
       Code::kFailedPrecondition, "holds more than 1"},
      {"UnitFitsZeroWhenTaken",
       [](RedisChange& c) {
         c.UnitFits(kOffering, "u:c1:", 0, "cohort c1 took a place");
       },
       Code::kFailedPrecondition, "cohort c1 took a place"},
  };
}

class FailingCheckTest : public RedisChangeTest,
                         public ::testing::WithParamInterface<FailingCheck> {};

TEST_P(FailingCheckTest, FailsWithItsCodeAndMessageAndWritesNothing) {
  const FailingCheck& check = GetParam();
  Seed();
  const std::string before = Digest();
  const std::map<std::string, std::string> snapshot = Snapshot();
  ASSERT_FALSE(snapshot.empty());

  // The failing check first, last, and among checks that hold.
  for (int position = 0; position < 3; ++position) {
    SCOPED_TRACE(absl::StrCat("position ", position));
    RedisChange change;
    if (position == 0) check.add(change);
    change.FieldEquals(kHash, "version", "3", "hash changed")
        .HasFreeUnit(kOffering, "u:-:", "no place");
    if (position == 1) check.add(change);
    change.Absent(kNew, "new is taken").IfExistsReturn(kMissing);
    AddEveryWrite(change);
    if (position == 2) check.add(change);

    absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
    EXPECT_EQ(result.status().code(), check.code) << result.status();
    EXPECT_EQ(result.status().message(), check.message);
    EXPECT_EQ(Digest(), before);
    EXPECT_EQ(Snapshot(), snapshot);
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryCheck, FailingCheckTest, ::testing::ValuesIn(FailingChecks()),
    [](const ::testing::TestParamInfo<FailingCheck>& info) {
      return info.param.name;
    });

// --- Capacity ----------------------------------------------------------------

TEST_F(RedisChangeTest, HasFreeUnitLetsUnitsBeTakenUntilTheUnitIsFull) {
  Redis({"HSET", kOffering, "u:-:cap", "4", "u:-:occupied", "1"});
  auto take = [&] {
    RedisChange change;
    change.HasFreeUnit(kOffering, "u:-:", "no place left")
        .HIncrBy(kOffering, "u:-:held", 1);
    return change.Apply(*pool_).status();
  };
  for (int i = 0; i < 3; ++i) {
    const absl::Status status = take();
    ASSERT_TRUE(status.ok()) << "unit " << i << ": " << status;
  }
  const std::string full = Digest();
  const absl::Status refused = take();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_EQ(refused.message(), "no place left");
  EXPECT_EQ(Counter(kOffering, "u:-:held"), 3);
  EXPECT_EQ(Digest(), full);

  // Freeing one makes exactly one more room.
  RedisChange release;
  release.HIncrBy(kOffering, "u:-:held", -1);
  ASSERT_TRUE(release.Apply(*pool_).ok());
  EXPECT_TRUE(take().ok());
  EXPECT_EQ(take().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Counter(kOffering, "u:-:held") + Counter(kOffering, "u:-:occupied"),
            Counter(kOffering, "u:-:cap"));
}

TEST_F(RedisChangeTest, HasFreeUnitCountsOnlyItsOwnUnit) {
  Redis({"HSET", kOffering, "u:a:cap", "1", "u:a:held", "1", "u:b:cap", "1"});
  RedisChange in_a;
  in_a.HasFreeUnit(kOffering, "u:a:", "a is full");
  EXPECT_EQ(in_a.Apply(*pool_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  RedisChange in_b;
  in_b.HasFreeUnit(kOffering, "u:b:", "b is full")
      .HIncrBy(kOffering, "u:b:held", 1);
  EXPECT_TRUE(in_b.Apply(*pool_).ok());
  EXPECT_EQ(Counter(kOffering, "u:b:held"), 1);
}

TEST_F(RedisChangeTest, HasFreeUnitRefusesAnOverfullUnit) {
  // Capacity published below what is taken (a cohort closed while full).
  Redis({"HSET", kOffering, "u:-:cap", "2", "u:-:occupied", "3"});
  RedisChange change;
  change.HasFreeUnit(kOffering, "u:-:", "overfull")
      .HIncrBy(kOffering, "u:-:held", 1);
  EXPECT_EQ(change.Apply(*pool_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Counter(kOffering, "u:-:held"), 0);
}

TEST_F(RedisChangeTest, UnitFitsAllowsExactlyWhatIsTakenAndNoLess) {
  Redis({"HSET", kOffering, "u:-:occupied", "2", "u:-:held", "1"});
  for (int64_t capacity = 0; capacity <= 5; ++capacity) {
    SCOPED_TRACE(capacity);
    RedisChange change;
    change.UnitFits(kOffering, "u:-:", capacity, "too small")
        .HSet(kOffering, {{"u:-:cap", absl::StrCat(capacity)}});
    const absl::Status status = change.Apply(*pool_).status();
    if (capacity >= 3) {
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_EQ(Counter(kOffering, "u:-:cap"), capacity);
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(status.message(), "too small");
      EXPECT_EQ(Counter(kOffering, "u:-:cap"), 0);
    }
  }
}

TEST_F(RedisChangeTest, RacingChangesNeverTakeMoreUnitsThanTheCapacity) {
  constexpr int kCapacity = 25;
  constexpr int kThreads = 8;
  Redis({"HSET", kOffering, "u:-:cap", absl::StrCat(kCapacity)});
  std::vector<int> taken(kThreads, 0);
  std::vector<std::string> unexpected(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Its own connection, as another broker replica would have.
      std::unique_ptr<RedisPool> pool = MakePool(*server_);
      start.arrive_and_wait();
      for (int attempt = 0; attempt < 2 * kCapacity; ++attempt) {
        RedisChange change;
        change.HasFreeUnit(kOffering, "u:-:", "full")
            .HIncrBy(kOffering, "u:-:held", 1)
            .SAdd(kSet, absl::StrCat(i, "-", attempt));
        const absl::Status status = change.Apply(*pool).status();
        if (status.ok()) {
          ++taken[i];
        } else if (status.code() == absl::StatusCode::kFailedPrecondition) {
          break;
        } else {
          unexpected[i] = status.ToString();
          break;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int total = 0;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(unexpected[i], "") << "thread " << i;
    total += taken[i];
  }
  EXPECT_EQ(total, kCapacity);
  EXPECT_EQ(Counter(kOffering, "u:-:held"), kCapacity);
  EXPECT_EQ(Redis({"SCARD", kSet}).integer, kCapacity);
}

TEST_F(RedisChangeTest, RacingVersionChecksNeverLoseAnUpdate) {
  constexpr int kThreads = 6;
  constexpr int kTarget = 60;
  Redis({"HSET", kHash, "version", "0", "sum", "0"});
  std::vector<int> won(kThreads, 0);
  std::vector<std::string> unexpected(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<RedisPool> pool = MakePool(*server_);
      start.arrive_and_wait();
      for (int round = 0; round < 10 * kTarget; ++round) {
        absl::StatusOr<RedisValue> read =
            pool->Command({"HGET", kHash, "version"});
        int64_t version = 0;
        if (!read.ok() || !absl::SimpleAtoi(read->str, &version)) {
          unexpected[i] = "cannot read the version";
          return;
        }
        if (version >= kTarget) return;
        RedisChange change;
        change.FieldEquals(kHash, "version", absl::StrCat(version), "changed")
            .HSet(kHash, {{"version", absl::StrCat(version + 1)}})
            .HIncrBy(kHash, "sum", 1);
        const absl::Status status = change.Apply(*pool).status();
        if (status.ok()) {
          ++won[i];
        } else if (status.code() != absl::StatusCode::kAborted) {
          unexpected[i] = status.ToString();
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int total = 0;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(unexpected[i], "") << "thread " << i;
    total += won[i];
  }
  EXPECT_EQ(total, kTarget);
  EXPECT_EQ(Counter(kHash, "version"), kTarget);
  EXPECT_EQ(Counter(kHash, "sum"), kTarget);
}

// --- ApplyEach ---------------------------------------------------------------

// A change that moves kHash from `version` to the next, counting in "sum".
RedisChange Bump(int version) {
  RedisChange change;
  change.FieldEquals(kHash, "version", absl::StrCat(version), "hash changed")
      .HSet(kHash, {{"version", absl::StrCat(version + 1)}})
      .HIncrBy(kHash, "sum", 1)
      .XAdd(kStream, {{"type", "7"}, {"version", absl::StrCat(version + 1)}});
  return change;
}

TEST_F(RedisChangeTest, ApplyEachWritesEveryChangeWhoseChecksHold) {
  Seed();
  // 3 -> 4 holds, 3 -> 4 again does not (the first wrote 4), 4 -> 5 holds:
  // a change sees the writes of those before it.
  std::vector<RedisChange> changes = {Bump(3), Bump(3), Bump(4)};
  RedisChange replay;
  replay.IfExistsReturn(kString).SAdd(kSet, "never");
  changes.push_back(replay);
  const absl::StatusOr<std::vector<absl::StatusOr<RedisChange::Result>>>
      results = RedisChange::ApplyEach(*pool_, changes);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 4u);
  ASSERT_TRUE((*results)[0].ok()) << (*results)[0].status();
  EXPECT_EQ((*results)[0]->stream_ids.size(), 1u);
  EXPECT_EQ((*results)[1].status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT((*results)[1].status().message(),
              HasSubstr("hash changed (version 4, expected 3)"));
  ASSERT_TRUE((*results)[2].ok()) << (*results)[2].status();
  ASSERT_TRUE((*results)[3].ok()) << (*results)[3].status();
  EXPECT_EQ((*results)[3]->existing, "stored");
  EXPECT_EQ(Counter(kHash, "version"), 5);
  EXPECT_EQ(Counter(kHash, "sum"), 2);
  EXPECT_EQ(Redis({"XLEN", kStream}).integer, 3);
  EXPECT_THAT(Members({"SMEMBERS", kSet}), ElementsAre("x"));
}

TEST_F(RedisChangeTest, ApplyEachSpreadOverScriptCallsKeepsEveryOutcome) {
  Redis({"HSET", kHash, "version", "0"});
  // 0 -> 1 ... 9 -> 10, with a stale one after every third, three changes
  // to a script call; and once more after the script cache was flushed.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    if (round == 1) {
      Redis({"SCRIPT", "FLUSH"});
      Redis({"HSET", kHash, "version", "0", "sum", "0"});
    }
    std::vector<RedisChange> changes;
    std::vector<bool> stale;
    for (int v = 0; v < 10; ++v) {
      changes.push_back(Bump(v));
      stale.push_back(false);
      if (v % 3 == 2) {
        changes.push_back(Bump(v));
        stale.push_back(true);
      }
    }
    const absl::StatusOr<std::vector<absl::StatusOr<RedisChange::Result>>>
        results = RedisChange::ApplyEach(*pool_, changes, /*per_script=*/3);
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_EQ(results->size(), changes.size());
    for (size_t i = 0; i < changes.size(); ++i) {
      EXPECT_EQ((*results)[i].status().code(),
                stale[i] ? absl::StatusCode::kAborted : absl::StatusCode::kOk)
          << i;
    }
    EXPECT_EQ(Counter(kHash, "version"), 10);
    EXPECT_EQ(Counter(kHash, "sum"), 10);
  }
}

TEST_F(RedisChangeTest, ApplyEachOfNoChangesIsEmpty) {
  const absl::StatusOr<std::vector<absl::StatusOr<RedisChange::Result>>>
      results = RedisChange::ApplyEach(*pool_, {});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_TRUE(results->empty());
}

// --- Writes Redis refuses ----------------------------------------------------

TEST_F(RedisChangeTest, AWriteWithoutFieldsIsRefusedBeforeAnythingIsWritten) {
  Seed();
  const std::string before = Digest();
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind == 0 ? "HSet" : "XAdd");
    RedisChange change;
    change.HIncrBy(kOffering, "u:-:held", 1).SAdd(kSet, "w");
    if (kind == 0) {
      change.HSet(kNewHash, {});
    } else {
      change.XAdd(kStream, {});
    }
    const absl::Status status = change.Apply(*pool_).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
    EXPECT_THAT(status.message(), HasSubstr(kind == 0 ? kNewHash : kStream));
    EXPECT_EQ(Digest(), before);
  }
}

// A write that Redis itself would refuse (HINCRBY of a field that is not
// an integer, a write to a key of another type) would fail the script
// after the writes before it, and Redis does not roll a script back. The
// checks find it first: nothing is written. (Only data the broker did not
// write can cause it.)
// A value read along with the writes is what the key held when the change
// was written (here: before a write to the same key in it, as the checks
// see it), whatever it holds; a missing key reads as nullopt. The stream
// ids come first and stay apart.
TEST_F(RedisChangeTest, ReadAlongGivesWhatTheKeysHeldAtTheWrite) {
  Seed();
  RedisChange change;
  change.ReadAlong(kString)
      .XAdd(kStream, {{"type", "2"}})
      .ReadAlong(kMissing)
      .SetWithTtl(kString, "replaced", 30'000)
      .ReadAlong(kString);
  absl::StatusOr<RedisChange::Result> result = change.Apply(*pool_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stream_ids.size(), 1u);
  EXPECT_THAT(result->reads,
              ElementsAre(std::optional<std::string>("stored"), std::nullopt,
                          std::optional<std::string>("stored")));
  EXPECT_EQ(Redis({"GET", kString}).str, "replaced");

  // A failed check reads nothing back and writes nothing.
  RedisChange refused;
  refused.ReadAlong(kString).Absent(kString, "taken").SAdd(kSet, "r");
  EXPECT_EQ(refused.Apply(*pool_).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Redis({"SISMEMBER", kSet, "r"}).integer, 0);
}

// A key of another type than a string fails the read before any write.
TEST_F(RedisChangeTest, ReadAlongOfAKeyOfAnotherTypeWritesNothing) {
  Seed();
  const std::string before = Digest();
  RedisChange change;
  change.SAdd(kSet, "w").ReadAlong(kHash);
  const absl::Status status = change.Apply(*pool_).status();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisChangeTest, AWriteRedisWouldRefuseMidwayLeavesNothingWritten) {
  Seed();
  Redis({"HSET", kNewHash, "n", "not a number"});
  Redis({"SET", kStream, "a string where a stream belongs"});
  const std::string before = Digest();
  RedisChange counter;
  counter.SAdd(kSet, "w")
      .HIncrBy(kNewHash, "n", 1)
      .HSet(kHash, {{"version", "4"}});
  absl::Status status = counter.Apply(*pool_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(status.message(), HasSubstr("not an integer"));
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(Redis({"SISMEMBER", kSet, "w"}).integer, 0);

  RedisChange stream;
  stream.SAdd(kSet, "w").XAdd(kStream, {{"type", "1"}});
  status = stream.Apply(*pool_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_THAT(status.message(), HasSubstr("which holds a string"));
  EXPECT_EQ(Digest(), before);
}

}  // namespace
}  // namespace slussen::store
