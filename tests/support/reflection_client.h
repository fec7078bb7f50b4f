// Asks a server's gRPC reflection (grpc.reflection.v1alpha, the version
// gRPC 1.51 serves) which services it serves, over any channel.
//
//   absl::StatusOr<std::set<std::string>> services =
//       ReflectedServices(harness->channel());
//
// The reflection protos are not packaged on Debian (and the library
// registers them itself), so the request and answer are encoded by field
// number. Thread-safe: each call uses its own completion queue.
#ifndef SLUSSEN_TESTS_SUPPORT_REFLECTION_CLIENT_H_
#define SLUSSEN_TESTS_SUPPORT_REFLECTION_CLIENT_H_

#include <grpcpp/channel.h>

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace slussen::testing {

// The names of the services `channel`'s server lists.
absl::StatusOr<std::set<std::string>> ReflectedServices(
    const std::shared_ptr<grpc::Channel>& channel);

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_REFLECTION_CLIENT_H_
