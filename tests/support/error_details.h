// What a refusal's google.rpc details say, for tests that check that a
// program can read the field it names.
//
//   EXPECT_THAT(ViolatedFields(status), ElementsAre("referral.joint"));
//
// Thread-safe: pure functions (gtest expectations are thread-safe).
#ifndef SLUSSEN_TESTS_SUPPORT_ERROR_DETAILS_H_
#define SLUSSEN_TESTS_SUPPORT_ERROR_DETAILS_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"

namespace slussen::testing {

// The field violations of every google.rpc.BadRequest in `status`'s
// details; a test expectation fails when the details do not parse or a
// BadRequest does not unpack.
std::vector<google::rpc::BadRequest::FieldViolation> FieldViolationsOf(
    const grpc::Status& status);

// Their field paths, in order.
std::vector<std::string> ViolatedFields(const grpc::Status& status);

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_ERROR_DETAILS_H_
