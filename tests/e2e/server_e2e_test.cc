// The broker as a server, over real gRPC: reflection lists the services, a
// graceful shutdown lets in-flight calls finish and refuses new ones, calls
// gRPC refuses before any handler runs are counted and logged, and the
// admin port serves channelz, which the main port does not.
// (Health following Redis is in tests/fault/redis_restart_fault_test.cc.)
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/raw_call.h"
#include "tests/support/reflection_client.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

using ServerE2eTest = BrokerTest;
using ::testing::HasSubstr;

// The lines of `log` that are `msg`'s.
std::vector<std::string> LogLines(const std::string& log,
                                  absl::string_view msg) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, absl::StrCat("\"msg\":\"", msg, "\""))) {
      lines.emplace_back(line);
    }
  }
  return lines;
}

// A request body that is no protobuf message: a varint that never ends.
const std::string kGarbage("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10);

// gRPC answers a body it cannot parse as the method's request (INTERNAL,
// without a message) before the handler runs, which so neither counts it
// nor logs it: the interceptor does, as refused, and answers it with the
// caller's request id. Calls the handlers answer are not counted there.
TEST_F(ServerE2eTest, ABodyGrpcCannotParseIsCountedAndLoggedAsRefused) {
  ::testing::internal::CaptureStderr();
  const RawAnswer refused = RawUnaryCall(
      harness_->channel(), "/slussen.v1.ReferralService/GetReferral", kGarbage,
      {{"x-request-id", "garbage-1"},
       {"traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INTERNAL)
      << refused.status.error_message();
  const auto id = refused.initial_metadata.find("x-request-id");
  ASSERT_NE(id, refused.initial_metadata.end());
  EXPECT_EQ(id->second, "garbage-1");
  EXPECT_EQ(harness_->Metric("slussen_rpc_refused_before_handler_total{"
                             "code=\"INTERNAL\",method=\"GetReferral\"}"),
            1);
  EXPECT_EQ(harness_->Metric(
                "slussen_rpc_total{code=\"INTERNAL\",method=\"GetReferral\"}"),
            std::nullopt);
  const std::vector<std::string> lines = LogLines(log, "rpc refused");
  ASSERT_EQ(lines.size(), 1u) << log;
  EXPECT_THAT(lines[0], HasSubstr("\"method\":\"GetReferral\""));
  EXPECT_THAT(lines[0], HasSubstr("\"request_id\":\"garbage-1\""));
  EXPECT_THAT(lines[0],
              HasSubstr("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""));
  EXPECT_THAT(lines[0], HasSubstr("\"code\":\"INTERNAL\""));
  EXPECT_THAT(lines[0], HasSubstr("slussen.v1.GetReferralRequest"));
  EXPECT_THAT(lines[0], HasSubstr("\"level\":\"warning\""));

  // A call its handler answers is the handler's to count and log.
  ::testing::internal::CaptureStderr();
  v1::Referral referral;
  const grpc::Status answered = harness_->Client(kHalmstadKommun)
                                    .Get(
                                        "regions/13/referrals/01J00000000000"
                                        "000000000000",
                                        &referral);
  const std::string handled = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(answered.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(LogLines(handled, "rpc refused"), ::testing::IsEmpty());
  const std::vector<std::string> handled_lines = LogLines(handled, "rpc");
  ASSERT_EQ(handled_lines.size(), 1u) << handled;
  // Its one read, the referral's HMGET, counted on the call's thread.
  EXPECT_THAT(handled_lines[0], HasSubstr("\"redis\":1,"));
  EXPECT_EQ(harness_->Metric(
                "slussen_rpc_total{code=\"NOT_FOUND\",method=\"GetReferral\"}"),
            1);
  EXPECT_EQ(harness_->Metric("slussen_rpc_refused_before_handler_total{"
                             "code=\"INTERNAL\",method=\"GetReferral\"}"),
            1);
}

// A method the broker does not serve is refused under "unknown" (a path a
// caller makes up makes no series of its own); gRPC's own services are
// theirs, not counted.
TEST_F(ServerE2eTest, AMethodNotServedIsCountedAsUnknown) {
  const RawAnswer refused = RawUnaryCall(
      harness_->channel(), "/slussen.v1.ReferralService/MadeUp", "");
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(harness_->Metric("slussen_rpc_refused_before_handler_total{"
                             "code=\"UNIMPLEMENTED\",method=\"unknown\"}"),
            1);
  RawUnaryCall(harness_->channel(), "/grpc.health.v1.Health/Check", kGarbage);
  RawUnaryCall(harness_->channel(), "/grpc.channelz.v1.Channelz/GetServers",
               "");
  const std::string text = harness_->broker().metrics().Text();
  std::vector<std::string> refusals;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "slussen_rpc_refused_before_handler_total{")) {
      refusals.emplace_back(line);
    }
  }
  EXPECT_THAT(
      refusals,
      ::testing::ElementsAre(
          "slussen_rpc_refused_before_handler_total{code=\"UNIMPLEMENTED\","
          "method=\"unknown\"} 1"));
}

TEST_F(ServerE2eTest, ReflectionListsTheServices) {
  const absl::StatusOr<std::set<std::string>> services =
      ReflectedServices(harness_->channel());
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_TRUE(services->count("slussen.v1.ReferralService"));
  EXPECT_TRUE(services->count("grpc.health.v1.Health"));
}

TEST_F(ServerE2eTest, ShutdownLetsInFlightCallsFinishAndRefusesNewOnes) {
  if (harness_->redis_options().cluster) {
    GTEST_SKIP() << "needs one redis-server (SLUSSEN_TEST_REDIS_CLUSTER)";
  }
  ReferralClient client = harness_->Client(kHalmstadKommun);
  // Hold Redis, so that a create is in flight in the broker when the
  // shutdown starts.
  ASSERT_EQ(kill(harness_->redis().pid(), SIGSTOP), 0);
  grpc::Status in_flight;
  v1::Referral made;
  std::thread caller(
      [&] { in_flight = client.Create(SampleImpulse(), &made); });
  // Time for the call to reach the broker (it then waits on Redis); generous
  // for a loaded machine.
  absl::SleepFor(absl::Seconds(1));

  absl::Notification shut_down;
  std::thread stopper([&] {
    harness_->broker().Shutdown(absl::Seconds(20));
    shut_down.Notify();
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(shut_down.HasBeenNotified())
      << "the shutdown did not wait for the call in flight";
  ASSERT_EQ(kill(harness_->redis().pid(), SIGCONT), 0);
  caller.join();
  stopper.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_FALSE(made.name().empty());

  v1::Referral refused;
  const grpc::Status after = harness_->Client(kHalmstadKommun, absl::Seconds(2))
                                 .Create(SampleImpulse(), &refused);
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAVAILABLE);
  // What was acknowledged is in Redis.
  absl::StatusOr<std::string> kind = harness_->redis().Execute(
      {"HGET",
       "slussen:{r13}:referral:" +
           made.name().substr(made.name().rfind('/') + 1),
       "kind"});
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, std::to_string(v1::REFERRAL_KIND_IMPULSE));
}

// A client retries UNAVAILABLE, not CANCELLED: a call that reaches a
// broker shutting down is answered UNAVAILABLE (it drains first: health
// NOT_SERVING, new calls refused at once, those in flight finished), and
// no call is cut off as CANCELLED when it stops. The callers do what a
// client does with UNAVAILABLE: go elsewhere (here: stop calling this
// broker). Before the drain, calls in flight when the server stopped were
// cut off as CANCELLED.
TEST_F(ServerE2eTest, CallsDuringAShutdownAreUnavailableNeverCancelled) {
  // Callers as fast as they can: no rate limit to stop them first.
  BrokerHarness::Options options;
  options.broker.rate_limit.per_second = 0;
  absl::StatusOr<std::unique_ptr<BrokerHarness>> started =
      BrokerHarness::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  harness_ = *std::move(started);
  ReferralClient maker = harness_->Client(kHalmstadKommun);
  v1::Referral made;
  ASSERT_TRUE(maker.Create(SampleImpulse(), &made).ok());
  absl::Mutex mu;
  std::map<grpc::StatusCode, int> codes;
  int said_shutting_down = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      ReferralClient client =
          harness_->Client(kHalmstadKommun, absl::Seconds(5));
      while (!stop.load()) {
        v1::Referral read;
        const grpc::Status status = client.Get(made.name(), &read);
        absl::MutexLock lock(&mu);
        ++codes[status.error_code()];
        if (absl::StrContains(status.error_message(), "shutting down")) {
          ++said_shutting_down;
        }
        if (!status.ok()) break;  // to another replica
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  harness_->broker().Shutdown(absl::Seconds(2));
  absl::SleepFor(absl::Milliseconds(200));
  stop = true;
  for (std::thread& caller : callers) caller.join();
  absl::MutexLock lock(&mu);
  EXPECT_GT(codes[grpc::StatusCode::OK], 0);
  EXPECT_EQ(codes[grpc::StatusCode::CANCELLED], 0);
  EXPECT_GT(said_shutting_down, 0) << "no call was answered while draining";
  for (const auto& [code, count] : codes) {
    EXPECT_TRUE(count == 0 || code == grpc::StatusCode::OK ||
                code == grpc::StatusCode::UNAVAILABLE)
        << "code " << code << " x" << count;
  }
}

// The servers, as channelz's GetServersResponse lists them: each its
// listen sockets (Server.listen_socket = 3); nullopt if it does not parse.
std::optional<std::vector<int>> ListenSocketsOfEachServer(
    const std::string& bytes) {
  google::protobuf::UnknownFieldSet response;
  if (!response.ParseFromString(bytes)) return std::nullopt;
  std::vector<int> servers;
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 1) continue;  // server = 1
    google::protobuf::UnknownFieldSet server;
    if (!server.ParseFromString(response.field(i).length_delimited())) {
      return std::nullopt;
    }
    int sockets = 0;
    for (int j = 0; j < server.field_count(); ++j) {
      if (server.field(j).number() == 3) ++sockets;
    }
    servers.push_back(sockets);
  }
  return servers;
}

class AdminPortE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    options.admin_port = true;
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  std::unique_ptr<BrokerHarness> harness_;
};

// gRPC's channelz (grpc.channelz.v1.Channelz) answers on the admin port,
// listing the broker's servers (the main port's and its own), and is not
// served on the main port, whose callers may not see who else is
// connected. (An empty GetServersRequest is an empty message.)
TEST_F(AdminPortE2eTest, ChannelzIsServedOnTheAdminPortOnly) {
  const RawAnswer admin =
      RawUnaryCall(grpc::CreateChannel(harness_->admin_target(),
                                       grpc::InsecureChannelCredentials()),
                   "/grpc.channelz.v1.Channelz/GetServers", "");
  ASSERT_TRUE(admin.status.ok()) << admin.status.error_message();
  const std::optional<std::vector<int>> servers =
      ListenSocketsOfEachServer(admin.body);
  ASSERT_TRUE(servers.has_value()) << "GetServersResponse does not parse";
  EXPECT_THAT(*servers, ::testing::Contains(1).Times(::testing::Ge(2)));

  const RawAnswer main = RawUnaryCall(
      harness_->channel(), "/grpc.channelz.v1.Channelz/GetServers", "");
  EXPECT_EQ(main.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace slussen::testing
