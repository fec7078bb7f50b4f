#include "tests/support/broker_harness.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "broker/core/status_macros.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace slussen::testing {

BrokerHarness::Options::Options() {
  // Generous: parallel tests on two cores can hold an fsync up. Tests of
  // Redis failures see refused connections, which fail at once anyway.
  broker.redis.command_timeout = absl::Seconds(10);
}

absl::StatusOr<std::unique_ptr<BrokerHarness>> BrokerHarness::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<BrokerHarness>> BrokerHarness::Start(
    Options options) {
  std::unique_ptr<BrokerHarness> harness(new BrokerHarness);
  ASSIGN_OR_RETURN(harness->redis_, RedisServer::Start(options.redis));
  ASSIGN_OR_RETURN(options.broker.redis.address,
                   store::RedisAddress::Parse(harness->redis_->address()));
  options.broker.listen = "127.0.0.1:0";
  options.broker.health_interval = absl::Milliseconds(100);
  ASSIGN_OR_RETURN(core::Pseudonymizer pseudonymizer,
                   core::Pseudonymizer::FromKey(kPnrKey));
  ASSIGN_OR_RETURN(harness->broker_,
                   service::BrokerServer::Start(std::move(options.broker),
                                                std::move(pseudonymizer)));
  harness->channel_ = grpc::CreateChannel(harness->target(),
                                          grpc::InsecureChannelCredentials());
  return harness;
}

BrokerHarness::~BrokerHarness() {
  // The broker first: it still talks to Redis while calls drain.
  broker_.reset();
  redis_.reset();
}

std::string BrokerHarness::target() const {
  return absl::StrCat("127.0.0.1:", broker_->port());
}

std::unique_ptr<slussen::v1::ReferralService::Stub>
BrokerHarness::ReferralStub() const {
  return slussen::v1::ReferralService::NewStub(channel_);
}

ReferralClient BrokerHarness::Client(const Identity& identity,
                                     absl::Duration deadline) const {
  return ReferralClient(channel_, identity, deadline);
}

std::string BrokerHarness::HealthStatus(const std::string& service) const {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return absl::StrCat("error: ", status.error_message());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
      response.status());
}

}  // namespace slussen::testing
