#include "broker/service/coordinator_service.h"

#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

grpc::Status CoordinatorServiceImpl::ListWorklist(
    grpc::ServerContext* context, const v1::ListWorklistRequest* request,
    v1::ListWorklistResponse* response) {
  return Serve(context, "ListWorklist", response, [&](const Caller& caller) {
    return desk_->ListWorklist(caller, *request);
  });
}

grpc::Status CoordinatorServiceImpl::GetClock(
    grpc::ServerContext* context, const v1::GetClockRequest* request,
    v1::Clock* response) {
  return Serve(context, "GetClock", response, [&](const Caller& caller) {
    return desk_->GetClock(caller, *request);
  });
}

grpc::Status CoordinatorServiceImpl::PauseClock(
    grpc::ServerContext* context, const v1::PauseClockRequest* request,
    v1::Clock* response) {
  return Serve(context, "PauseClock", response, [&](const Caller& caller) {
    return desk_->PauseClock(caller, *request);
  });
}

grpc::Status CoordinatorServiceImpl::ResumeClock(
    grpc::ServerContext* context, const v1::ResumeClockRequest* request,
    v1::Clock* response) {
  return Serve(context, "ResumeClock", response, [&](const Caller& caller) {
    return desk_->ResumeClock(caller, *request);
  });
}

grpc::Status CoordinatorServiceImpl::GetQueueOverview(
    grpc::ServerContext* context, const v1::GetQueueOverviewRequest* request,
    v1::QueueOverview* response) {
  return Serve(context, "GetQueueOverview", response,
               [&](const Caller& caller) {
                 return desk_->GetQueueOverview(caller, *request);
               });
}

grpc::Status CoordinatorServiceImpl::GetResponseTimeStatistics(
    grpc::ServerContext* context,
    const v1::GetResponseTimeStatisticsRequest* request,
    v1::ResponseTimeStatistics* response) {
  return Serve(context, "GetResponseTimeStatistics", response,
               [&](const Caller& caller) {
                 return desk_->GetResponseTimeStatistics(caller, *request);
               });
}

grpc::Status CoordinatorServiceImpl::GetOutcomeReport(
    grpc::ServerContext* context, const v1::GetOutcomeReportRequest* request,
    v1::OutcomeReport* response) {
  return Serve(context, "GetOutcomeReport", response,
               [&](const Caller& caller) {
                 return desk_->GetOutcomeReport(caller, *request);
               });
}

grpc::Status CoordinatorServiceImpl::ExportSusRegistrations(
    grpc::ServerContext* context,
    const v1::ExportSusRegistrationsRequest* request, v1::SusExport* response) {
  return Serve(context, "ExportSusRegistrations", response,
               [&](const Caller& caller) {
                 return desk_->ExportSusRegistrations(caller, *request);
               });
}

grpc::Status CoordinatorServiceImpl::CreateDeadlineRuleSet(
    grpc::ServerContext* context,
    const v1::CreateDeadlineRuleSetRequest* request,
    v1::DeadlineRuleSet* response) {
  return Serve(context, "CreateDeadlineRuleSet", response,
               [&](const Caller& caller) {
                 return desk_->CreateDeadlineRuleSet(caller, *request);
               });
}

grpc::Status CoordinatorServiceImpl::ListDeadlineRuleSets(
    grpc::ServerContext* context,
    const v1::ListDeadlineRuleSetsRequest* request,
    v1::ListDeadlineRuleSetsResponse* response) {
  return Serve(context, "ListDeadlineRuleSets", response,
               [&](const Caller& caller) {
                 return desk_->ListDeadlineRuleSets(caller, *request);
               });
}

}  // namespace slussen::service
