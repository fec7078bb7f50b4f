// RedisAddress, RedisScript, RedisPool and StatusFromErrorReply against a
// real, private redis-server: replies of every type, scripts after a flush,
// error replies as statuses, a dead or missing server as UNAVAILABLE, and a
// pool that recovers by itself once Redis is back.
#include "broker/store/redis_client.h"

#include <signal.h>

#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace slussen::store {
namespace {

using ::slussen::testing::RedisServer;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using Type = RedisValue::Type;

// --- RedisAddress -----------------------------------------------------------

TEST(RedisAddressTest, ParsesAUnixSocket) {
  absl::StatusOr<RedisAddress> address =
      RedisAddress::Parse("unix:/run/redis/redis.sock");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->unix_path, "/run/redis/redis.sock");
  EXPECT_TRUE(address->host.empty());
  EXPECT_EQ(address->ToString(), "unix:/run/redis/redis.sock");
}

TEST(RedisAddressTest, ParsesTcpWithAndWithoutScheme) {
  absl::StatusOr<RedisAddress> with_scheme =
      RedisAddress::Parse("tcp://10.0.0.7:6380");
  ASSERT_TRUE(with_scheme.ok()) << with_scheme.status();
  EXPECT_EQ(with_scheme->host, "10.0.0.7");
  EXPECT_EQ(with_scheme->port, 6380);
  EXPECT_TRUE(with_scheme->unix_path.empty());

  absl::StatusOr<RedisAddress> bare = RedisAddress::Parse("localhost:6379");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->host, "localhost");
  EXPECT_EQ(bare->port, 6379);
  EXPECT_EQ(bare->ToString(), "tcp://localhost:6379");
}

TEST(RedisAddressTest, ToStringParsesBackToTheSameAddress) {
  for (absl::string_view text :
       {"unix:/tmp/r.sock", "tcp://127.0.0.1:1", "redis.internal:65535"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<RedisAddress> first = RedisAddress::Parse(text);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<RedisAddress> again = RedisAddress::Parse(first->ToString());
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->unix_path, first->unix_path);
    EXPECT_EQ(again->host, first->host);
    EXPECT_EQ(again->port, first->port);
    EXPECT_EQ(again->ToString(), first->ToString());
  }
}

TEST(RedisAddressTest, RefusesMalformedAddressesNamingThemAndTheForms) {
  for (absl::string_view text :
       {"", "localhost", "localhost:", ":6379", "tcp://:6379", "tcp://",
        "localhost:0", "localhost:65536", "localhost:-1", "localhost:redis",
        "localhost:6379/0", "a:1,b:2", "two words:6379"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<RedisAddress> address = RedisAddress::Parse(text);
    ASSERT_FALSE(address.ok());
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(address.status().message(),
                AllOf(HasSubstr("unix:/path/to/socket"),
                      HasSubstr("tcp://host:port"), HasSubstr("host:port")));
  }
  absl::StatusOr<RedisAddress> bad_port =
      RedisAddress::Parse("cache.internal:99999");
  EXPECT_THAT(bad_port.status().message(), HasSubstr("cache.internal:99999"));
}

TEST(RedisAddressTest, RefusesAUnixAddressWithoutAUsablePath) {
  for (const std::string& text :
       {std::string("unix:"), "unix:/" + std::string(200, 'a')}) {
    absl::StatusOr<RedisAddress> address = RedisAddress::Parse(text);
    ASSERT_FALSE(address.ok()) << text;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(address.status().message(), HasSubstr("socket path"));
  }
}

// "redis://host:port" is the form most Redis tools print. It must not be
// taken as the host "redis://host".
TEST(RedisAddressTest, RefusesOtherUrlSchemesInsteadOfTakingThemAsHost) {
  for (absl::string_view text :
       {"redis://localhost:6379", "rediss://cache:6380", "http://x:80"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<RedisAddress> address = RedisAddress::Parse(text);
    EXPECT_FALSE(address.ok()) << "parsed as host \"" << address->host << "\"";
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// --- StatusFromErrorReply ---------------------------------------------------

TEST(StatusFromErrorReplyTest, ScriptCodesMapToTheirStatusWithTheRestAsText) {
  absl::Status aborted = StatusFromErrorReply("ABORTED version moved");
  EXPECT_EQ(aborted.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(aborted.message(), "version moved");
  absl::Status not_found = StatusFromErrorReply("NOT_FOUND referral x");
  EXPECT_EQ(not_found.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(not_found.message(), "referral x");
  absl::Status precondition = StatusFromErrorReply("FAILED_PRECONDITION no");
  EXPECT_EQ(precondition.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(precondition.message(), "no");
}

TEST(StatusFromErrorReplyTest, ABareCodeWithoutTextDoesNotCrash) {
  EXPECT_EQ(StatusFromErrorReply("ABORTED").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromErrorReply("NOT_FOUND").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusFromErrorReply("").code(), absl::StatusCode::kInternal);
}

TEST(StatusFromErrorReplyTest, ServerNotReadyRepliesAreUnavailable) {
  for (absl::string_view reply :
       {"LOADING Redis is loading the dataset in memory",
        "READONLY You can't write against a read only replica.",
        "MASTERDOWN Link with MASTER is down",
        "BUSY Redis is busy running a script.", "TRYAGAIN Multiple keys"}) {
    SCOPED_TRACE(reply);
    absl::Status status = StatusFromErrorReply(reply);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("redis: ", reply)));
  }
}

TEST(StatusFromErrorReplyTest, OutOfMemoryIsResourceExhausted) {
  absl::Status status = StatusFromErrorReply(
      "OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("redis: OOM"));
}

TEST(StatusFromErrorReplyTest, AnythingElseIsInternalWithRedisText) {
  for (absl::string_view reply :
       {"ERR value is not an integer or out of range",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "NOSCRIPT No matching script.", "BUSYKEY Target key name exists.",
        "ABORTEDX not a code", "aborted lower case"}) {
    SCOPED_TRACE(reply);
    absl::Status status = StatusFromErrorReply(reply);
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("redis: ", reply)));
  }
}

TEST(RedisErrorCodeTest, NamesRedisErrorsButNotTheScriptsRefusals) {
  EXPECT_EQ(RedisErrorCode("OOM command not allowed when used memory > "
                           "'maxmemory'."),
            "OOM");
  EXPECT_EQ(RedisErrorCode("MOVED 3999 127.0.0.1:6381"), "MOVED");
  EXPECT_EQ(RedisErrorCode("READONLY You can't write against a replica."),
            "READONLY");
  EXPECT_EQ(RedisErrorCode("ERR unknown command 'FOO'"), "ERR");
  EXPECT_EQ(RedisErrorCode("NOSCRIPT No matching script."), "NOSCRIPT");
  // Anything else is one label, not a label of its own.
  EXPECT_EQ(RedisErrorCode("WHATEVER a new error"), "other");
  EXPECT_EQ(RedisErrorCode(""), "other");
  // The scripts' checks answer these by design: outcomes, not errors.
  for (absl::string_view refusal :
       {"ABORTED referral x changed", "NOT_FOUND clock y",
        "ALREADY_EXISTS key z", "FAILED_PRECONDITION no place left"}) {
    EXPECT_EQ(RedisErrorCode(refusal), "") << refusal;
  }
}

// --- Against a real server --------------------------------------------------

class RedisPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(RedisServer::Options()); }

  void StartServer(RedisServer::Options options) {
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        RedisServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  RedisOptions Options() {
    // Generous: parallel tests on two cores can hold an fsync up; tests that
    // are about timeouts set their own.
    return server_->ClientOptions({.command_timeout = absl::Seconds(10)});
  }

  // How many clients the server has, counted by a command on `pool` (which
  // is one of them).
  static int ClientCount(RedisPool& pool) {
    absl::StatusOr<RedisValue> list = pool.Command({"CLIENT", "LIST"});
    EXPECT_TRUE(list.ok()) << list.status();
    if (!list.ok()) return -1;
    int count = 0;
    for (absl::string_view line : absl::StrSplit(list->str, '\n')) {
      if (!line.empty()) ++count;
    }
    return count;
  }

  std::unique_ptr<RedisServer> server_;
};

TEST(RedisScriptTest, Sha1IsWhatRedisAnswersToScriptLoad) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  for (const std::string& source :
       {std::string("return 1"), std::string(""),
        std::string("return redis.call('GET', KEYS[1]) -- Hälsosam åäö")}) {
    RedisScript script(source);
    EXPECT_EQ(script.source(), source);
    absl::StatusOr<std::string> loaded =
        (*server)->Execute({"SCRIPT", "LOAD", source});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(script.sha1(), *loaded) << source;
  }
}

TEST_F(RedisPoolTest, CommandReturnsStatusStringNilIntegerAndArrayReplies) {
  RedisPool pool(Options());
  absl::StatusOr<RedisValue> set = pool.Command({"SET", "greeting", "hej"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, Type::kStatus);
  EXPECT_EQ(set->str, "OK");

  absl::StatusOr<RedisValue> get = pool.Command({"GET", "greeting"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->type, Type::kString);
  EXPECT_EQ(get->str, "hej");

  absl::StatusOr<RedisValue> missing = pool.Command({"GET", "nothing-here"});
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_TRUE(missing->is_nil());

  absl::StatusOr<RedisValue> incr = pool.Command({"INCRBY", "n", "41"});
  ASSERT_TRUE(incr.ok()) << incr.status();
  EXPECT_EQ(incr->type, Type::kInteger);
  EXPECT_EQ(incr->integer, 41);

  ASSERT_TRUE(pool.Command({"RPUSH", "list", "a", "b", "c"}).ok());
  absl::StatusOr<RedisValue> range =
      pool.Command({"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_EQ(range->type, Type::kArray);
  ASSERT_EQ(range->elements.size(), 3u);
  EXPECT_EQ(range->elements[0].str, "a");
  EXPECT_EQ(range->elements[2].str, "c");
}

TEST_F(RedisPoolTest, ValuesAreBinarySafe) {
  RedisPool pool(Options());
  const std::string key("k\0ey", 4);
  const std::string value("\0\xff\r\n$3\r\n", 9);
  ASSERT_TRUE(pool.Command({"SET", key, value}).ok());
  absl::StatusOr<RedisValue> got = pool.Command({"GET", key});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->str, value);
}

TEST_F(RedisPoolTest, AnErrorReplyBecomesAStatusNotAValue) {
  RedisPool pool(Options());
  ASSERT_TRUE(pool.Command({"SET", "word", "elva"}).ok());
  absl::StatusOr<RedisValue> incr = pool.Command({"INCR", "word"});
  ASSERT_FALSE(incr.ok());
  EXPECT_EQ(incr.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(incr.status().message(), HasSubstr("redis:"));
  EXPECT_THAT(incr.status().message(), HasSubstr("not an integer"));
  // The connection is still good: an error reply is not a broken server.
  absl::StatusOr<RedisValue> get = pool.Command({"GET", "word"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str, "elva");
}

TEST_F(RedisPoolTest, PipelineRepliesInOrderAndKeepsAnErrorAsAValue) {
  RedisPool pool(Options());
  absl::StatusOr<std::vector<RedisValue>> replies = pool.Pipeline({
      {"SET", "a", "1"},
      {"SET", "word", "elva"},
      {"INCR", "word"},
      {"INCR", "a"},
      {"GET", "a"},
      {"GET", "missing"},
  });
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 6u);
  EXPECT_EQ((*replies)[0].str, "OK");
  EXPECT_EQ((*replies)[1].str, "OK");
  EXPECT_EQ((*replies)[2].type, Type::kError);
  EXPECT_THAT((*replies)[2].str, HasSubstr("not an integer"));
  EXPECT_EQ((*replies)[3].type, Type::kInteger);
  EXPECT_EQ((*replies)[3].integer, 2);
  EXPECT_EQ((*replies)[4].str, "2");
  EXPECT_TRUE((*replies)[5].is_nil());
}

TEST_F(RedisPoolTest, AnEmptyPipelineIsAnEmptyAnswer) {
  RedisPool pool(Options());
  absl::StatusOr<std::vector<RedisValue>> replies = pool.Pipeline({});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_TRUE(replies->empty());
}

TEST_F(RedisPoolTest, EvalRunsAScriptWithKeysAndArgs) {
  RedisPool pool(Options());
  RedisScript script(
      "redis.call('SET', KEYS[1], ARGV[1]) "
      "return {redis.call('GET', KEYS[1]), #KEYS, #ARGV}");
  absl::StatusOr<RedisValue> reply = pool.Eval(script, {"k"}, {"v", "w"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->type, Type::kArray);
  ASSERT_EQ(reply->elements.size(), 3u);
  EXPECT_EQ(reply->elements[0].str, "v");
  EXPECT_EQ(reply->elements[1].integer, 1);
  EXPECT_EQ(reply->elements[2].integer, 2);
}

TEST_F(RedisPoolTest, EvalStillWorksAfterTheScriptCacheIsFlushed) {
  RedisPool pool(Options());
  RedisScript script("return redis.call('INCR', KEYS[1])");
  absl::StatusOr<RedisValue> first = pool.Eval(script, {"count"}, {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->integer, 1);

  // What a restarted Redis looks like: it knows no scripts.
  ASSERT_TRUE(server_->Execute({"SCRIPT", "FLUSH"}).ok());
  absl::StatusOr<RedisValue> second = pool.Eval(script, {"count"}, {});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->integer, 2) << "the script must run exactly once";

  // And it is cached again for the next EVALSHA.
  absl::StatusOr<RedisValue> exists =
      pool.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok()) << exists.status();
  ASSERT_EQ(exists->elements.size(), 1u);
  EXPECT_EQ(exists->elements[0].integer, 1);
}

TEST_F(RedisPoolTest, EvalPipelineRunsEachCallOnceInOrder) {
  RedisPool pool(Options());
  RedisScript script(
      "if ARGV[1] == 'fail' then return redis.error_reply('ABORTED no') end "
      "return redis.call('RPUSH', KEYS[1], ARGV[1])");
  const std::vector<RedisPool::ScriptCall> calls = {
      {{"list"}, {"a"}}, {{"list"}, {"fail"}}, {{"list"}, {"b"}}};
  // The first time Redis does not know the script (NOSCRIPT for every
  // call, none run); then it does.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    absl::StatusOr<std::vector<RedisValue>> replies =
        pool.EvalPipeline(script, calls);
    ASSERT_TRUE(replies.ok()) << replies.status();
    ASSERT_EQ(replies->size(), 3u);
    EXPECT_EQ((*replies)[0].integer, 2 * round + 1);
    EXPECT_EQ((*replies)[1].type, Type::kError);
    EXPECT_EQ((*replies)[1].str, "ABORTED no");
    EXPECT_EQ((*replies)[2].integer, 2 * round + 2);
  }
  absl::StatusOr<RedisValue> list = pool.Command({"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> items;
  for (const RedisValue& item : list->elements) items.push_back(item.str);
  EXPECT_THAT(items, ::testing::ElementsAre("a", "b", "a", "b"));
}

TEST_F(RedisPoolTest, AnEmptyEvalPipelineIsAnEmptyAnswer) {
  RedisPool pool(Options());
  absl::StatusOr<std::vector<RedisValue>> replies =
      pool.EvalPipeline(RedisScript("return 1"), {});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_TRUE(replies->empty());
}

TEST_F(RedisPoolTest, ScriptErrorRepliesMapToTheirCodes) {
  RedisPool pool(Options());
  absl::StatusOr<RedisValue> aborted = pool.Eval(
      RedisScript("return redis.error_reply('ABORTED version moved')"), {}, {});
  EXPECT_EQ(aborted.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(aborted.status().message(), "version moved");

  absl::StatusOr<RedisValue> not_found = pool.Eval(
      RedisScript("return redis.error_reply('NOT_FOUND no such thing')"), {},
      {});
  EXPECT_EQ(not_found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(not_found.status().message(), "no such thing");

  // Redis 7 prefixes "ERR " to an error without a space, so a bare code
  // arrives as "ERR ABORTED": scripts must give a text after the code.
  absl::StatusOr<RedisValue> bare =
      pool.Eval(RedisScript("return redis.error_reply('ABORTED')"), {}, {});
  EXPECT_EQ(bare.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bare.status().message(), HasSubstr("ABORTED"));

  absl::StatusOr<RedisValue> runtime =
      pool.Eval(RedisScript("return redis.call('NOSUCHCOMMAND')"), {}, {});
  EXPECT_EQ(runtime.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(runtime.status().message(), HasSubstr("redis:"));
}

// A script made of two files, as the build assembles one with an include:
// lines 1-2 from a helper's file, 3-5 the script's own from its line 4.
RedisScript TwoFileScript(absl::string_view line_5) {
  return RedisScript(
      absl::StrCat("local function helper(t)\n", "  return t.missing.field\n",
                   "end\n", "local x = 1\n", line_5, "\n"),
      LuaLineMap(
          {{1, "lua/includes/helper.lua", 1}, {3, "lua/script.lua", 4}}));
}

TEST_F(RedisPoolTest, AScriptErrorNamesTheFileLineItsLineMapGives) {
  RedisPool pool(Options());
  // Redis reports the error at line 2 of what it ran (user_script:2).
  absl::StatusOr<RedisValue> in_helper =
      pool.Eval(TwoFileScript("return helper({})"), {}, {});
  EXPECT_EQ(in_helper.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(in_helper.status().message(),
              AllOf(HasSubstr("lua/includes/helper.lua:2:"),
                    Not(HasSubstr("user_script"))));
  // And at line 5, which is the script's own line 6.
  absl::StatusOr<RedisValue> own =
      pool.Eval(TwoFileScript("return redis.call('NOSUCHCOMMAND')"), {}, {});
  EXPECT_EQ(own.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(own.status().message(), AllOf(HasSubstr("@lua/script.lua:6"),
                                            Not(HasSubstr("user_script"))));
}

TEST_F(RedisPoolTest, AScriptErrorInAPipelineNamesTheFileLineToo) {
  RedisPool pool(Options());
  const RedisScript script =
      TwoFileScript("if ARGV[1] == 'fail' then return helper({}) end return 1");
  // Unknown to Redis the first time (sent again with EVAL), then known.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    absl::StatusOr<std::vector<RedisValue>> replies =
        pool.EvalPipeline(script, {{{}, {"ok"}}, {{}, {"fail"}}});
    ASSERT_TRUE(replies.ok()) << replies.status();
    ASSERT_EQ(replies->size(), 2u);
    EXPECT_EQ((*replies)[0].integer, 1);
    EXPECT_EQ((*replies)[1].type, Type::kError);
    EXPECT_THAT((*replies)[1].str,
                AllOf(HasSubstr("lua/includes/helper.lua:2:"),
                      Not(HasSubstr("user_script"))));
  }
}

TEST_F(RedisPoolTest, AScriptWithoutALineMapReportsRedisLines) {
  RedisPool pool(Options());
  absl::StatusOr<RedisValue> reply =
      pool.Eval(RedisScript("local x = 1\nreturn x.y"), {}, {});
  EXPECT_THAT(reply.status().message(), HasSubstr("user_script:2:"));
}

TEST_F(RedisPoolTest, AReadOnlyReplicaRefusingWritesIsUnavailable) {
  RedisPool pool(Options());
  // A replica of a master that is not there: reads work, writes are refused.
  ASSERT_TRUE(pool.Command({"REPLICAOF", "127.0.0.1", "1"}).ok());
  absl::StatusOr<RedisValue> write = pool.Command({"SET", "k", "v"});
  EXPECT_EQ(write.status().code(), absl::StatusCode::kUnavailable)
      << write.status();
  EXPECT_THAT(write.status().message(), HasSubstr("READONLY"));
}

TEST_F(RedisPoolTest, OutOfMemoryIsResourceExhausted) {
  RedisServer::Options options;
  options.extra_args = {"--maxmemory", "2mb"};
  StartServer(std::move(options));
  RedisPool pool(Options());
  const std::string big(512 * 1024, 'x');
  absl::Status last;
  for (int i = 0; i < 64 && last.ok(); ++i) {
    last = pool.Command({"SET", absl::StrCat("big:", i), big}).status();
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_THAT(last.message(), HasSubstr("OOM"));
}

// --- Failure ----------------------------------------------------------------

TEST_F(RedisPoolTest, KilledServerIsUnavailableAndThePoolRecoversAfterRestart) {
  RedisPool pool(Options());
  ASSERT_TRUE(pool.Command({"SET", "k", "before"}).ok());

  ASSERT_TRUE(server_->Kill().ok());
  // The first call finds its idle connection broken, the next cannot
  // connect: both fail fast as UNAVAILABLE naming the server.
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RedisValue> reply = pool.Command({"GET", "k"});
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable)
        << reply.status();
    EXPECT_THAT(reply.status().message(), HasSubstr(server_->socket_path()));
  }
  absl::StatusOr<std::vector<RedisValue>> pipeline =
      pool.Pipeline({{"GET", "k"}, {"GET", "k"}});
  EXPECT_EQ(pipeline.status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<RedisValue> eval = pool.Eval(RedisScript("return 1"), {}, {});
  EXPECT_EQ(eval.status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(server_->Restart().ok());
  // The failures dropped every idle connection, so the very first call
  // after the restart connects afresh and succeeds: same pool, no retry.
  absl::StatusOr<RedisValue> after = pool.Command({"GET", "k"});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->str, "before") << "AOF with appendfsync always";
}

// What the metrics are told: each round trip with the server asked and
// whether it was answered, each error reply of Redis's own, each
// connection opened.
TEST_F(RedisPoolTest, RoundTripsErrorsAndConnectionsAreToldWithTheServer) {
  absl::Mutex mu;
  std::vector<std::pair<std::string, bool>> trips;
  std::vector<std::pair<std::string, std::string>> errors;
  std::vector<std::string> opened;
  RedisOptions options = Options();
  options.on_round_trip = [&](const std::string& node, bool answered) {
    absl::MutexLock lock(&mu);
    trips.emplace_back(node, answered);
  };
  options.on_error_reply = [&](const std::string& node,
                               absl::string_view error) {
    absl::MutexLock lock(&mu);
    errors.emplace_back(node, std::string(error));
  };
  options.on_connection_opened = [&](const std::string& node) {
    absl::MutexLock lock(&mu);
    opened.push_back(node);
  };
  const std::string node = server_->address();  // "unix:/..."
  RedisPool pool(options);
  ASSERT_TRUE(pool.Command({"SET", "k", "v"}).ok());
  // An error reply is answered (and told), a script's refusal is not an
  // error.
  EXPECT_FALSE(pool.Command({"NOSUCHCOMMAND"}).ok());
  EXPECT_FALSE(
      pool.Eval(RedisScript("return redis.error_reply('ABORTED it changed')"),
                {}, {})
          .ok());
  ASSERT_TRUE(server_->Kill().ok());
  EXPECT_FALSE(pool.Command({"GET", "k"}).ok());
  absl::MutexLock lock(&mu);
  EXPECT_THAT(opened, ::testing::ElementsAre(node));
  ASSERT_GE(trips.size(), 4u);
  EXPECT_EQ(trips.front(), std::pair(node, true));
  EXPECT_EQ(trips.back(), std::pair(node, false));
  // The unknown command's ERR, and the script's first EVALSHA's
  // NOSCRIPT; not its ABORTED.
  EXPECT_THAT(errors,
              ::testing::ElementsAre(std::pair(node, std::string("ERR")),
                                     std::pair(node, std::string("NOSCRIPT"))));
}

TEST_F(RedisPoolTest, AfterARestartAtMostOneCallFailsEvenWithManyIdle) {
  RedisOptions options = Options();
  options.max_connections = 4;
  RedisPool pool(options);
  // Four calls at once leave four idle connections to the old server.
  {
    std::latch start(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&pool, &start, i] {
        start.arrive_and_wait();
        EXPECT_TRUE(
            pool.Command({"BLPOP", absl::StrCat("empty:", i), "0.5"}).ok());
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  ASSERT_EQ(ClientCount(pool), 4);

  ASSERT_TRUE(server_->Kill().ok());
  ASSERT_TRUE(server_->Restart().ok());
  // The first call may meet a connection to the dead server; it then drops
  // all the idle ones, so no second call fails.
  int failures = 0;
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<RedisValue> reply = pool.Command({"PING"});
    if (!reply.ok()) {
      ++failures;
      EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable)
          << reply.status();
      EXPECT_EQ(i, 0) << "only the first call after the restart may fail";
    }
  }
  EXPECT_LE(failures, 1);
}

TEST_F(RedisPoolTest, AStalledServerTimesOutAsUnavailable) {
  RedisOptions options = Options();
  options.command_timeout = absl::Milliseconds(300);
  RedisPool pool(options);
  ASSERT_TRUE(pool.Command({"SET", "k", "v"}).ok());

  ASSERT_EQ(kill(server_->pid(), SIGSTOP), 0);
  absl::StatusOr<RedisValue> stalled = pool.Command({"GET", "k"});
  ASSERT_EQ(kill(server_->pid(), SIGCONT), 0);
  EXPECT_EQ(stalled.status().code(), absl::StatusCode::kUnavailable)
      << stalled.status();

  absl::StatusOr<RedisValue> again = pool.Command({"GET", "k"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->str, "v");
}

// --- Waiting for a replica ----------------------------------------------

// A primary on a loopback TCP port (a replica connects by host and port),
// and a replica of it.
class RedisReplicaWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    RedisServer::Options primary;
    // A replica's full sync at once, not after Redis's 5 s wait for more.
    primary.extra_args = {"--repl-diskless-sync-delay", "0"};
    absl::StatusOr<std::unique_ptr<RedisServer>> started =
        ::slussen::testing::StartOnFreeLoopbackPort(primary, &port);
    ASSERT_TRUE(started.ok()) << started.status();
    primary_ = *std::move(started);
    RedisServer::Options replica;
    replica.extra_args = {"--replicaof", "127.0.0.1", absl::StrCat(port)};
    started = RedisServer::Start(replica);
    ASSERT_TRUE(started.ok()) << started.status();
    replica_ = *std::move(started);
    for (int i = 0; i < 200; ++i) {
      if (absl::StrContains(
              replica_->Execute({"INFO", "replication"}).value_or(""),
              "master_link_status:up")) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    RedisOptions options;
    options.address = *RedisAddress::Parse(primary_->address());
    options.wait_replicas = 1;
    // Generous: parallel tests on two cores can hold the replica up (the
    // unconfirmed write below waits this long once).
    options.replica_timeout = absl::Seconds(2);
    options.command_timeout = absl::Seconds(10);
    pool_ = std::make_unique<RedisPool>(options);
  }

  std::unique_ptr<RedisServer> primary_;
  std::unique_ptr<RedisServer> replica_;
  std::unique_ptr<RedisPool> pool_;
};

TEST_F(RedisReplicaWaitTest, AWriteIsDoneOnlyOnceTheReplicaHasIt) {
  ASSERT_TRUE(pool_->Command({"SET", "k", "1"}).ok());
  // Acknowledged: the replica has it already, with no waiting on our part.
  EXPECT_EQ(replica_->Execute({"GET", "k"}).value_or(""), "1");
  static const RedisScript kSet("return redis.call('SET', KEYS[1], ARGV[1])");
  ASSERT_TRUE(pool_->Eval(kSet, {"s"}, {"2"}).ok());
  EXPECT_EQ(replica_->Execute({"GET", "s"}).value_or(""), "2");

  // Without the replica a write is not confirmed: UNAVAILABLE, saying why;
  // reads still answer.
  ASSERT_TRUE(replica_->Kill().ok());
  const absl::StatusOr<RedisValue> unconfirmed =
      pool_->Command({"SET", "k", "3"});
  EXPECT_EQ(unconfirmed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(unconfirmed.status().message(),
              HasSubstr("0 of 1 replicas confirmed the write"));
  const absl::StatusOr<RedisValue> read = pool_->Command({"GET", "s"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->str, "2");

  // Back: writes are confirmed again.
  ASSERT_TRUE(replica_->Restart().ok());
  bool confirmed = false;
  for (int i = 0; i < 100 && !confirmed; ++i) {
    confirmed = pool_->Command({"SET", "k", "4"}).ok();
    if (!confirmed) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(confirmed);
}

TEST(RedisMayWriteTest, KnowsTheStoresWritesFromItsReads) {
  EXPECT_TRUE(RedisMayWrite({"evalsha", "x", "0"}));
  EXPECT_TRUE(RedisMayWrite({"SET", "k", "v"}));
  EXPECT_TRUE(RedisMayWrite({"XADD", "s", "*", "f", "v"}));
  EXPECT_FALSE(RedisMayWrite({"GET", "k"}));
  EXPECT_FALSE(RedisMayWrite({"HMGET", "k", "a"}));
  EXPECT_FALSE(RedisMayWrite({"ZRANGE", "z", "0", "1"}));
  EXPECT_FALSE(RedisMayWrite({}));
}

TEST(RedisPoolNoServerTest, AServerThatIsNotThereIsUnavailableNamingIt) {
  const std::string path = "/tmp/slussen-no-such-dir-7f3a/redis.sock";
  RedisOptions options;
  options.address.unix_path = path;
  RedisPool pool(options);
  absl::StatusOr<RedisValue> reply = pool.Command({"PING"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr("unix:" + path));
}

TEST(RedisPoolNoServerTest, ANothingListeningTcpPortIsUnavailableNamingIt) {
  absl::StatusOr<RedisAddress> address = RedisAddress::Parse("127.0.0.1:1");
  ASSERT_TRUE(address.ok()) << address.status();
  RedisOptions options;
  options.address = *address;
  RedisPool pool(options);
  absl::StatusOr<RedisValue> reply = pool.Command({"PING"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr("tcp://127.0.0.1:1"));
}

// --- Concurrency ------------------------------------------------------------

TEST_F(RedisPoolTest, ManyThreadsShareFewConnectionsWithoutLosingWrites) {
  RedisOptions options = Options();
  options.max_connections = 4;
  RedisPool pool(options);
  constexpr int kThreads = 8;
  constexpr int kIncrements = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&pool] {
      for (int i = 0; i < kIncrements; ++i) {
        absl::StatusOr<RedisValue> reply = pool.Command({"INCR", "total"});
        ASSERT_TRUE(reply.ok()) << reply.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  absl::StatusOr<RedisValue> total = pool.Command({"GET", "total"});
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_EQ(total->str, absl::StrCat(kThreads * kIncrements));
  EXPECT_LE(ClientCount(pool), 4) << "max_connections must bound the pool";
}

// --- AUTH -------------------------------------------------------------------

// A server that requires a password. It is set after the start, because
// RedisServer's readiness check (an unauthenticated PING) never passes on a
// server started with --requirepass.
class RedisPoolAuthTest : public RedisPoolTest {
 protected:
  void SetUp() override {
    RedisPoolTest::SetUp();
    ASSERT_TRUE(
        server_->Execute({"CONFIG", "SET", "requirepass", "s3cret"}).ok());
  }
};

TEST_F(RedisPoolAuthTest, TheRightPasswordWorks) {
  RedisOptions options = Options();
  options.password = "s3cret";
  RedisPool pool(options);
  ASSERT_TRUE(pool.Command({"SET", "k", "v"}).ok());
  absl::StatusOr<RedisValue> get = pool.Command({"GET", "k"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str, "v");
}

TEST_F(RedisPoolAuthTest, AWrongPasswordIsPermissionDenied) {
  RedisOptions options = Options();
  options.password = "guess";
  RedisPool pool(options);
  absl::StatusOr<RedisValue> reply = pool.Command({"PING"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied)
      << reply.status();
  EXPECT_THAT(reply.status().message(), HasSubstr(server_->socket_path()));
  EXPECT_THAT(reply.status().message(), Not(HasSubstr("guess")))
      << "a password must not be logged";
}

}  // namespace
}  // namespace slussen::store
