#include "broker/service/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/core/model/field_error.h"

namespace slussen::service {

using core::WithReason;
using core::WithRetryDelay;

namespace {

// Sweeps start once this many buckets are held.
constexpr size_t kFirstSweep = 1024;

// "200 calls a second", "0.5 calls a second".
std::string Rate(double per_second) {
  return absl::StrFormat("%g calls a second", per_second);
}

}  // namespace

absl::Status RateLimiter::Validate(const Options& options) {
  if (!std::isfinite(options.per_second) || options.per_second < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate limit per_second must be 0 (off) or more, got ",
                     options.per_second));
  }
  if (options.per_second > 0 && options.burst < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate limit burst must be 1 or more when a rate is set, got ",
        options.burst));
  }
  if (options.max_keys < 1) {
    return absl::InvalidArgumentError("rate limit max_keys must be 1 or more");
  }
  return absl::OkStatus();
}

RateLimiter::RateLimiter(Options options, const core::Clock* clock)
    : options_(options),
      clock_(clock),
      refill_time_(options.per_second > 0
                       ? absl::Seconds(options.burst / options.per_second)
                       : absl::ZeroDuration()),
      sweep_at_(std::min(kFirstSweep, options.max_keys)) {}

absl::Status RateLimiter::Admit(absl::string_view key) {
  if (options_.per_second <= 0) return absl::OkStatus();
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= sweep_at_) {
      Sweep(now);
      sweep_at_ = std::min(options_.max_keys,
                           std::max(kFirstSweep, 2 * buckets_.size()));
    }
    it = buckets_
             .emplace(std::string(key),
                      Bucket{.tokens = static_cast<double>(options_.burst),
                             .updated = now})
             .first;
  }
  Bucket& bucket = it->second;
  // A clock that stepped back refills nothing.
  const double elapsed =
      std::max(0.0, absl::ToDoubleSeconds(now - bucket.updated));
  bucket.tokens = std::min(static_cast<double>(options_.burst),
                           bucket.tokens + elapsed * options_.per_second);
  bucket.updated = std::max(bucket.updated, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::OkStatus();
  }
  const absl::Duration wait =
      absl::Ceil(absl::Seconds((1 - bucket.tokens) / options_.per_second),
                 absl::Milliseconds(1));
  return WithRetryDelay(
      WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              "organisation ", key, " is over its rate limit of ",
              Rate(options_.per_second), " (bursts of ", options_.burst,
              ") on this broker; retry in ", absl::FormatDuration(wait))),
          "RATE_LIMITED"),
      wait);
}

size_t RateLimiter::keys() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

void RateLimiter::Sweep(absl::Time now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (now - it->second.updated >= refill_time_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() < options_.max_keys) return;
  // Still full: drop the longest idle quarter (at least enough for one
  // more), so that the next sweeps are that many insertions away.
  std::vector<std::pair<absl::Time, const std::string*>> by_age;
  by_age.reserve(buckets_.size());
  for (const auto& [key, bucket] : buckets_) {
    by_age.emplace_back(bucket.updated, &key);
  }
  const size_t drop =
      std::max(buckets_.size() - options_.max_keys + 1, buckets_.size() / 4);
  std::nth_element(by_age.begin(), by_age.begin() + (drop - 1), by_age.end());
  std::vector<std::string> dropped;
  dropped.reserve(drop);
  for (size_t i = 0; i < drop; ++i) dropped.push_back(*by_age[i].second);
  for (const std::string& key : dropped) buckets_.erase(key);
}

}  // namespace slussen::service
