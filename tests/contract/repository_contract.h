// The contract suite of the core's storage ports: the same cases run
// against the in-memory fakes (tests/fakes/) and the Redis stores on a real
// redis-server, so that a fake that drifts from production fails a test
// rather than letting the desks' unit tests pass on behaviour production
// never has. Each port has a value-parameterized suite over a
// ContractTarget, which makes a fresh, empty set of stores for each test:
//
//   INSTANTIATE_TEST_SUITE_P(Redis, ReferralRepositoryContract,
//                            ::testing::Values(Redis()), TargetName);
//
// The suites are in referral_repository_contract.cc (records, offers,
// audit), referral_repository_clocks_contract.cc (clocks, planned firing),
// directory_repository_contract.cc and audit_repository_contract.cc, and
// start from the records of tests/support/sample_records.h;
// in_memory_contract_test.cc and redis_contract_test.cc instantiate them.
//
// Thread-safety: a fixture belongs to its test's thread.
#ifndef SLUSSEN_TESTS_CONTRACT_REPOSITORY_CONTRACT_H_
#define SLUSSEN_TESTS_CONTRACT_REPOSITORY_CONTRACT_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/core/ports/referral_repository.h"
#include "gtest/gtest.h"
#include "slussen/v1/event.pb.h"
#include "tests/support/sample_records.h"

namespace slussen::testing {

// One implementation's stores, empty when made: the referral repository,
// the directory whose offerings its offers hold places of, and the audit
// chains in which it records the changes of records with an audit subject.
class ContractStores {
 public:
  virtual ~ContractStores() = default;

  virtual core::ReferralRepository& referrals() = 0;
  virtual core::DirectoryRepository& directory() = 0;
  virtual core::AuditRepository& audit() = 0;

  // The events written to `region`'s stream, oldest first, without their
  // names (a Redis stream position, which the fakes do not make).
  virtual absl::StatusOr<std::vector<slussen::v1::Event>> Events(
      const std::string& region) = 0;
};

// How to make one implementation's stores.
struct ContractTarget {
  // The tests' suffix: "InMemory", "Redis".
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<ContractStores>>()> make;
};

// The suffix GoogleTest gives each test: the target's name.
std::string TargetName(const ::testing::TestParamInfo<ContractTarget>& info);
// How GoogleTest prints the target (as its name) in a failure.
void PrintTo(const ContractTarget& target, std::ostream* os);

// Makes the stores before each test; a test fails at once if it cannot.
class RepositoryContractTest : public ::testing::TestWithParam<ContractTarget> {
 protected:
  void SetUp() override;

  core::ReferralRepository& referrals() { return stores_->referrals(); }
  core::DirectoryRepository& directory() { return stores_->directory(); }
  core::AuditRepository& audit() { return stores_->audit(); }
  // Events(region), which must succeed.
  std::vector<slussen::v1::Event> Events(const std::string& region);

 private:
  std::unique_ptr<ContractStores> stores_;
};

// `read` moved on by `action` to `to`, assigned to `assigned`, five minutes
// after it was made; and the event of the change.
struct Moved {
  core::ReferralRecord changed;
  slussen::v1::Event event;
};
Moved MoveTo(const core::ReferralRecord& read, slussen::v1::Action action,
             slussen::v1::ReferralState to, const std::string& assigned = "");

// The suites, one a port.
class ReferralRepositoryContract : public RepositoryContractTest {};
class DirectoryRepositoryContract : public RepositoryContractTest {};
class AuditRepositoryContract : public RepositoryContractTest {};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_CONTRACT_REPOSITORY_CONTRACT_H_
