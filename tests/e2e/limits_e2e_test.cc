// The broker's limits over real gRPC: a request over the configured size
// and a caller over its rate limit are RESOURCE_EXHAUSTED and change nothing
// in Redis, while other callers go on; options out of range stop the broker
// from starting.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/service/broker_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

// A broker with `options`, its Redis able to digest its whole content.
std::unique_ptr<BrokerHarness> StartBroker(BrokerHarness::Options options) {
  options.redis.extra_args = {"--enable-debug-command", "local"};
  options.sample_directory = false;
  absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
      BrokerHarness::Start(std::move(options));
  EXPECT_TRUE(harness.ok()) << harness.status();
  return harness.ok() ? *std::move(harness) : nullptr;
}

// A digest of every key and value in Redis, so that any write shows.
std::string Digest(BrokerHarness& harness) {
  absl::StatusOr<std::string> digest = harness.DataDigest();
  EXPECT_TRUE(digest.ok()) << digest.status();
  return digest.value_or("unavailable");
}

// The digest once the broker's own background work is done: no matching
// pass holds region 13's lease (a pass the sweep starts after an arrival
// writes its lease, legitimately) and two digests agree across more than a
// deadline tick (its first tick marks how far each region has fired).
// Then a difference is a write of the call under test.
std::string QuietDigest(BrokerHarness& harness) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const absl::StatusOr<std::string> leased =
        harness.redis().Execute({"EXISTS", "slussen:{r13}:matching:lock"});
    if (leased.ok() && *leased == "0") {
      const std::string first = Digest(harness);
      absl::SleepFor(absl::Milliseconds(700));
      const absl::StatusOr<std::string> still =
          harness.redis().Execute({"EXISTS", "slussen:{r13}:matching:lock"});
      if (still.ok() && *still == "0" && Digest(harness) == first) {
        return first;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ADD_FAILURE() << "Redis never stood still";
  return "unstable";
}

TEST(LimitsE2eTest, ARequestOverTheConfiguredSizeIsRefusedAndWritesNothing) {
  BrokerHarness::Options options;
  options.broker.max_receive_message_bytes = 16 << 10;
  std::unique_ptr<BrokerHarness> harness = StartBroker(options);
  ASSERT_NE(harness, nullptr);
  const ReferralClient halmstad = harness->Client(kHalmstadKommun);
  v1::Referral made;
  ASSERT_TRUE(halmstad.Create(SampleImpulse(), &made).ok());
  const std::string before = QuietDigest(*harness);

  v1::CreateReferralRequest large = SampleImpulse();
  large.mutable_referral()->mutable_impulse()->mutable_call_back()->set_unit(
      std::string(20 << 10, 'x'));
  ASSERT_GT(large.ByteSizeLong(), 16u << 10);
  const grpc::Status status = halmstad.Create(large, &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_EQ(QuietDigest(*harness), before);

  // Under the limit the same caller goes on.
  EXPECT_TRUE(halmstad.Create(SampleImpulse(), &made).ok());
}

TEST(LimitsE2eTest, OneOrganisationOverItsRateIsRefusedWhileAnotherGoesOn) {
  BrokerHarness::Options options;
  // Three calls, then (practically) none: the test needs no timing.
  options.broker.rate_limit = {.per_second = 0.001, .burst = 3};
  std::unique_ptr<BrokerHarness> harness = StartBroker(options);
  ASSERT_NE(harness, nullptr);
  const ReferralClient halmstad = harness->Client(kHalmstadKommun);
  const ReferralClient laholm = harness->Client(kLaholmKommun);
  v1::ListReferralsRequest list;
  list.set_parent("regions/13");
  v1::ListReferralsResponse listed;
  v1::Referral made;
  ASSERT_TRUE(halmstad.Create(SampleImpulse(), &made).ok());
  ASSERT_TRUE(halmstad.List(list, &listed).ok());
  ASSERT_TRUE(halmstad.List(list, &listed).ok());
  const std::string before = QuietDigest(*harness);

  const grpc::Status refused = halmstad.Create(SampleImpulse(), &made);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("organisation kommun-halmstad-eb is over its rate "
                        "limit of 0.001 calls a second (bursts of 3)"));
  EXPECT_THAT(refused.error_message(), HasSubstr("; retry in "));
  EXPECT_EQ(halmstad.List(list, &listed).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(QuietDigest(*harness), before);

  // Another organisation has its own bucket.
  EXPECT_TRUE(laholm.Create(SampleImpulse(), &made).ok());
  EXPECT_TRUE(laholm.List(list, &listed).ok());
}

TEST(LimitsE2eTest, ARateOfZeroLimitsNothing) {
  BrokerHarness::Options options;
  options.broker.rate_limit = {.per_second = 0, .burst = 0};
  std::unique_ptr<BrokerHarness> harness = StartBroker(options);
  ASSERT_NE(harness, nullptr);
  const ReferralClient halmstad = harness->Client(kHalmstadKommun);
  v1::ListReferralsRequest list;
  list.set_parent("regions/13");
  v1::ListReferralsResponse listed;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(halmstad.List(list, &listed).ok()) << i;
  }
}

// Options out of range are refused before anything listens.
absl::Status StartWith(const service::BrokerOptions& options) {
  return service::BrokerServer::Start(
             options, *core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey))
      .status();
}

TEST(LimitsE2eTest, OptionsOutOfRangeStopTheStart) {
  service::BrokerOptions options;
  options.listen = "127.0.0.1:0";
  options.max_receive_message_bytes = -1;  // gRPC would read: no limit
  absl::Status status = StartWith(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("max_receive_message_bytes"));

  options.max_receive_message_bytes = 1 << 20;
  options.rate_limit = {.per_second = 10, .burst = 0};
  status = StartWith(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("burst"));
}

}  // namespace
}  // namespace slussen::testing
