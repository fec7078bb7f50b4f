// The contract suites (repository_contract.h) against the in-memory fakes
// of tests/fakes/: the referral repository auditing its changes in the
// audit fake, the directory sharing its capacity counters.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/contract/repository_contract.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_directory_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::testing {
namespace {

class InMemoryStores final : public ContractStores {
 public:
  core::ReferralRepository& referrals() override { return referrals_; }
  core::DirectoryRepository& directory() override { return directory_; }
  core::AuditRepository& audit() override { return audit_; }

  // The directory fake keeps the events it writes apart from the referral
  // repository's (each region's stream, in Redis): they follow them here.
  absl::StatusOr<std::vector<slussen::v1::Event>> Events(
      const std::string& region) override {
    std::vector<slussen::v1::Event> events = referrals_.events(region);
    for (const slussen::v1::Event& event : directory_.events()) {
      events.push_back(event);
    }
    return events;
  }

 private:
  InMemoryAuditRepository audit_;
  InMemoryReferralRepository referrals_{&audit_};
  InMemoryDirectoryRepository directory_{&referrals_};
};

ContractTarget InMemory() {
  return {.name = "InMemory",
          .make = []() -> absl::StatusOr<std::unique_ptr<ContractStores>> {
            return std::make_unique<InMemoryStores>();
          }};
}

INSTANTIATE_TEST_SUITE_P(InMemory, ReferralRepositoryContract,
                         ::testing::Values(InMemory()), TargetName);
INSTANTIATE_TEST_SUITE_P(InMemory, DirectoryRepositoryContract,
                         ::testing::Values(InMemory()), TargetName);
INSTANTIATE_TEST_SUITE_P(InMemory, AuditRepositoryContract,
                         ::testing::Values(InMemory()), TargetName);

}  // namespace
}  // namespace slussen::testing
