// Referrals stored in Redis: the ReferralRepository of a running broker.
//
// Layout. Every key of a region carries the region as its hash tag, so a
// region's keys share one Redis Cluster slot and a Lua script may touch
// them together:
//   slussen:{r13}:referral:<id>           hash: data (Referral protobuf),
//                                         version, state, kind, org, pnr,
//                                         assigned
//   slussen:{r13}:referrals               sorted set of ids (score 0; ids
//                                         sort by creation time)
//   slussen:{r13}:referrals:org:<org>     the same, per referring org
//   slussen:{r13}:referrals:assigned:<org> the same, per assigned provider
//   slussen:{r13}:pnr:<keyed hash>        set of ids per personnummer hash
//   slussen:{r13}:idem:<org>:<request id> "<id> <fingerprint>", expiring
//   slussen:{r13}:events                  stream: the region's outbox
//
// Atomicity. A create or an update and its event are written by one Lua
// script, which checks (the idempotency key, the version read) before it
// writes anything, so that a refused write changes nothing. With the AOF on,
// a script's writes are persisted as one transaction.
//
// Thread-safe: all state is in Redis; the pool is thread-safe.
#ifndef SLUSSEN_BROKER_STORE_REDIS_REFERRAL_STORE_H_
#define SLUSSEN_BROKER_STORE_REDIS_REFERRAL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "broker/core/referral_repository.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisReferralStore final : public core::ReferralRepository {
 public:
  struct Options {
    // How long an idempotency key is remembered.
    absl::Duration idempotency_ttl = absl::Hours(24 * 30);
  };

  // `pool` must outlive the store.
  explicit RedisReferralStore(RedisPool* pool)
      : RedisReferralStore(pool, Options()) {}
  RedisReferralStore(RedisPool* pool, Options options);

  absl::StatusOr<core::CreateOutcome> Create(
      const core::ReferralRecord& record, const slussen::v1::Event& event,
      const std::optional<core::IdempotencyKey>& key) override;

  absl::StatusOr<core::ReferralRecord> Get(const std::string& region,
                                           const std::string& id) override;

  absl::StatusOr<int64_t> Update(const core::ReferralRecord& read,
                                 const core::ReferralRecord& changed,
                                 const slussen::v1::Event& event) override;

  absl::StatusOr<core::ListPage> List(const core::ListQuery& query) override;

  // The key of a region's event stream.
  static std::string EventStreamKey(const std::string& region);

 private:
  RedisPool* const pool_;
  const Options options_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_REFERRAL_STORE_H_
