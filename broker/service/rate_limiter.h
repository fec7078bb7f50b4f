// A token bucket per caller: each key (the calling organisation) may make
// `per_second` calls a second on average, and up to `burst` at once after a
// quiet spell. A call over the limit is RESOURCE_EXHAUSTED saying the limit
// and when to retry; a refused call takes no token.
//
//   RateLimiter limiter({.per_second = 200, .burst = 400}, &clock);
//   RETURN_IF_ERROR(limiter.Admit(caller.organisation));
//
// The buckets live in this process: with N broker replicas behind a load
// balancer, a caller may make N times the limit in all.
//
// Memory stays bounded whatever the callers do: a bucket that has refilled
// completely holds nothing a new bucket would not (a new one starts full),
// so buckets idle that long are dropped, in a sweep each time the map has
// doubled since the last; and past `max_keys` the longest idle are dropped
// too (which only hands them a full bucket early).
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_RATE_LIMITER_H_
#define SLUSSEN_BROKER_SERVICE_RATE_LIMITER_H_

#include <cstddef>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/ports/clock.h"

namespace slussen::service {

class RateLimiter {
 public:
  struct Options {
    // Calls a second per key, on average; 0 turns the limit off.
    double per_second = 200;
    // Calls a key may make at once after a quiet spell; at least 1 when
    // per_second is not 0.
    int burst = 400;
    // Buckets kept at most.
    size_t max_keys = 100000;
  };

  // OK if `options` can be used: per_second finite and >= 0, burst >= 1
  // when per_second > 0, max_keys >= 1; INVALID_ARGUMENT naming the option
  // otherwise.
  static absl::Status Validate(const Options& options);

  // `options` must be valid; `clock` must outlive the limiter.
  RateLimiter(Options options, const core::Clock* clock);

  // OK, taking a token of `key`'s bucket, or RESOURCE_EXHAUSTED when it is
  // empty.
  absl::Status Admit(absl::string_view key);

  // Buckets held now.
  size_t keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    // When `tokens` was last brought up to date.
    absl::Time updated;
  };

  // Drops the buckets that are full by `now`, and the longest idle ones
  // while more than max_keys - 1 remain, to make room for one more.
  void Sweep(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const core::Clock* const clock_;
  // How long an empty bucket takes to fill: idle that long, it is dropped.
  const absl::Duration refill_time_;

  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  // The next sweep comes when the map reaches this size.
  size_t sweep_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_RATE_LIMITER_H_
