// Identifiers for server-made resources (referrals, offers, clocks).
//
// An id is a ULID: 48 bits of milliseconds since the epoch and 80 random
// bits, written as 26 characters of Crockford base32. Ids made later sort
// after ids made earlier (to the millisecond), so an index ordered by id is
// ordered by creation time, and a page token needs only the last id. The 80
// random bits make collisions between broker replicas negligible; the store
// still refuses to overwrite an existing id.
//
//   UlidGenerator ids(&clock);
//   std::string id = ids.NewId();  // "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C"
#ifndef SLUSSEN_BROKER_CORE_PORTS_IDS_H_
#define SLUSSEN_BROKER_CORE_PORTS_IDS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/ports/clock.h"

namespace slussen::core {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // Thread-safe.
  virtual std::string NewId() = 0;
};

// Encodes a ULID from its parts; exposed for tests.
std::string EncodeUlid(uint64_t unix_millis, uint64_t random_high16,
                       uint64_t random_low64);

// The smallest id that can be made at `time`: ids made at or after `time`
// sort at or after it.
std::string MinIdAt(absl::Time time);

class UlidGenerator final : public IdGenerator {
 public:
  // `clock` must outlive the generator.
  explicit UlidGenerator(const Clock* clock) : clock_(clock) {}
  std::string NewId() override;

 private:
  const Clock* clock_;
  absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_IDS_H_
