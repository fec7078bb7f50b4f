// The broker as a server, over real gRPC: reflection lists the services, a
// graceful shutdown lets in-flight calls finish and refuses new ones.
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
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/reflection_client.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

using ServerE2eTest = BrokerTest;

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

}  // namespace
}  // namespace slussen::testing
