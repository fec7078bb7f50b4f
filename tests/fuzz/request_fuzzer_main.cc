// The libFuzzer entry point (./dev fuzz): request_fuzzer.h says what an
// input is and which rules it checks.
#include <cstddef>
#include <cstdint>

#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/request_fuzzer.h"

// Inputs that do not parse are many; protobuf need not say so each time.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)slussen::fuzz::RunInput(data, size);
  return 0;
}
