// A clock the test moves by hand: logic that decides on time is tested
// without sleeping.
//
//   FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 12, 23, 9, 0, 0),
//                                   stockholm));
//   clock.Advance(absl::Hours(24));
//
// Thread-safe.
#ifndef SLUSSEN_TESTS_FAKES_FAKE_CLOCK_H_
#define SLUSSEN_TESTS_FAKES_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/clock.h"

namespace slussen::testing {

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}

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

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_FAKES_FAKE_CLOCK_H_
