// The gRPC ProviderDirectory: the transport edge over core::DirectoryDesk
// (and core::PlacementDesk for cohort decisions, which move referrals).
// Publishing capacity, deciding a cohort and editing an offering or a
// provider run the region's matching before they answer (each may free
// units for those waiting).
//
// Thread-safe: the desks are.
#ifndef SLUSSEN_BROKER_SERVICE_DIRECTORY_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_DIRECTORY_SERVICE_H_

#include "broker/core/desks/directory_desk.h"
#include "broker/core/desks/placement_desk.h"
#include "broker/service/match_scheduler.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/provider_service.grpc.pb.h"

namespace slussen::service {

class DirectoryServiceImpl final
    : public slussen::v1::ProviderDirectory::Service,
      private RpcEdge {
 public:
  // All must outlive the service; `edge` is what all services share
  // (rpc_scope.h). Every answer carries the broker's time by `edge.clock`
  // (kBrokerTimeHeader).
  DirectoryServiceImpl(core::DirectoryDesk* desk,
                       core::PlacementDesk* placements,
                       MatchScheduler* scheduler, const RpcEdgeOptions& edge)
      : RpcEdge(edge),
        desk_(desk),
        placements_(placements),
        scheduler_(scheduler) {}

#define SLUSSEN_RPC(Method, Request, Response)             \
  grpc::Status Method(grpc::ServerContext* context,        \
                      const slussen::v1::Request* request, \
                      slussen::v1::Response* response) override;
  SLUSSEN_RPC(CreateProvider, CreateProviderRequest, Provider)
  SLUSSEN_RPC(GetProvider, GetProviderRequest, Provider)
  SLUSSEN_RPC(ListProviders, ListProvidersRequest, ListProvidersResponse)
  SLUSSEN_RPC(UpdateProvider, UpdateProviderRequest, Provider)
  SLUSSEN_RPC(CreateOffering, CreateOfferingRequest, Offering)
  SLUSSEN_RPC(GetOffering, GetOfferingRequest, Offering)
  SLUSSEN_RPC(ListOfferings, ListOfferingsRequest, ListOfferingsResponse)
  SLUSSEN_RPC(UpdateOffering, UpdateOfferingRequest, Offering)
  SLUSSEN_RPC(PublishCapacity, PublishCapacityRequest, Offering)
  SLUSSEN_RPC(DecideCohort, DecideCohortRequest, Cohort)
  SLUSSEN_RPC(CreateActivityType, CreateActivityTypeRequest, ActivityType)
  SLUSSEN_RPC(GetActivityType, GetActivityTypeRequest, ActivityType)
  SLUSSEN_RPC(ListActivityTypes, ListActivityTypesRequest,
              ListActivityTypesResponse)
  SLUSSEN_RPC(CreateFrameworkAgreement, CreateFrameworkAgreementRequest,
              FrameworkAgreement)
  SLUSSEN_RPC(GetFrameworkAgreement, GetFrameworkAgreementRequest,
              FrameworkAgreement)
  SLUSSEN_RPC(ListFrameworkAgreements, ListFrameworkAgreementsRequest,
              ListFrameworkAgreementsResponse)
#undef SLUSSEN_RPC

 private:
  // After `changed` (an offering published or edited): its region's
  // matching, then the offering as that left it.
  absl::StatusOr<slussen::v1::Offering> MatchAfter(
      const core::Caller& caller,
      absl::StatusOr<slussen::v1::Offering> changed);

  core::DirectoryDesk* const desk_;
  core::PlacementDesk* const placements_;
  MatchScheduler* const scheduler_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_DIRECTORY_SERVICE_H_
