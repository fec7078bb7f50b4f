// The region event streams in Redis (slussen:{r13}:events), read for
// watchers: XRANGE after a position. Written by the stores with each change.
//
// Thread-safe: the pool is.
#ifndef SLUSSEN_BROKER_STORE_REDIS_EVENT_LOG_H_
#define SLUSSEN_BROKER_STORE_REDIS_EVENT_LOG_H_

#include <string>
#include <vector>

#include "broker/core/event_log.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisEventLog final : public core::EventLog {
 public:
  // `pool` must outlive the log.
  explicit RedisEventLog(RedisPool* pool) : pool_(pool) {}

  absl::StatusOr<std::vector<core::LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position,
      int limit) override;
  absl::StatusOr<std::string> LastPosition(const std::string& region) override;

 private:
  RedisPool* const pool_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_EVENT_LOG_H_
