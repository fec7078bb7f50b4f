// The gRPC TestingService: sets the clock of a broker started with
// --testing_clock_start. Registered only then (see BrokerOptions).
//
// Thread-safe: the clock is.
#ifndef SLUSSEN_BROKER_SERVICE_TESTING_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_TESTING_SERVICE_H_

#include <functional>
#include <utility>

#include "broker/core/ports/clock.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/testing_service.grpc.pb.h"

namespace slussen::service {

class TestingServiceImpl final : public slussen::v1::TestingService::Service,
                                 private RpcEdge {
 public:
  // `clock` and `limiter` must outlive the service (`limiter` may be null:
  // no rate limit); `fire_deadlines` fires the steps due now and says how
  // many.
  TestingServiceImpl(core::ManualClock* clock,
                     std::function<int()> fire_deadlines,
                     const RpcEdgeOptions& edge)
      : RpcEdge(edge),
        clock_(clock),
        fire_deadlines_(std::move(fire_deadlines)) {}

  grpc::Status SetTime(grpc::ServerContext* context,
                       const slussen::v1::SetTimeRequest* request,
                       slussen::v1::SetTimeResponse* response) override;

 private:
  core::ManualClock* const clock_;
  const std::function<int()> fire_deadlines_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_TESTING_SERVICE_H_
