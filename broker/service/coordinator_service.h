// The gRPC CoordinatorService: the transport edge over
// core::CoordinatorDesk (worklists, clocks, pauses, deadline rules). The
// queue overview, response-time statistics, outcome report and new rule
// versions are not built yet and answer UNIMPLEMENTED saying so.
//
// Thread-safe: the desk is.
#ifndef SLUSSEN_BROKER_SERVICE_COORDINATOR_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_COORDINATOR_SERVICE_H_

#include "broker/core/coordinator_desk.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"

namespace slussen::service {

class CoordinatorServiceImpl final
    : public slussen::v1::CoordinatorService::Service {
 public:
  // Must outlive the service.
  explicit CoordinatorServiceImpl(core::CoordinatorDesk* desk) : desk_(desk) {}

  grpc::Status ListWorklist(
      grpc::ServerContext* context,
      const slussen::v1::ListWorklistRequest* request,
      slussen::v1::ListWorklistResponse* response) override;
  grpc::Status GetClock(grpc::ServerContext* context,
                        const slussen::v1::GetClockRequest* request,
                        slussen::v1::Clock* response) override;
  grpc::Status PauseClock(grpc::ServerContext* context,
                          const slussen::v1::PauseClockRequest* request,
                          slussen::v1::Clock* response) override;
  grpc::Status ResumeClock(grpc::ServerContext* context,
                           const slussen::v1::ResumeClockRequest* request,
                           slussen::v1::Clock* response) override;
  grpc::Status ListDeadlineRuleSets(
      grpc::ServerContext* context,
      const slussen::v1::ListDeadlineRuleSetsRequest* request,
      slussen::v1::ListDeadlineRuleSetsResponse* response) override;

 private:
  core::CoordinatorDesk* const desk_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_COORDINATOR_SERVICE_H_
