// A DirectoryRepository in memory, for tests of the core's logic only. It
// keeps the contract of the Redis store (redis_directory_store.h), which
// the contract suite (tests/contract/repository_contract.h) runs against
// both: ALREADY_EXISTS for a taken id (an offering's id across regions),
// NOT_FOUND naming what is missing, ABORTED when the version read is no
// longer current, counters never stored in the offering itself, and
// PublishCapacity refusing (FAILED_PRECONDITION, nothing written) to set a
// unit below what it has taken.
//
// As in Redis, where an offering's hash holds both its definition and the
// counters its offers move, the capacity counters are shared with the
// referral repository whose offers move them: reads fill occupied, held and
// enrolled from it, and publishing sets the units' capacity in it.
//
//   InMemoryReferralRepository referrals;
//   InMemoryDirectoryRepository directory(&referrals);
//
// Thread-safe.
#ifndef SLUSSEN_TESTS_FAKES_IN_MEMORY_DIRECTORY_REPOSITORY_H_
#define SLUSSEN_TESTS_FAKES_IN_MEMORY_DIRECTORY_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/core/ports/directory_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::testing {

class InMemoryDirectoryRepository final : public core::DirectoryRepository {
 public:
  // `counters` keeps the capacity counters of the offerings (its offers
  // move them); it must outlive this repository.
  explicit InMemoryDirectoryRepository(InMemoryReferralRepository* counters)
      : counters_(counters) {}

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

  // The events PublishCapacity wrote (to the regions' streams), in order.
  std::vector<slussen::v1::Event> events() const;

 private:
  struct StoredOffering {
    std::string region;
    int64_t version = 0;
    // Without counters.
    slussen::v1::Offering offering;
  };
  using OfferingKey = std::pair<std::string, std::string>;  // provider, id

  // The offering with its counters filled in from counters_.
  core::Versioned<slussen::v1::Offering> Read(
      const StoredOffering& stored) const;
  // The stored offering that `read` was read from: NOT_FOUND when gone (or
  // in another region), ABORTED when at another version.
  absl::StatusOr<StoredOffering*> Stored(
      const core::Versioned<slussen::v1::Offering>& read)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  InMemoryReferralRepository* const counters_;
  mutable absl::Mutex mu_;
  std::map<std::string, slussen::v1::ActivityType> activity_types_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, core::Versioned<slussen::v1::Provider>> providers_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, slussen::v1::FrameworkAgreement> agreements_
      ABSL_GUARDED_BY(mu_);
  std::map<OfferingKey, StoredOffering> offerings_ ABSL_GUARDED_BY(mu_);
  std::vector<slussen::v1::Event> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_FAKES_IN_MEMORY_DIRECTORY_REPOSITORY_H_
