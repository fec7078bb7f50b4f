// The provider directory in Redis: the DirectoryRepository of a running
// broker.
//
// Activity types, providers and framework agreements are national, under
// the "{dir}" hash tag: a hash per resource (data, version) and an index
// of ids per kind. An offering lives in the partition of the region it
// serves, beside the referrals and offers that use its capacity, so that an
// offer and the place it holds are written by one script: its hash holds
// the Offering protobuf (with the capacity definition), a version, and per
// capacity unit the counters u:<unit>:cap, :occupied and :held. Offers move
// the counters (broker/store/redis_referral_store.h); publishing capacity
// sets :cap, checking atomically that no unit falls below what it holds.
//
// Thread-safe: all state is in Redis; the pool is thread-safe.
#ifndef SLUSSEN_BROKER_STORE_REDIS_DIRECTORY_STORE_H_
#define SLUSSEN_BROKER_STORE_REDIS_DIRECTORY_STORE_H_

#include <string>
#include <vector>

#include "broker/core/model/names.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisDirectoryStore final : public core::DirectoryRepository {
 public:
  // `pool` must outlive the store.
  explicit RedisDirectoryStore(RedisPool* pool) : pool_(pool) {}

  absl::Status CreateActivityType(
      const slussen::v1::ActivityType& type) override;
  absl::StatusOr<slussen::v1::ActivityType> GetActivityType(
      const std::string& id) override;
  absl::StatusOr<std::vector<slussen::v1::ActivityType>> ListActivityTypes()
      override;

  absl::Status CreateProvider(const slussen::v1::Provider& provider) override;
  absl::StatusOr<core::Versioned<slussen::v1::Provider>> GetProvider(
      const std::string& id) override;
  absl::StatusOr<std::vector<core::Versioned<slussen::v1::Provider>>>
  ListProviders() override;
  absl::StatusOr<int64_t> UpdateProvider(
      int64_t read_version, const slussen::v1::Provider& changed) override;

  absl::Status CreateFrameworkAgreement(
      const slussen::v1::FrameworkAgreement& agreement) override;
  absl::StatusOr<slussen::v1::FrameworkAgreement> GetFrameworkAgreement(
      const std::string& id) override;
  absl::StatusOr<std::vector<slussen::v1::FrameworkAgreement>>
  ListFrameworkAgreements() override;

  absl::Status CreateOffering(const slussen::v1::Offering& offering) override;
  absl::StatusOr<core::Versioned<slussen::v1::Offering>> GetOffering(
      const std::string& provider_id, const std::string& offering_id) override;
  absl::StatusOr<std::vector<core::Versioned<slussen::v1::Offering>>>
  ListOfferings(const std::string& region) override;
  absl::StatusOr<int64_t> UpdateOffering(
      const core::Versioned<slussen::v1::Offering>& read,
      const slussen::v1::Offering& changed) override;
  absl::StatusOr<int64_t> PublishCapacity(
      const core::Versioned<slussen::v1::Offering>& read,
      const core::CapacityPlan& plan, const slussen::v1::Event& event) override;

 private:
  // A national resource of `kind` ("activity_type", "provider",
  // "agreement").
  absl::Status Create(const std::string& kind, const std::string& id,
                      const google::protobuf::Message& value);
  absl::StatusOr<core::Versioned<std::string>> Get(const std::string& kind,
                                                   const std::string& id);
  absl::StatusOr<std::vector<core::Versioned<std::string>>> List(
      const std::string& kind);
  // Claims `name` for `region` in the directory's slot: OK if unclaimed or
  // claimed for `region` (a retry) or claimed by a create that never
  // landed; ALREADY_EXISTS if the offering exists in another region.
  absl::Status ClaimOfferingName(const core::OfferingName& name,
                                 const std::string& region);

  RedisPool* const pool_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_DIRECTORY_STORE_H_
