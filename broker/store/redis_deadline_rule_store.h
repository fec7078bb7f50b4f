// Deadline rule-set versions in Redis, in the national directory's slot:
// a list per rule set id (slussen:{dir}:rule_set:<id>, one serialized
// DeadlineRuleSet per version) and the set of ids. Appending is one script,
// so two admins adding versions at once get two distinct indexes.
//
// Thread-safe: the pool is.
#ifndef SLUSSEN_BROKER_STORE_REDIS_DEADLINE_RULE_STORE_H_
#define SLUSSEN_BROKER_STORE_REDIS_DEADLINE_RULE_STORE_H_

#include <string>
#include <vector>

#include "broker/core/ports/deadline_rule_repository.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisDeadlineRuleStore final : public core::DeadlineRuleRepository {
 public:
  // `pool` must outlive the store.
  explicit RedisDeadlineRuleStore(RedisPool* pool) : pool_(pool) {}

  absl::StatusOr<int> Append(const std::string& id,
                             const slussen::v1::DeadlineRuleSet& set) override;
  absl::StatusOr<std::vector<core::StoredRuleSet>> ListAll() override;

 private:
  RedisPool* const pool_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_DEADLINE_RULE_STORE_H_
