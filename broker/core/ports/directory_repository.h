// The storage interface of the provider directory: activity types,
// providers, framework agreements (national), and offerings with their
// capacity (each in the partition of the region it serves, beside the
// referrals and offers that use its capacity).
//
// Reads of an offering fill the output fields of its capacity (occupied,
// held, enrolled) from the live counters that offers move. Writes check the
// version read (ABORTED when it changed); creates answer ALREADY_EXISTS for
// a taken id. Implementations must be thread-safe.
#ifndef SLUSSEN_BROKER_CORE_PORTS_DIRECTORY_REPOSITORY_H_
#define SLUSSEN_BROKER_CORE_PORTS_DIRECTORY_REPOSITORY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/core/model/records.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/provider.pb.h"

namespace slussen::core {

class DirectoryRepository {
 public:
  virtual ~DirectoryRepository() = default;

  virtual absl::Status CreateActivityType(
      const slussen::v1::ActivityType& type) = 0;
  virtual absl::StatusOr<slussen::v1::ActivityType> GetActivityType(
      const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<slussen::v1::ActivityType>>
  ListActivityTypes() = 0;

  virtual absl::Status CreateProvider(
      const slussen::v1::Provider& provider) = 0;
  virtual absl::StatusOr<Versioned<slussen::v1::Provider>> GetProvider(
      const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<Versioned<slussen::v1::Provider>>>
  ListProviders() = 0;
  virtual absl::StatusOr<int64_t> UpdateProvider(
      int64_t read_version, const slussen::v1::Provider& changed) = 0;

  virtual absl::Status CreateFrameworkAgreement(
      const slussen::v1::FrameworkAgreement& agreement) = 0;
  virtual absl::StatusOr<slussen::v1::FrameworkAgreement> GetFrameworkAgreement(
      const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<slussen::v1::FrameworkAgreement>>
  ListFrameworkAgreements() = 0;

  // The offering's region is `offering.region()`.
  virtual absl::Status CreateOffering(
      const slussen::v1::Offering& offering) = 0;
  virtual absl::StatusOr<Versioned<slussen::v1::Offering>> GetOffering(
      const std::string& provider_id, const std::string& offering_id) = 0;
  // Every offering serving `region`, by name.
  virtual absl::StatusOr<std::vector<Versioned<slussen::v1::Offering>>>
  ListOfferings(const std::string& region) = 0;
  // Changes the offering's definition (not its capacity).
  virtual absl::StatusOr<int64_t> UpdateOffering(
      const Versioned<slussen::v1::Offering>& read,
      const slussen::v1::Offering& changed) = 0;
  // Writes `plan` and `event` (to the region's stream) if the offering is
  // still at `read.version` and no unit would fall below what it has taken
  // (FAILED_PRECONDITION naming the unit).
  virtual absl::StatusOr<int64_t> PublishCapacity(
      const Versioned<slussen::v1::Offering>& read, const CapacityPlan& plan,
      const slussen::v1::Event& event) = 0;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_DIRECTORY_REPOSITORY_H_
