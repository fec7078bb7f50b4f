// The source of "now" for everything that decides on time.
//
// Logic takes a `const Clock&` (or pointer) instead of calling absl::Now(),
// so tests drive time with a fake clock (tests/fakes/fake_clock.h) and never
// sleep. Implementations must be thread-safe.
#ifndef SLUSSEN_BROKER_CORE_CLOCK_H_
#define SLUSSEN_BROKER_CORE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace slussen::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real time. Thread-safe; a process needs only one.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_CLOCK_H_
