// The gRPC OfferService and QueueService: the transport edges over
// core::PlacementDesk (offers) and core::QueueDesk (positions). A declined
// offer frees its place, so the region is matched before the answer.
//
// Thread-safe: the desks are.
#ifndef SLUSSEN_BROKER_SERVICE_OFFER_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_OFFER_SERVICE_H_

#include "broker/core/desks/placement_desk.h"
#include "broker/core/desks/queue_desk.h"
#include "broker/service/match_scheduler.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/queue_service.grpc.pb.h"

namespace slussen::service {

class OfferServiceImpl final : public slussen::v1::OfferService::Service,
                               private RpcEdge {
 public:
  // All must outlive the service; `edge` is what all services share
  // (rpc_scope.h).
  OfferServiceImpl(core::PlacementDesk* desk, MatchScheduler* scheduler,
                   const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk), scheduler_(scheduler) {}

  grpc::Status GetOffer(grpc::ServerContext* context,
                        const slussen::v1::GetOfferRequest* request,
                        slussen::v1::Offer* response) override;
  grpc::Status ListOffers(grpc::ServerContext* context,
                          const slussen::v1::ListOffersRequest* request,
                          slussen::v1::ListOffersResponse* response) override;
  grpc::Status AcceptOffer(grpc::ServerContext* context,
                           const slussen::v1::AcceptOfferRequest* request,
                           slussen::v1::Offer* response) override;
  grpc::Status DeclineOffer(grpc::ServerContext* context,
                            const slussen::v1::DeclineOfferRequest* request,
                            slussen::v1::Offer* response) override;

 private:
  core::PlacementDesk* const desk_;
  MatchScheduler* const scheduler_;
};

class QueueServiceImpl final : public slussen::v1::QueueService::Service,
                               private RpcEdge {
 public:
  // Both must outlive the service; `edge` is what all services share
  // (rpc_scope.h).
  QueueServiceImpl(core::QueueDesk* desk, const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk) {}

  grpc::Status GetQueuePosition(
      grpc::ServerContext* context,
      const slussen::v1::GetQueuePositionRequest* request,
      slussen::v1::QueuePosition* response) override;
  grpc::Status ListQueueEntries(
      grpc::ServerContext* context,
      const slussen::v1::ListQueueEntriesRequest* request,
      slussen::v1::ListQueueEntriesResponse* response) override;
  grpc::Status GetPriorityPolicy(
      grpc::ServerContext* context,
      const slussen::v1::GetPriorityPolicyRequest* request,
      slussen::v1::PriorityPolicy* response) override;
  grpc::Status PreviewPriorityPolicy(
      grpc::ServerContext* context,
      const slussen::v1::PreviewPriorityPolicyRequest* request,
      slussen::v1::PriorityPolicyPreview* response) override;

 private:
  core::QueueDesk* const desk_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_OFFER_SERVICE_H_
