// A unary gRPC call with a request of raw bytes, as no generated client
// can make one: a body that is not the method's message, a method no
// proto names, or a service whose protos Debian does not package (gRPC's
// channelz, which the library registers itself).
//
//   const RawAnswer answer = RawUnaryCall(
//       channel, "/slussen.v1.ReferralService/GetReferral", "\xff\xff");
//   EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::INTERNAL);
//
// Thread-safe: each call has its own context.
#ifndef SLUSSEN_TESTS_SUPPORT_RAW_CALL_H_
#define SLUSSEN_TESTS_SUPPORT_RAW_CALL_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace slussen::testing {

struct RawAnswer {
  grpc::Status status;
  // The answer's bytes (empty unless OK).
  std::string body;
  // The answer's initial metadata.
  std::multimap<std::string, std::string> initial_metadata;
};

// Calls `method` ("/package.Service/Method") over `channel` with `body` as
// the request's bytes and `metadata` as its headers.
RawAnswer RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& metadata = {},
    absl::Duration deadline = absl::Seconds(10));

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_RAW_CALL_H_
