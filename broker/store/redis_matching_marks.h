// The matching scheduler's marks and lease in Redis, per region: what
// service/match_scheduler.h describes (when an arrival may be placed on its
// own, which replica runs a region's pass), kept in the keys
// keys::Matching* (redis_keys.h) so that every replica sees them.
//
//   RedisMatchingMarks marks(&pool);
//   ASSIGN_OR_RETURN(bool mine, marks.Lock("13", token, absl::Seconds(1)));
//   if (mine) {
//     ASSIGN_OR_RETURN(std::string changes, marks.BeginPass("13"));
//     ... the pass ...
//     RETURN_IF_ERROR(marks.EndPass("13", changes, "2026-12-07"));
//     RETURN_IF_ERROR(marks.Unlock("13", token));
//   }
//
// Every call is one round trip. Errors: UNAVAILABLE when Redis cannot be
// reached (a write may or may not have been made: each is safe to repeat),
// INTERNAL for an error reply (a key of another type). The scheduler
// treats any error as "Redis away": it leaves the region to its sweep.
//
// Thread-safe: the pool is, and the class keeps no state of its own.
#ifndef SLUSSEN_BROKER_STORE_REDIS_MATCHING_MARKS_H_
#define SLUSSEN_BROKER_STORE_REDIS_MATCHING_MARKS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisMatchingMarks {
 public:
  // `pool` must outlive the marks.
  explicit RedisMatchingMarks(RedisPool* pool) : pool_(pool) {}

  // --- The marks ---
  struct Marks {
    // The count of changes that may have freed capacity ("0" before the
    // first), and that count as the last full pass to end began.
    std::string changes;
    std::string seen;
    // The civil day ("2026-12-07") of the last full pass; nullopt before
    // the first.
    std::optional<std::string> passed;
  };
  absl::StatusOr<Marks> Read(const std::string& region);
  // The change count alone ("0" before the first).
  absl::StatusOr<std::string> Changes(const std::string& region);
  // Counts a change that may have freed capacity.
  absl::Status CountChange(const std::string& region);
  // A full pass begins: the region is no longer dirty (what marked it is
  // now seen), and the change count as it begins.
  absl::StatusOr<std::string> BeginPass(const std::string& region);
  // A full pass that began seeing `changes` on `day` went through: those
  // changes are seen (unless a later pass saw more), and `day` is the day
  // of the last full pass.
  absl::Status EndPass(const std::string& region, const std::string& changes,
                       const std::string& day);
  // Marks the region dirty for `ttl`: the pass running elsewhere must go
  // round again. With it, in the same round trip, the time the region's
  // lease has left; nullopt when there is none or it never expires.
  absl::StatusOr<std::optional<absl::Duration>> MarkDirty(
      const std::string& region, absl::Duration ttl);
  absl::StatusOr<bool> IsDirty(const std::string& region);

  // --- The lease: one pass of a region at a time ---
  // Takes the lease for `ttl` under `token` (unique to the taker); false
  // when another holds it.
  absl::StatusOr<bool> Lock(const std::string& region, const std::string& token,
                            absl::Duration ttl);
  // Extends the lease to `ttl` from now, if `token` still holds it (false
  // otherwise).
  absl::StatusOr<bool> Renew(const std::string& region,
                             const std::string& token, absl::Duration ttl);
  // Ends the lease, if `token` still holds it (false otherwise).
  absl::StatusOr<bool> Unlock(const std::string& region,
                              const std::string& token);

  // --- Work waiting, for the sweep ---
  struct Work {
    // Referrals RECEIVED or QUEUED.
    long long waiting = 0;
    // Offers whose hold has run out by `now`.
    long long holds_due = 0;
  };
  // The work of each of `regions`, in order, in one round trip.
  absl::StatusOr<std::vector<Work>> CountWork(
      const std::vector<std::string>& regions, absl::Time now);

 private:
  // `commands` in one round trip; an error reply among the replies is its
  // status.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  RedisPool* const pool_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_MATCHING_MARKS_H_
