// An AuditRepository in memory, for tests of pure logic and the request
// fuzzer. It keeps the Redis store's contract, which the contract suite
// (tests/contract/repository_contract.h) runs against both: records
// appended in order, linked as the Redis script links them
// (core::AuditLinkHash), a head beside each chain, and positions "<n>-0"
// that sort like stream ids.
//
// Thread-safe.
#ifndef SLUSSEN_TESTS_FAKES_IN_MEMORY_AUDIT_REPOSITORY_H_
#define SLUSSEN_TESTS_FAKES_IN_MEMORY_AUDIT_REPOSITORY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/core/ports/audit_repository.h"

namespace slussen::testing {

class InMemoryAuditRepository final : public core::AuditRepository {
 public:
  absl::Status Append(
      const std::string& region,
      const std::vector<slussen::v1::AuditRecord>& records) override;
  absl::StatusOr<core::AuditPage> ListBySubject(const std::string& region,
                                                const std::string& subject,
                                                int64_t offset,
                                                int limit) override;
  absl::StatusOr<std::vector<core::StoredAuditRecord>> ReadChain(
      const std::string& region, const std::string& after_position,
      int limit) override;
  absl::StatusOr<core::AuditHead> Head(const std::string& region) override;

  // Records appended, all regions.
  int64_t size() const;

 private:
  struct Chain {
    std::vector<core::StoredAuditRecord> records;
    std::vector<std::string> subjects;  // of each record
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Chain> chains_ ABSL_GUARDED_BY(mu_);
  int64_t next_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_FAKES_IN_MEMORY_AUDIT_REPOSITORY_H_
