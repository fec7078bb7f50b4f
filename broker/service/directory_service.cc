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
SLUSSEN_SERVE(desk_, CreateOffering, CreateOfferingRequest, Offering)
SLUSSEN_SERVE(desk_, GetOffering, GetOfferingRequest, Offering)
SLUSSEN_SERVE(desk_, ListOfferings, ListOfferingsRequest, ListOfferingsResponse)
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

absl::StatusOr<v1::Offering> DirectoryServiceImpl::MatchAfter(
    const Caller& caller, absl::StatusOr<v1::Offering> changed) {
  if (!changed.ok()) return changed;
  scheduler_->RunNow(changed->region());
  // With the units the pass offered.
  v1::GetOfferingRequest get;
  get.set_name(changed->name());
  absl::StatusOr<v1::Offering> now = desk_->GetOffering(caller, get);
  return now.ok() ? now : changed;
}

grpc::Status DirectoryServiceImpl::PublishCapacity(
    grpc::ServerContext* context, const v1::PublishCapacityRequest* request,
    v1::Offering* response) {
  return Serve(context, "PublishCapacity", response, [&](const Caller& caller) {
    return MatchAfter(caller, desk_->PublishCapacity(caller, *request));
  });
}

// An edit may free units for those waiting (wider eligibility, a cohort's
// intake opened earlier, capacity no longer stale): counted as a change,
// so that they get those units before any arrival does.
grpc::Status DirectoryServiceImpl::UpdateOffering(
    grpc::ServerContext* context, const v1::UpdateOfferingRequest* request,
    v1::Offering* response) {
  return Serve(context, "UpdateOffering", response, [&](const Caller& caller) {
    return MatchAfter(caller, desk_->UpdateOffering(caller, *request));
  });
}

// As UpdateOffering: the kommuner a provider serves are its offerings'
// where they name none, and its agency kind decides joint mappings.
grpc::Status DirectoryServiceImpl::UpdateProvider(
    grpc::ServerContext* context, const v1::UpdateProviderRequest* request,
    v1::Provider* response) {
  return Serve(context, "UpdateProvider", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Provider> {
                 absl::StatusOr<v1::Provider> updated =
                     desk_->UpdateProvider(caller, *request);
                 if (!updated.ok()) return updated;
                 for (const std::string& region : updated->regions()) {
                   scheduler_->RunNow(region);
                 }
                 return updated;
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
