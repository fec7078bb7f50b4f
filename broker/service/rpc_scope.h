// What every RPC handler does around its core call: find the request id and
// the caller's identity, log the call as one JSON line, and turn the core's
// absl::Status into a grpc::Status (the codes map one to one).
//
//   grpc::Status Create(grpc::ServerContext* context, const Req* request,
//                       Referral* response) override {
//     return RunRpc(context, "CreateReferral",
//                   [&](const core::Caller& caller) -> absl::Status {
//                     ASSIGN_OR_RETURN(*response,
//                                      desk_->CreateReferral(caller,
//                                      *request));
//                     return absl::OkStatus();
//                   });
//   }
//
// Identity. In development mode (the only one of this slice) the caller is
// taken from request metadata: x-slussen-organisation, x-slussen-role
// (agency, provider, coordinator or admin), x-slussen-region and the
// optional x-slussen-person. Anyone who can reach the port can claim any
// identity, so the server refuses development identity on a non-loopback
// address unless forced. Mutual TLS replaces it (see README, Security).
//
// Thread-safe: RpcScope is per call; the functions are pure.
#ifndef SLUSSEN_BROKER_SERVICE_RPC_SCOPE_H_
#define SLUSSEN_BROKER_SERVICE_RPC_SCOPE_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/core/caller.h"

namespace slussen::service {

inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kOrganisationHeader[] = "x-slussen-organisation";
inline constexpr char kRoleHeader[] = "x-slussen-role";
inline constexpr char kRegionHeader[] = "x-slussen-region";
inline constexpr char kPersonHeader[] = "x-slussen-person";

grpc::Status ToGrpcStatus(const absl::Status& status);

// The caller named by development-mode metadata; UNAUTHENTICATED naming the
// header that is missing or malformed.
absl::StatusOr<core::Caller> CallerFromMetadata(
    const std::multimap<std::string, std::string>& metadata);

// One RPC: construct at the start of the handler, Finish at the end.
class RpcScope {
 public:
  RpcScope(grpc::ServerContext* context, absl::string_view method);

  absl::StatusOr<core::Caller> Identify() const;

  // Logs the call and converts `status`.
  grpc::Status Finish(const absl::Status& status);

  const std::string& request_id() const { return request_id_; }

 private:
  grpc::ServerContext* const context_;
  const std::string method_;
  const absl::Time start_;
  std::multimap<std::string, std::string> metadata_;
  std::string request_id_;
};

// Runs `body(caller)` inside an RpcScope.
template <typename Body>
grpc::Status RunRpc(grpc::ServerContext* context, absl::string_view method,
                    Body&& body) {
  RpcScope scope(context, method);
  absl::StatusOr<core::Caller> caller = scope.Identify();
  if (!caller.ok()) return scope.Finish(caller.status());
  return scope.Finish(std::forward<Body>(body)(*caller));
}

// Runs `call(caller)`, an absl::StatusOr<Response>, inside an RpcScope and
// moves its value into `*response`: the body of most handlers.
template <typename Response, typename Call>
grpc::Status Serve(grpc::ServerContext* context, absl::string_view method,
                   Response* response, Call&& call) {
  return RunRpc(context, method,
                [&](const core::Caller& caller) -> absl::Status {
                  absl::StatusOr<Response> result = call(caller);
                  if (!result.ok()) return result.status();
                  *response = *std::move(result);
                  return absl::OkStatus();
                });
}

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_RPC_SCOPE_H_
