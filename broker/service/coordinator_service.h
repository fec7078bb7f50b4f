// The gRPC CoordinatorService: the transport edge over
// core::CoordinatorDesk (worklists, clocks, pauses, deadline rules, the
// queue overview, response-time statistics, the outcome report, new
// versions of the deadline rules).
//
// Thread-safe: the desk is.
#ifndef SLUSSEN_BROKER_SERVICE_COORDINATOR_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_COORDINATOR_SERVICE_H_

#include "broker/core/desks/coordinator_desk.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"

namespace slussen::service {

class CoordinatorServiceImpl final
    : public slussen::v1::CoordinatorService::Service,
      private RpcEdge {
 public:
  // Both must outlive the service; `edge` is what all services share
  // (rpc_scope.h).
  CoordinatorServiceImpl(core::CoordinatorDesk* desk,
                         const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk) {}

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
  grpc::Status GetQueueOverview(
      grpc::ServerContext* context,
      const slussen::v1::GetQueueOverviewRequest* request,
      slussen::v1::QueueOverview* response) override;
  grpc::Status GetResponseTimeStatistics(
      grpc::ServerContext* context,
      const slussen::v1::GetResponseTimeStatisticsRequest* request,
      slussen::v1::ResponseTimeStatistics* response) override;
  grpc::Status GetOutcomeReport(
      grpc::ServerContext* context,
      const slussen::v1::GetOutcomeReportRequest* request,
      slussen::v1::OutcomeReport* response) override;
  grpc::Status ExportSusRegistrations(
      grpc::ServerContext* context,
      const slussen::v1::ExportSusRegistrationsRequest* request,
      slussen::v1::SusExport* response) override;
  grpc::Status CreateDeadlineRuleSet(
      grpc::ServerContext* context,
      const slussen::v1::CreateDeadlineRuleSetRequest* request,
      slussen::v1::DeadlineRuleSet* response) override;
  grpc::Status ListDeadlineRuleSets(
      grpc::ServerContext* context,
      const slussen::v1::ListDeadlineRuleSetsRequest* request,
      slussen::v1::ListDeadlineRuleSetsResponse* response) override;

 private:
  core::CoordinatorDesk* const desk_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_COORDINATOR_SERVICE_H_
