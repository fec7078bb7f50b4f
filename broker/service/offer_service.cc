#include "broker/service/offer_service.h"

#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

grpc::Status OfferServiceImpl::GetOffer(grpc::ServerContext* context,
                                        const v1::GetOfferRequest* request,
                                        v1::Offer* response) {
  return Serve(context, "GetOffer", response, [&](const Caller& caller) {
    return desk_->GetOffer(caller, *request);
  });
}

grpc::Status OfferServiceImpl::ListOffers(grpc::ServerContext* context,
                                          const v1::ListOffersRequest* request,
                                          v1::ListOffersResponse* response) {
  return Serve(context, "ListOffers", response, [&](const Caller& caller) {
    return desk_->ListOffers(caller, *request);
  });
}

grpc::Status OfferServiceImpl::AcceptOffer(
    grpc::ServerContext* context, const v1::AcceptOfferRequest* request,
    v1::Offer* response) {
  return Serve(context, "AcceptOffer", response, [&](const Caller& caller) {
    return desk_->AcceptOffer(caller, *request);
  });
}

grpc::Status OfferServiceImpl::DeclineOffer(
    grpc::ServerContext* context, const v1::DeclineOfferRequest* request,
    v1::Offer* response) {
  return Serve(context, "DeclineOffer", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Offer> {
                 absl::StatusOr<v1::Offer> declined =
                     desk_->DeclineOffer(caller, *request);
                 // The freed place goes to the next in line now.
                 if (declined.ok()) {
                   scheduler_->RunNow(request->name().substr(8, 2));
                 }
                 return declined;
               });
}

grpc::Status QueueServiceImpl::GetQueuePosition(
    grpc::ServerContext* context, const v1::GetQueuePositionRequest* request,
    v1::QueuePosition* response) {
  return Serve(context, "GetQueuePosition", response,
               [&](const Caller& caller) {
                 return desk_->GetQueuePosition(caller, *request);
               });
}

grpc::Status QueueServiceImpl::ListQueueEntries(
    grpc::ServerContext* context, const v1::ListQueueEntriesRequest* request,
    v1::ListQueueEntriesResponse* response) {
  return Serve(context, "ListQueueEntries", response,
               [&](const Caller& caller) {
                 return desk_->ListQueueEntries(caller, *request);
               });
}

grpc::Status QueueServiceImpl::GetPriorityPolicy(
    grpc::ServerContext* context, const v1::GetPriorityPolicyRequest* request,
    v1::PriorityPolicy* response) {
  return Serve(context, "GetPriorityPolicy", response,
               [&](const Caller& caller) {
                 return desk_->GetPriorityPolicy(caller, *request);
               });
}

grpc::Status QueueServiceImpl::PreviewPriorityPolicy(
    grpc::ServerContext* context,
    const v1::PreviewPriorityPolicyRequest* request,
    v1::PriorityPolicyPreview* response) {
  return Serve(context, "PreviewPriorityPolicy", response,
               [&](const Caller& caller) {
                 return desk_->PreviewPriorityPolicy(caller, *request);
               });
}

}  // namespace slussen::service
