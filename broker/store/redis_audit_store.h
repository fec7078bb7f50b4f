// The audit chains in Redis: the AuditRepository of a running broker.
//
// Per region (redis_keys.h): a stream of records (fields r, p, h: the
// record's bytes, the previous hash, its hash), the chain's head (a hash
// with the last hash and the count), and a list of stream ids per audit
// subject for subject-access requests. Records are linked inside the Lua
// script that appends them (RedisChange::AuditAppend), so appends from many
// replicas never fork the chain; a change's record rides in the change's
// own script (AppendInto), so there is no change without its record.
//
// Thread-safe: all state is in Redis; the pool is thread-safe.
#ifndef SLUSSEN_BROKER_STORE_REDIS_AUDIT_STORE_H_
#define SLUSSEN_BROKER_STORE_REDIS_AUDIT_STORE_H_

#include <string>
#include <vector>

#include "broker/core/ports/audit_repository.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisAuditStore final : public core::AuditRepository {
 public:
  // `pool` must outlive the store.
  explicit RedisAuditStore(RedisPool* pool) : pool_(pool) {}

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

  // Adds to `change` the append of `record` to `region`'s chain.
  static void AppendInto(RedisChange& change, const std::string& region,
                         const slussen::v1::AuditRecord& record);

 private:
  RedisPool* const pool_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_AUDIT_STORE_H_
