// A ReferralRepository in memory, for tests of the core's logic only (the
// Redis store has its own tests against a real redis-server). It keeps the
// contract: atomic change-with-event, version checks, idempotency keys,
// listings newest first with a scan limit.
//
// Tests can make the next Update lose a race (FailNextUpdatesWithAborted)
// to exercise the desk's retry, and read the events written.
//
// Thread-safe.
#ifndef SLUSSEN_TESTS_FAKES_IN_MEMORY_REFERRAL_REPOSITORY_H_
#define SLUSSEN_TESTS_FAKES_IN_MEMORY_REFERRAL_REPOSITORY_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/core/referral_repository.h"

namespace slussen::testing {

class InMemoryReferralRepository final : public core::ReferralRepository {
 public:
  absl::StatusOr<core::CreateOutcome> Create(
      const core::ReferralRecord& record, const slussen::v1::Event& event,
      const std::optional<core::IdempotencyKey>& key) override;
  absl::StatusOr<core::ReferralRecord> Get(const std::string& region,
                                           const std::string& id) override;
  absl::StatusOr<int64_t> Update(const core::ReferralRecord& read,
                                 const core::ReferralRecord& changed,
                                 const slussen::v1::Event& event) override;
  absl::StatusOr<core::ListPage> List(const core::ListQuery& query) override;

  // The next `count` updates answer ABORTED, as if another replica had
  // changed the referral in between (the stored version is bumped).
  void FailNextUpdatesWithAborted(int count);

  std::vector<slussen::v1::Event> events() const;

 private:
  using Key = std::pair<std::string, std::string>;  // region, id
  mutable absl::Mutex mu_;
  std::map<Key, core::ReferralRecord> records_ ABSL_GUARDED_BY(mu_);
  // "org\nrequest id" -> {id, fingerprint}
  std::map<std::string, std::pair<std::string, std::string>> idempotency_
      ABSL_GUARDED_BY(mu_);
  std::vector<slussen::v1::Event> events_ ABSL_GUARDED_BY(mu_);
  int abort_updates_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_FAKES_IN_MEMORY_REFERRAL_REPOSITORY_H_
