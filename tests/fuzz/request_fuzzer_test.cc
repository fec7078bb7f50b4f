// The request fuzzer's body in the ordinary build: every seed runs with the
// outcome it is meant to have (so the seeds stay valid as the API changes),
// every kind has a seed, and what the fuzzer once found stays fixed.
#include "tests/fuzz/request_fuzzer.h"

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fuzz/seed_inputs.h"

namespace slussen::fuzz {
namespace {

absl::Status RunBytes(const std::string& input) {
  return RunInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

TEST(RequestFuzzerTest, EverySeedHasItsOutcome) {
  for (const Seed& seed : SeedInputs()) {
    SCOPED_TRACE(seed.name);
    const absl::Status status = RunBytes(seed.input);
    EXPECT_EQ(status.code(), seed.expected) << status;
  }
}

TEST(RequestFuzzerTest, EveryKindHasASeed) {
  std::set<std::string> seeded;
  for (const Seed& seed : SeedInputs()) {
    seeded.insert(seed.name.substr(0, seed.name.find('-')));
  }
  for (const std::string& kind : KindNames()) {
    EXPECT_TRUE(seeded.count(kind)) << kind;
  }
}

TEST(RequestFuzzerTest, ShortAndUnparsableInputsDoNothing) {
  EXPECT_TRUE(RunBytes("").ok());
  EXPECT_TRUE(RunBytes(std::string(1, '\0')).ok());
  // Kind 0 (CreateReferral) with a field of wire type 7, which no message
  // has.
  EXPECT_TRUE(RunBytes(std::string("\0\0\x0f", 3)).ok());
}

// The harness's own rules must not fire on words of the API's messages: a
// text that is part of "(value withheld: personal data)" is no echo.
TEST(RequestFuzzerTest, ARuleOfTheHarnessReadsDigitsNotWords) {
  EXPECT_EQ(RunBytes(MakeTextInput("text:personnummer", "0.rsonal dat")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunBytes(MakeTextInput("text:free", "value withheld")).code(),
            absl::StatusCode::kOk);
}

}  // namespace
}  // namespace slussen::fuzz
