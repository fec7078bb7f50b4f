// The region event streams in Redis (slussen:{r13}:events), read for
// watchers: XRANGE after a position, and for the broker's one reader of
// every watched region (service/event_feed.h) XREAD of them all: one
// XREAD BLOCK on one Redis; on a Cluster, whose regions live on different
// nodes, one XREAD per region in a pipeline, at once (a Cluster cannot
// block on keys of several slots), and a region whose node is down is
// left out rather than failing the others. Written by the stores with
// each change.
//
// Thread-safe: the pool is.
#ifndef SLUSSEN_BROKER_STORE_REDIS_EVENT_LOG_H_
#define SLUSSEN_BROKER_STORE_REDIS_EVENT_LOG_H_

#include <map>
#include <string>
#include <vector>

#include "broker/core/ports/event_log.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

// The stream entry of one event: its type (so that redis-cli shows what an
// entry is) and the event, serialized. Every writer uses these two fields
// in this order: Redis stores an entry whose fields are the stream's first
// entry's as values only. (Before 2026-12-07 entries had a third field,
// `referral`, which repeated the event's own; readers ignore it.)
RedisChange::Fields EventEntry(const slussen::v1::Event& event);

class RedisEventLog final : public core::EventLog {
 public:
  // `pool` must outlive the log.
  explicit RedisEventLog(RedisPool* pool) : pool_(pool) {}

  absl::StatusOr<std::vector<core::LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position,
      int limit) override;
  absl::StatusOr<std::string> LastPosition(const std::string& region) override;
  absl::StatusOr<std::map<std::string, std::vector<core::LoggedEvent>>>
  ReadAfterEach(const std::map<std::string, std::string>& positions, int limit,
                absl::Duration wait) override;
  bool CanWait() const override { return !pool_->options().cluster; }
  // SET NX of the mark and XADD of the event in one script.
  absl::StatusOr<bool> AppendOnce(const std::string& region,
                                  const std::string& once,
                                  const slussen::v1::Event& event,
                                  absl::Duration keep) override;
  // XTRIM MINID, and the position kept (events_remove_before.lua).
  absl::StatusOr<int64_t> RemoveBefore(const std::string& region,
                                       absl::Time cutoff) override;
  absl::StatusOr<std::string> RemovedBefore(const std::string& region) override;

 private:
  RedisPool* const pool_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_EVENT_LOG_H_
