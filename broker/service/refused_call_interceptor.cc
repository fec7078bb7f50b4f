#include "broker/service/refused_call_interceptor.h"

#include <google/protobuf/descriptor.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/service/json_log.h"

namespace slussen::service {
namespace {

namespace hooks = grpc::experimental;
using Hook = grpc::experimental::InterceptionHookPoints;

// The longest path logged: a caller chooses it.
constexpr size_t kMaxLoggedPath = 200;

// The method of the broker's API at `path`, or null.
const google::protobuf::MethodDescriptor* ApiMethod(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "/slussen.")) return nullptr;
  // "/slussen.v1.ReferralService/CreateReferral" is the method
  // "slussen.v1.ReferralService.CreateReferral".
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrCat("slussen.", absl::StrReplaceAll(path, {{"/", "."}})));
}

// The value of `key` in the caller's metadata; empty without one.
std::string Received(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    absl::string_view key) {
  const auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end()
             ? std::string()
             : std::string(it->second.data(), it->second.size());
}

// One call of the broker's API, watched for whether a handler answered it.
class RefusedCallInterceptor final : public hooks::Interceptor {
 public:
  RefusedCallInterceptor(std::string path, CallObserver* observer)
      : path_(std::move(path)), observer_(observer), start_(absl::Now()) {}

  void Intercept(hooks::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_INITIAL_METADATA)) {
      // Kept as sent: only a refused call needs them checked (most calls
      // reach their handler, whose RpcScope does that).
      const auto* metadata = methods->GetRecvInitialMetadata();
      received_request_id_ = Received(*metadata, kRequestIdHeader);
      traceparent_ = Received(*metadata, kTraceparentHeader);
    }
    if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsed_ = true;  // gRPC could not parse the body: no handler runs
    }
    // In the batch that sends the status, or an earlier one.
    if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* sent =
          methods->GetSendInitialMetadata();
      handled_ = sent->count(kRequestIdHeader) > 0;  // RpcScope's mark
      if (!handled_) sent->emplace(kRequestIdHeader, RequestId());
    }
    if (methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS) &&
        !handled_) {
      Refused(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  const std::string& RequestId() {
    if (request_id_.empty()) request_id_ = RequestIdFor(received_request_id_);
    return request_id_;
  }

  void Refused(const grpc::Status& status) {
    const std::string method = RefusedMethodLabel(path_);
    const std::string code = absl::StatusCodeToString(
        static_cast<absl::StatusCode>(status.error_code()));
    if (observer_ != nullptr) observer_->OnRefused(method, code);
    std::string error = status.error_message();
    if (unparsed_) {
      const google::protobuf::MethodDescriptor* api = ApiMethod(path_);
      error = absl::StrCat(
          "the request body does not parse as ",
          api != nullptr ? api->input_type()->full_name() : "its request",
          ": refused by gRPC before any handler ran");
    } else if (error.empty()) {
      error = "refused by gRPC before any handler ran";
    }
    Log(LogLevel::kWarning, "rpc refused",
        {{"method", method},
         {"path", absl::string_view(path_).substr(0, kMaxLoggedPath)},
         {"request_id", RequestId()},
         {"trace_id", TraceIdOf(traceparent_)},
         {"code", code},
         {"ms", absl::ToDoubleMilliseconds(absl::Now() - start_)},
         {"error", error}});
  }

  const std::string path_;
  CallObserver* const observer_;
  const absl::Time start_;
  // The caller's x-request-id and traceparent headers, unchecked.
  std::string received_request_id_;
  std::string traceparent_;
  // The request id answered (the caller's if valid), once made.
  std::string request_id_;
  bool unparsed_ = false;
  bool handled_ = false;
};

}  // namespace

std::string RefusedMethodLabel(absl::string_view path) {
  const google::protobuf::MethodDescriptor* method = ApiMethod(path);
  return method != nullptr ? method->name() : "unknown";
}

hooks::Interceptor* RefusedCallInterceptorFactory::CreateServerInterceptor(
    hooks::ServerRpcInfo* info) {
  const absl::string_view path =
      info->method() != nullptr ? info->method() : "";
  if (absl::StartsWith(path, "/grpc.")) return nullptr;  // gRPC's own
  return new RefusedCallInterceptor(std::string(path), observer_);
}

}  // namespace slussen::service
