// The request fuzzer's seed corpus: for each kind of input, a few valid
// ones (and some the API refuses for a reason worth starting from), made
// in code from the sample referrals and the fuzz world's names, so that
// they follow the protos as they change. `./dev fuzz` writes them to files
// (write_seeds.cc); request_fuzzer_test.cc replays them with the outcome
// each should have.
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_TESTS_FUZZ_SEED_INPUTS_H_
#define SLUSSEN_TESTS_FUZZ_SEED_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace slussen::fuzz {

struct Seed {
  // "CreateReferral-impulse": the kind, and what this one is.
  std::string name;
  // An input of request_fuzzer.h's form.
  std::string input;
  // What running it gives.
  absl::StatusCode expected = absl::StatusCode::kOk;
};

std::vector<Seed> SeedInputs();

}  // namespace slussen::fuzz

#endif  // SLUSSEN_TESTS_FUZZ_SEED_INPUTS_H_
