// Waiting for something to become true, in tests of recovery: polls
// `done` every `every` until it holds or `within` has passed; then its
// last answer. Waiting is the point; how long it took is never asserted.
//
//   ASSERT_TRUE(Eventually([&] { return pool.Command({"PING"}).ok(); }));
#ifndef SLUSSEN_TESTS_SUPPORT_EVENTUALLY_H_
#define SLUSSEN_TESTS_SUPPORT_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace slussen::testing {

inline bool Eventually(const std::function<bool()>& done,
                       absl::Duration within = absl::Seconds(10),
                       absl::Duration every = absl::Milliseconds(50)) {
  const absl::Time give_up = absl::Now() + within;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(every);
  }
  return done();
}

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_EVENTUALLY_H_
