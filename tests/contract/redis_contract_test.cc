// The contract suites (repository_contract.h) against the Redis stores on
// a private, real redis-server, one a test.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "broker/store/redis_audit_store.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_directory_store.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_referral_store.h"
#include "gtest/gtest.h"
#include "tests/contract/repository_contract.h"
#include "tests/support/redis_server.h"

namespace slussen::testing {
namespace {

class RedisStores final : public ContractStores {
 public:
  static absl::StatusOr<std::unique_ptr<ContractStores>> Make() {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    if (!server.ok()) return server.status();
    return std::unique_ptr<ContractStores>(new RedisStores(*std::move(server)));
  }

  core::ReferralRepository& referrals() override { return referrals_; }
  core::DirectoryRepository& directory() override { return directory_; }
  core::AuditRepository& audit() override { return audit_; }

  absl::StatusOr<std::vector<slussen::v1::Event>> Events(
      const std::string& region) override {
    absl::StatusOr<std::vector<core::LoggedEvent>> logged =
        log_.ReadAfter(region, "0-0", 100000);
    if (!logged.ok()) return logged.status();
    std::vector<slussen::v1::Event> events;
    events.reserve(logged->size());
    for (core::LoggedEvent& entry : *logged) {
      entry.event.clear_name();
      events.push_back(std::move(entry.event));
    }
    return events;
  }

 private:
  explicit RedisStores(std::unique_ptr<RedisServer> server)
      : server_(std::move(server)),
        // Generous: parallel tests on two cores can hold an fsync up.
        pool_(server_->ClientOptions({.command_timeout = absl::Seconds(10)})),
        referrals_(&pool_),
        directory_(&pool_),
        audit_(&pool_),
        log_(&pool_) {}

  const std::unique_ptr<RedisServer> server_;
  store::RedisPool pool_;
  store::RedisReferralStore referrals_;
  store::RedisDirectoryStore directory_;
  store::RedisAuditStore audit_;
  store::RedisEventLog log_;
};

ContractTarget Redis() { return {.name = "Redis", .make = &RedisStores::Make}; }

INSTANTIATE_TEST_SUITE_P(Redis, ReferralRepositoryContract,
                         ::testing::Values(Redis()), TargetName);
INSTANTIATE_TEST_SUITE_P(Redis, DirectoryRepositoryContract,
                         ::testing::Values(Redis()), TargetName);
INSTANTIATE_TEST_SUITE_P(Redis, AuditRepositoryContract,
                         ::testing::Values(Redis()), TargetName);

}  // namespace
}  // namespace slussen::testing
