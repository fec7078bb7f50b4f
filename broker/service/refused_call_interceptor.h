// Calls gRPC answers before any handler of the broker runs, made visible:
// a request body that does not parse as the method's request (gRPC answers
// INTERNAL, or UNIMPLEMENTED for a streaming method, both without a
// message) or a method the server does not serve (UNIMPLEMENTED). RpcScope
// logs and counts every call a handler takes; these it never sees.
//
// A server interceptor sees every call of the server it is registered
// with. A call that RpcScope took up carries its mark when it answers: the
// x-request-id RpcScope puts in the initial metadata of every answer. A
// call of the broker's API answered without it is refused: told to the
// observer (CallObserver::OnRefused, the metric
// slussen_rpc_refused_before_handler_total) and logged as an "rpc refused"
// line, and answered with a request id as every other call is (the
// caller's x-request-id if valid, else a new one), so that the caller can
// find the line.
//
// Calls of gRPC's own services (health, reflection, channelz: paths under
// "/grpc.") are answered by gRPC's handlers and left alone. A message
// larger than the server's limit is refused by gRPC's core before any
// interceptor sees the call (the caller gets RESOURCE_EXHAUSTED): it is
// neither counted nor logged (gRPC 1.51, as tried before this was
// written; tests/e2e/invalid_requests_e2e_test.cc pins the refusal).
//
//   std::vector<std::unique_ptr<
//       grpc::experimental::ServerInterceptorFactoryInterface>> creators;
//   creators.push_back(std::make_unique<RefusedCallInterceptorFactory>(
//       metrics));
//   builder.experimental().SetInterceptorCreators(std::move(creators));
//
// Thread-safe: the factory is; each interceptor belongs to one call, whose
// hooks gRPC runs one after another.
#ifndef SLUSSEN_BROKER_SERVICE_REFUSED_CALL_INTERCEPTOR_H_
#define SLUSSEN_BROKER_SERVICE_REFUSED_CALL_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <string>

#include "absl/strings/string_view.h"
#include "broker/service/rpc_scope.h"

namespace slussen::service {

// The method label of a call's path ("/slussen.v1.ReferralService/
// CreateReferral"): the method's name as the handlers name it
// ("CreateReferral") when the broker's API has the method, else
// "unknown" (a path a caller made up must not make a new series).
std::string RefusedMethodLabel(absl::string_view path);

class RefusedCallInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `observer` must outlive the server.
  explicit RefusedCallInterceptorFactory(CallObserver* observer)
      : observer_(observer) {}

  // An interceptor for a call of the broker's API; null (none) for a call
  // of gRPC's own services.
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallObserver* const observer_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_REFUSED_CALL_INTERCEPTOR_H_
