// The directory desk: the core's use cases for the provider directory
// (activity types, providers, offerings, framework agreements) and for
// publishing capacity, over the storage interface.
//
// Who may do what: admins create and change the directory; a provider
// publishes the capacity of its own offerings (an admin may too); anyone
// identified may read the directory (agencies choose providers from it).
//
//   DirectoryDesk desk(&directory, &clock, &calendar);
//   ASSIGN_OR_RETURN(v1::Offering offering,
//                    desk.PublishCapacity(caller, request));
//
// Thread-safe if its collaborators are; it holds no mutable state.
#ifndef SLUSSEN_BROKER_CORE_DESKS_DIRECTORY_DESK_H_
#define SLUSSEN_BROKER_CORE_DESKS_DIRECTORY_DESK_H_

#include "absl/status/statusor.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/directory_repository.h"
#include "slussen/v1/provider.pb.h"
#include "slussen/v1/provider_service.pb.h"

namespace slussen::core {

class DirectoryDesk {
 public:
  // All must outlive the desk.
  DirectoryDesk(DirectoryRepository* directory, const Clock* clock,
                const SwedishCalendar* calendar)
      : directory_(directory), clock_(clock), calendar_(calendar) {}

  absl::StatusOr<slussen::v1::ActivityType> CreateActivityType(
      const Caller& caller,
      const slussen::v1::CreateActivityTypeRequest& request);
  absl::StatusOr<slussen::v1::ActivityType> GetActivityType(
      const Caller& caller, const slussen::v1::GetActivityTypeRequest& request);
  absl::StatusOr<slussen::v1::ListActivityTypesResponse> ListActivityTypes(
      const Caller& caller,
      const slussen::v1::ListActivityTypesRequest& request);

  absl::StatusOr<slussen::v1::Provider> CreateProvider(
      const Caller& caller, const slussen::v1::CreateProviderRequest& request);
  absl::StatusOr<slussen::v1::Provider> GetProvider(
      const Caller& caller, const slussen::v1::GetProviderRequest& request);
  absl::StatusOr<slussen::v1::ListProvidersResponse> ListProviders(
      const Caller& caller, const slussen::v1::ListProvidersRequest& request);
  absl::StatusOr<slussen::v1::Provider> UpdateProvider(
      const Caller& caller, const slussen::v1::UpdateProviderRequest& request);

  absl::StatusOr<slussen::v1::Offering> CreateOffering(
      const Caller& caller, const slussen::v1::CreateOfferingRequest& request);
  absl::StatusOr<slussen::v1::Offering> GetOffering(
      const Caller& caller, const slussen::v1::GetOfferingRequest& request);
  absl::StatusOr<slussen::v1::ListOfferingsResponse> ListOfferings(
      const Caller& caller, const slussen::v1::ListOfferingsRequest& request);
  absl::StatusOr<slussen::v1::Offering> UpdateOffering(
      const Caller& caller, const slussen::v1::UpdateOfferingRequest& request);
  absl::StatusOr<slussen::v1::Offering> PublishCapacity(
      const Caller& caller, const slussen::v1::PublishCapacityRequest& request);

  absl::StatusOr<slussen::v1::FrameworkAgreement> CreateFrameworkAgreement(
      const Caller& caller,
      const slussen::v1::CreateFrameworkAgreementRequest& request);
  absl::StatusOr<slussen::v1::FrameworkAgreement> GetFrameworkAgreement(
      const Caller& caller,
      const slussen::v1::GetFrameworkAgreementRequest& request);
  absl::StatusOr<slussen::v1::ListFrameworkAgreementsResponse>
  ListFrameworkAgreements(
      const Caller& caller,
      const slussen::v1::ListFrameworkAgreementsRequest& request);

  // The offering `name` ("providers/{p}/offerings/{o}") as stored, with its
  // output fields (stale) set; for the placement desk and the matchmaker.
  absl::StatusOr<Versioned<slussen::v1::Offering>> LoadOffering(
      absl::string_view field, absl::string_view name) const;

  // Writes a planned capacity change (a cohort decision) with its event.
  absl::Status WriteCapacity(const Versioned<slussen::v1::Offering>& read,
                             const CapacityPlan& plan,
                             const slussen::v1::Event& event) {
    return directory_->PublishCapacity(read, plan, event).status();
  }

  // The organisation that operates provider `provider_id`.
  absl::StatusOr<std::string> ProviderOrganisation(
      const std::string& provider_id) const;

  // OK if `caller` is the provider owning `offering`, or an admin;
  // NOT_FOUND for another provider (its offering is not the caller's
  // business), PERMISSION_DENIED for other roles.
  absl::Status CheckOwnsOffering(const Caller& caller,
                                 const slussen::v1::Offering& offering) const;

 private:
  slussen::v1::Offering Render(const Versioned<slussen::v1::Offering>& o) const;

  DirectoryRepository* const directory_;
  const Clock* const clock_;
  const SwedishCalendar* const calendar_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_DESKS_DIRECTORY_DESK_H_
