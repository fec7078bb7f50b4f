#include "broker/service/directory_service.h"

#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

// A handler that calls desk method `Method` with the request.
#define SLUSSEN_SERVE(Desk, Method, Request, Response)                    \
  grpc::Status DirectoryServiceImpl::Method(grpc::ServerContext* context, \
                                            const v1::Request* request,   \
                                            v1::Response* response) {     \
    return Serve(context, #Method, response, [&](const Caller& caller) {  \
      return Desk->Method(caller, *request);                              \
    });                                                                   \
  }

SLUSSEN_SERVE(desk_, CreateProvider, CreateProviderRequest, Provider)
SLUSSEN_SERVE(desk_, GetProvider, GetProviderRequest, Provider)
SLUSSEN_SERVE(desk_, ListProviders, ListProvidersRequest, ListProvidersResponse)
SLUSSEN_SERVE(desk_, UpdateProvider, UpdateProviderRequest, Provider)
SLUSSEN_SERVE(desk_, CreateOffering, CreateOfferingRequest, Offering)
SLUSSEN_SERVE(desk_, GetOffering, GetOfferingRequest, Offering)
SLUSSEN_SERVE(desk_, ListOfferings, ListOfferingsRequest, ListOfferingsResponse)
SLUSSEN_SERVE(desk_, UpdateOffering, UpdateOfferingRequest, Offering)
SLUSSEN_SERVE(desk_, CreateActivityType, CreateActivityTypeRequest,
              ActivityType)
SLUSSEN_SERVE(desk_, GetActivityType, GetActivityTypeRequest, ActivityType)
SLUSSEN_SERVE(desk_, ListActivityTypes, ListActivityTypesRequest,
              ListActivityTypesResponse)
SLUSSEN_SERVE(desk_, CreateFrameworkAgreement, CreateFrameworkAgreementRequest,
              FrameworkAgreement)
SLUSSEN_SERVE(desk_, GetFrameworkAgreement, GetFrameworkAgreementRequest,
              FrameworkAgreement)
SLUSSEN_SERVE(desk_, ListFrameworkAgreements, ListFrameworkAgreementsRequest,
              ListFrameworkAgreementsResponse)
#undef SLUSSEN_SERVE

grpc::Status DirectoryServiceImpl::PublishCapacity(
    grpc::ServerContext* context, const v1::PublishCapacityRequest* request,
    v1::Offering* response) {
  return Serve(context, "PublishCapacity", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Offering> {
                 absl::StatusOr<v1::Offering> published =
                     desk_->PublishCapacity(caller, *request);
                 if (!published.ok()) return published;
                 scheduler_->RunNow(published->region());
                 // With the places the new capacity was offered for.
                 v1::GetOfferingRequest get;
                 get.set_name(published->name());
                 absl::StatusOr<v1::Offering> now =
                     desk_->GetOffering(caller, get);
                 return now.ok() ? now : published;
               });
}

grpc::Status DirectoryServiceImpl::DecideCohort(
    grpc::ServerContext* context, const v1::DecideCohortRequest* request,
    v1::Cohort* response) {
  return Serve(context, "DecideCohort", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Cohort> {
                 absl::StatusOr<v1::Cohort> decided =
                     placements_->DecideCohort(caller, *request);
                 if (!decided.ok()) return decided;
                 v1::GetOfferingRequest get;
                 get.set_name(request->name().substr(
                     0, request->name().find("/cohorts/")));
                 absl::StatusOr<v1::Offering> offering =
                     desk_->GetOffering(caller, get);
                 if (offering.ok()) scheduler_->RunNow(offering->region());
                 return decided;
               });
}

}  // namespace slussen::service
