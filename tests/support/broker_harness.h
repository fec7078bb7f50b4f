// The broker, in-process, on a loopback port, over a private redis-server:
// what end-to-end and fault tests talk to through the generated gRPC client.
//
//   absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
//       BrokerHarness::Start();
//   ReferralClient halmstad = (*harness)->Client(kHalmstadKommun);
//   grpc::Status status = halmstad.Create(request, &referral);
//
// Not thread-safe itself; the stubs it makes are.
#ifndef SLUSSEN_TESTS_SUPPORT_BROKER_HARNESS_H_
#define SLUSSEN_TESTS_SUPPORT_BROKER_HARNESS_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/service/broker_server.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/redis_server.h"
#include "tests/support/referral_client.h"

namespace slussen::testing {

// Creates, as an admin, what the sample referrals name (see
// BrokerHarness::Options::sample_directory).
absl::Status LoadSampleDirectory(const std::shared_ptr<grpc::Channel>& channel);

class BrokerHarness {
 public:
  struct Options {
    Options();
    // Listen address and Redis address are set by Start().
    service::BrokerOptions broker;
    RedisServer::Options redis;
    // Loads what the sample referrals name (activity types, the framework
    // agreement, the team and the supplier), without offerings: referrals
    // are accepted and wait, as no capacity is published.
    bool sample_directory = true;
  };

  static absl::StatusOr<std::unique_ptr<BrokerHarness>> Start();
  static absl::StatusOr<std::unique_ptr<BrokerHarness>> Start(Options options);
  ~BrokerHarness();

  RedisServer& redis() { return *redis_; }
  service::BrokerServer& broker() { return *broker_; }
  // "127.0.0.1:<port>".
  std::string target() const;
  // A channel to the broker, for any service's stub.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  std::unique_ptr<slussen::v1::ReferralService::Stub> ReferralStub() const;
  // The referral API as `identity` calls it.
  ReferralClient Client(const Identity& identity,
                        absl::Duration deadline = absl::Seconds(10)) const;
  // The health status the broker reports for `service` ("" for the whole
  // server), asked over gRPC: "SERVING", "NOT_SERVING", or the call's error.
  std::string HealthStatus(const std::string& service = "") const;

  // The personnummer key the broker was started with.
  static constexpr char kPnrKey[] = "test-key-0123456789abcdef0123456789abcdef";

 private:
  BrokerHarness() = default;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<service::BrokerServer> broker_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_BROKER_HARNESS_H_
