// The source of "now" for everything that decides on time.
//
// Logic takes a `const Clock&` (or pointer) instead of calling absl::Now(),
// so tests drive time with a fake clock (tests/fakes/fake_clock.h) and never
// sleep. Implementations must be thread-safe.
#ifndef SLUSSEN_BROKER_CORE_PORTS_CLOCK_H_
#define SLUSSEN_BROKER_CORE_PORTS_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
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

// A clock moved by hand: unit tests (as FakeClock), and a broker started
// with --testing_clock_start (end-to-end tests of deadlines). Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time time) {
    absl::MutexLock lock(&mu_);
    now_ = time;
  }
  void Advance(absl::Duration duration) {
    absl::MutexLock lock(&mu_);
    now_ += duration;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_CLOCK_H_
