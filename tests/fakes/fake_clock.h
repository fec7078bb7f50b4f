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

#include "broker/core/ports/clock.h"

namespace slussen::testing {

using FakeClock = core::ManualClock;

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_FAKES_FAKE_CLOCK_H_
