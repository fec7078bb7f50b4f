// The request fuzzer's body: one input decoded as an API request and run
// through the validation and core logic the service runs, with no Redis and
// no network. Shared by the libFuzzer target (request_fuzzer_main.cc, built
// with clang and ASan/UBSan by ./dev fuzz) and a unit test that replays the
// seeds and past findings in the ordinary build.
//
// An input is [kind][caller][bytes...]:
//   kind    picks, modulo the number of kinds, what the bytes are: one of
//           the request messages of protos/slussen/v1/*_service.proto (run
//           through the desk its handler calls, in a fresh World), a
//           message the core reads as data (priority policy, eligibility
//           rules), or plain text for the parsers (names, page and resume
//           tokens, personnummer, free text);
//   caller  picks, modulo 4, who sends a request: an agency, a provider, a
//           coordinator or an admin (fuzz_world.h);
//   bytes   a serialized message (ParseFromArray; inputs that do not parse
//           are dropped, as gRPC drops them) or the text.
// New kinds go at the end, so that existing inputs keep their meaning.
//
// Besides crashes and sanitizer reports, RunInput aborts when the outcome
// breaks a rule of the API: an error that is INTERNAL or UNKNOWN, has no
// message or an overlong one, or that left anything written; and a
// personnummer the parser accepts that the free-text check would miss.
//
// Not thread-safe.
#ifndef SLUSSEN_TESTS_FUZZ_REQUEST_FUZZER_H_
#define SLUSSEN_TESTS_FUZZ_REQUEST_FUZZER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace slussen::fuzz {

// Runs one input. The status of what ran (OK for an input that does not
// parse), for tests; a broken rule aborts.
absl::Status RunInput(const uint8_t* data, size_t size);

// The kinds' names, in kind order ("CreateReferral", ..., "text:names").
std::vector<std::string> KindNames();

// An input of kind `kind` (a name of KindNames()) from `caller` (0..3)
// with `message` serialized, or `text`.
std::string MakeInput(absl::string_view kind, int caller,
                      const google::protobuf::Message& message);
std::string MakeTextInput(absl::string_view kind, absl::string_view text);

}  // namespace slussen::fuzz

#endif  // SLUSSEN_TESTS_FUZZ_REQUEST_FUZZER_H_
