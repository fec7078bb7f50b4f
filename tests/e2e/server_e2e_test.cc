// The broker as a server, over real gRPC: reflection lists the services, a
// graceful shutdown lets in-flight calls finish and refuses new ones.
// (Health following Redis is in tests/fault/redis_restart_fault_test.cc.)
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <set>
#include <string>
#include <thread>

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

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start();
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  std::unique_ptr<BrokerHarness> harness_;
};

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

}  // namespace
}  // namespace slussen::testing
