// What every RPC handler does around its core call: find the request id and
// the caller's identity, admit the caller under its rate limit, log the call
// as one JSON line, and turn the core's absl::Status into a grpc::Status (the
// codes map one to one). Every service implementation derives from RpcEdge,
// whose RunRpc and Serve do this, so that no handler can skip a step.
//
//   class ReferralServiceImpl final : public v1::ReferralService::Service,
//                                     private RpcEdge { ... };
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
// Identity comes from one of two places, by how the call's connection was
// accepted (BrokerServer gives every port of a server the credentials of
// its one identity mode, see IdentityMode):
// - Mutual TLS (kClientCertificate): the verified client certificate's one
//   URI subject alternative name urn:slussen:<role>:<organisation> or
//   urn:slussen:<role>:<organisation>:<region>. Identity headers are
//   ignored; only the optional staff handle x-slussen-person is read.
//   Except from a gateway (urn:slussen:gateway:<name>, e.g. an HTTP
//   gateway for people): it acts on behalf of the caller its identity
//   headers name, by the rules of development mode, never for an admin or
//   another gateway; the Caller's `via` records the gateway's name.
// - Development (kDevelopmentMetadata, plaintext): request metadata
//   x-slussen-organisation, x-slussen-role (agency, provider, coordinator or
//   admin), x-slussen-region and the optional x-slussen-person. Anyone who
//   can reach the port can claim any identity, so the server refuses this
//   mode on a non-loopback address unless forced.
// All are validated by the same rules: organisation a slug id, role one of
// the four, region a län code (required for a coordinator). See README,
// Security.
//
// Rate limit. Once identified, a call takes a token of its organisation's
// bucket (rate_limiter.h); without one it is RESOURCE_EXHAUSTED saying
// the limit and when to retry, and its body does not run. The buckets are
// this broker's: across N replicas a caller may make N times the limit.
//
// Thread-safe: RpcScope is per call; the functions are pure; RpcEdge is
// thread-safe as its limiter is.
#ifndef SLUSSEN_BROKER_SERVICE_RPC_SCOPE_H_
#define SLUSSEN_BROKER_SERVICE_RPC_SCOPE_H_

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/ports/clock.h"
#include "broker/service/json_log.h"
#include "broker/service/rate_limiter.h"

namespace slussen::service {

inline constexpr char kRequestIdHeader[] = "x-request-id";
// On answers of services that date things (the directory): the broker's
// clock at the call, RFC 3339, so that a client dates relative to it (a
// catalogue's cohorts "in 21 days") as the broker will, testing clock
// included.
inline constexpr char kBrokerTimeHeader[] = "x-slussen-time";
inline constexpr char kOrganisationHeader[] = "x-slussen-organisation";
inline constexpr char kRoleHeader[] = "x-slussen-role";
inline constexpr char kRegionHeader[] = "x-slussen-region";
inline constexpr char kPersonHeader[] = "x-slussen-person";

// The URI prefix of a Slussen identity in a client certificate.
inline constexpr char kIdentityUriPrefix[] = "urn:slussen:";

enum class IdentityMode {
  // Callers name themselves in request metadata (plaintext, loopback).
  kDevelopmentMetadata,
  // Callers are named by their verified client certificates (mutual TLS).
  kClientCertificate,
};

// The grpc::Status of `status`: the same code and message, and a
// google.rpc.Status of code, message and one Any per payload as its binary
// error details, which gRPC sends in the trailer grpc-status-details-bin:
// always a google.rpc.ErrorInfo (domain "slussen.se"; the reason the error
// carries, core/model/field_error.h WithReason, else INVALID_FIELD for a field
// error and the code's name otherwise), a field error's BadRequest, and
// for UNAVAILABLE and RESOURCE_EXHAUSTED a RetryInfo (the error's own, else
// one second), and for FAILED_PRECONDITION a PreconditionFailure (type:
// the ErrorInfo reason; subject: the first resource name in the message;
// description: the message).
grpc::Status ToGrpcStatus(const absl::Status& status);

// The caller named by development-mode metadata; UNAUTHENTICATED naming the
// header that is missing or malformed.
absl::StatusOr<core::Caller> CallerFromMetadata(
    const std::multimap<std::string, std::string>& metadata);

// The caller named by the URI SANs `uris` of a verified client certificate
// whose subject is `subject` (for messages), with the staff handle from
// `metadata`'s x-slussen-person; every other identity header is ignored.
// UNAUTHENTICATED naming what is wrong: no urn:slussen: URI, more than one,
// or one that is malformed.
//
// A gateway's certificate (urn:slussen:gateway:<name>) names no caller of
// its own: the caller is the one `metadata` names as CallerFromMetadata
// reads it, with `via` the gateway's name. UNAUTHENTICATED when the headers
// name none, name a gateway, or break a rule; PERMISSION_DENIED for an
// admin, whom no gateway may act for.
absl::StatusOr<core::Caller> CallerFromCertificateNames(
    absl::string_view subject, const std::vector<std::string>& uris,
    const std::multimap<std::string, std::string>& metadata);

// CallerFromCertificateNames of the PEM certificate `pem`.
absl::StatusOr<core::Caller> CallerFromCertificate(
    absl::string_view pem,
    const std::multimap<std::string, std::string>& metadata);

// The identity mode a call's connection was accepted in, from its
// transport security type: "ssl" (mutual TLS) or "insecure" (development).
// UNAUTHENTICATED for anything else.
absl::StatusOr<IdentityMode> IdentityModeOf(
    const grpc::AuthContext& auth_context);

// A call's request id: `header` (the caller's x-request-id) when it is a
// valid one, else a new one.
std::string RequestIdFor(absl::string_view header);

// What is told of every call: for metrics (metrics.h).
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  // A call answered with `code` ("OK", "NOT_FOUND") after `took`, having
  // made `redis_round_trips` round trips to Redis on its thread (none
  // counted, nullopt, for a reactor's call, which moves between threads).
  virtual void OnCall(absl::string_view method, absl::string_view code,
                      absl::Duration took,
                      std::optional<int64_t> redis_round_trips) = 0;
  // A call the rate limit refused (also told as answered).
  virtual void OnRateLimited() = 0;
  // A call gRPC answered with `code` before any handler ran, so not told
  // as answered (refused_call_interceptor.h); `method` is "unknown" for
  // a method the API does not have.
  virtual void OnRefused(absl::string_view method, absl::string_view code) = 0;
};

// Counts a round trip to Redis made on the calling thread: BrokerServer
// calls it from RedisOptions::on_round_trip, which the pool calls on the
// thread that asked. A sync handler's RpcScope logs ("redis") and tells
// its observer how many its call made, however many stores it went
// through; work a call hands to another thread is not its own.
void CountRedisRoundTrip();

// One RPC: construct at the start of the handler, Finish at the end.
class RpcScope {
 public:
  // `context`: a sync handler's grpc::ServerContext or a reactor's
  // grpc::CallbackServerContext; it must outlive the scope, as must
  // `observer` (none if null), told of the call at Finish.
  RpcScope(grpc::ServerContextBase* context, absl::string_view method,
           CallObserver* observer = nullptr);

  // The caller, by the identity mode of the call's connection.
  absl::StatusOr<core::Caller> Identify();

  // Logs the call and converts `status`.
  grpc::Status Finish(const absl::Status& status);

  const std::string& request_id() const { return request_id_; }
  // The W3C trace id of the call's traceparent; empty without one.
  const std::string& trace_id() const { return trace_id_; }

 private:
  absl::StatusOr<core::Caller> Resolve() const;

  grpc::ServerContextBase* const context_;
  const std::string method_;
  CallObserver* const observer_;
  const absl::Time start_;
  // This thread's count of Redis round trips at the start (a sync
  // handler's call runs on one thread); nullopt for a reactor's.
  const std::optional<int64_t> redis_round_trips_at_start_;
  std::multimap<std::string, std::string> metadata_;
  std::string request_id_;
  std::string trace_id_;
  // The identified caller's organisation, and the gateway it called
  // through (empty if none), for the log line.
  std::string organisation_;
  std::string via_;
};

// What every service's calls share. All must outlive the services.
struct RpcEdgeOptions {
  // The rate limit per organisation; null: none.
  RateLimiter* limiter = nullptr;
  // If given, sent as kBrokerTimeHeader on every answer.
  const core::Clock* clock = nullptr;
  // If given and true, the server is draining before it stops: every call
  // is answered UNAVAILABLE at once (with RetryInfo), which clients retry
  // elsewhere, rather than cut off (CANCELLED) when the server stops.
  const std::atomic<bool>* draining = nullptr;
  // If given, told of every call (metrics).
  CallObserver* observer = nullptr;
};

// The base of every gRPC service implementation: its handlers run through
// RunRpc or Serve.
class RpcEdge {
 protected:
  explicit RpcEdge(const RpcEdgeOptions& options)
      : limiter_(options.limiter),
        clock_(options.clock),
        draining_(options.draining),
        observer_(options.observer) {}

  CallObserver* observer() const { return observer_; }

  // Runs `body(caller)`, an absl::Status, inside an RpcScope, once the
  // caller is identified and admitted.
  template <typename Body>
  grpc::Status RunRpc(grpc::ServerContext* context, absl::string_view method,
                      Body&& body) const {
    RpcScope scope(context, method, observer_);
    // Lines logged while the body runs on this thread carry its trace.
    const ScopedLogTrace trace(scope.trace_id());
    absl::StatusOr<core::Caller> caller = Admit(context, scope);
    if (!caller.ok()) return scope.Finish(caller.status());
    return scope.Finish(std::forward<Body>(body)(*caller));
  }

  // What RunRpc does before the body, for a handler that runs longer than
  // its call of RunRpc would (a streaming reactor): refuses every call
  // while draining, dates the answer, identifies the caller and takes its
  // rate-limit token.
  absl::StatusOr<core::Caller> Admit(grpc::ServerContextBase* context,
                                     RpcScope& scope) const;

  // Runs `call(caller)`, an absl::StatusOr<Response>, as RunRpc does and
  // moves its value into `*response`: the body of most handlers.
  template <typename Response, typename Call>
  grpc::Status Serve(grpc::ServerContext* context, absl::string_view method,
                     Response* response, Call&& call) const {
    return RunRpc(context, method,
                  [&](const core::Caller& caller) -> absl::Status {
                    absl::StatusOr<Response> result = call(caller);
                    if (!result.ok()) return result.status();
                    *response = *std::move(result);
                    return absl::OkStatus();
                  });
  }

 private:
  RateLimiter* const limiter_;
  const core::Clock* const clock_;
  const std::atomic<bool>* const draining_;
  CallObserver* const observer_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_RPC_SCOPE_H_
