#include "broker/service/referral_service.h"

#include "broker/core/status_macros.h"
#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;

namespace {

// Runs a desk method whose result is the response message.
template <typename Request, typename Response, typename Method>
grpc::Status Serve(grpc::ServerContext* context, absl::string_view name,
                   core::ReferralDesk* desk, Method method,
                   const Request* request, Response* response) {
  return RunRpc(context, name, [&](const core::Caller& caller) -> absl::Status {
    ASSIGN_OR_RETURN(*response, (desk->*method)(caller, *request));
    return absl::OkStatus();
  });
}

}  // namespace

grpc::Status ReferralServiceImpl::CreateReferral(
    grpc::ServerContext* context, const v1::CreateReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "CreateReferral", desk_,
               &core::ReferralDesk::CreateReferral, request, response);
}

grpc::Status ReferralServiceImpl::GetReferral(
    grpc::ServerContext* context, const v1::GetReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "GetReferral", desk_, &core::ReferralDesk::GetReferral,
               request, response);
}

grpc::Status ReferralServiceImpl::ListReferrals(
    grpc::ServerContext* context, const v1::ListReferralsRequest* request,
    v1::ListReferralsResponse* response) {
  return Serve(context, "ListReferrals", desk_,
               &core::ReferralDesk::ListReferrals, request, response);
}

grpc::Status ReferralServiceImpl::CancelReferral(
    grpc::ServerContext* context, const v1::CancelReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "CancelReferral", desk_,
               &core::ReferralDesk::CancelReferral, request, response);
}

}  // namespace slussen::service
