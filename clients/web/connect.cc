#include "clients/web/connect.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/type.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "broker/service/json_log.h"
#include "clients/web/proto_json.h"
#include "google/rpc/status.pb.h"

namespace slussen::web {
namespace {

namespace pb = ::google::protobuf;
using service::JsonString;

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// Each type resolved once, for protobuf's JSON converters: the request
// bodies and answers proto_json.h leaves to protobuf. Protobuf's resolver
// over a descriptor pool builds a google.protobuf.Type from the
// descriptors on every call, and the converters ask again for every
// message type a message holds on every conversion: that was about a
// seventh of the gateway's CPU under GetReferral (BENCHMARKS.md). The
// converters copy each type they are given, so the cached ones leave out
// the options of fields and enum values (the API's annotations,
// field_behavior and the like, each an Any), which JSON does not use; a
// message's own options (map_entry) stay. The pool is the generated one,
// fixed at build, so the cache is bounded by the API; a type not found (a
// caller's Any of an unknown type) is not kept. web_proto_json_test's wild
// messages reach it through BinaryToJson, checked against protobuf's own
// resolver.
class CachingTypeResolver final : public pb::util::TypeResolver {
 public:
  explicit CachingTypeResolver(std::unique_ptr<pb::util::TypeResolver> inner)
      : inner_(std::move(inner)) {}

  pb::util::Status ResolveMessageType(const std::string& type_url,
                                      pb::Type* type) override {
    return Resolve(type_url, type, [&](pb::Type* resolved) {
      return inner_->ResolveMessageType(type_url, resolved);
    });
  }

  pb::util::Status ResolveEnumType(const std::string& type_url,
                                   pb::Enum* enum_type) override {
    return Resolve(type_url, enum_type, [&](pb::Enum* resolved) {
      return inner_->ResolveEnumType(type_url, resolved);
    });
  }

 private:
  template <typename T, typename ResolveInner>
  pb::util::Status Resolve(const std::string& type_url, T* out,
                           ResolveInner resolve_inner) {
    {
      absl::ReaderMutexLock lock(&mu_);
      const auto& cache = CacheOf(out);
      const auto it = cache.find(type_url);
      if (it != cache.end()) {
        *out = it->second;
        return pb::util::Status();
      }
    }
    T resolved;
    pb::util::Status status = resolve_inner(&resolved);
    if (!status.ok()) return status;
    LeaveOutOptions(resolved);
    absl::MutexLock lock(&mu_);
    *out =
        CacheOf(out).try_emplace(type_url, std::move(resolved)).first->second;
    return status;
  }

  // The options of its fields (of its values), which JSON does not use.
  static void LeaveOutOptions(pb::Type& type) {
    for (pb::Field& field : *type.mutable_fields()) field.clear_options();
  }
  static void LeaveOutOptions(pb::Enum& enum_type) {
    for (pb::EnumValue& value : *enum_type.mutable_enumvalue()) {
      value.clear_options();
    }
  }

  // The cache of `T`s (the argument only picks the overload).
  absl::flat_hash_map<std::string, pb::Type>& CacheOf(const pb::Type*)
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return messages_;
  }
  absl::flat_hash_map<std::string, pb::Enum>& CacheOf(const pb::Enum*)
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return enums_;
  }

  const std::unique_ptr<pb::util::TypeResolver> inner_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, pb::Type> messages_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, pb::Enum> enums_ ABSL_GUARDED_BY(mu_);
};

// The generated pool's types, as the JSON converters ask for them.
pb::util::TypeResolver* Resolver() {
  static pb::util::TypeResolver* resolver =
      new CachingTypeResolver(std::unique_ptr<pb::util::TypeResolver>(
          pb::util::NewTypeResolverForDescriptorPool(
              "type.googleapis.com", pb::DescriptorPool::generated_pool())));
  return resolver;
}

std::string TypeUrlOf(const pb::Descriptor& descriptor) {
  return absl::StrCat(kTypeUrlPrefix, descriptor.full_name());
}

// One detail of a Connect error: the Any's type without its prefix, the
// value in base64 without padding (as Connect writes it), and its JSON
// when the type is known here.
std::string DetailJson(const pb::Any& any) {
  std::string type(any.type_url());
  if (const size_t slash = type.rfind('/'); slash != std::string::npos) {
    type = type.substr(slash + 1);
  }
  std::string value = absl::Base64Escape(any.value());
  while (!value.empty() && value.back() == '=') value.pop_back();
  std::string json = absl::StrCat("{\"type\":", JsonString(type),
                                  ",\"value\":", JsonString(value));
  const pb::Descriptor* descriptor =
      pb::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (descriptor != nullptr) {
    std::unique_ptr<pb::Message> detail = NewMessage(*descriptor);
    std::string debug;
    if (detail->ParseFromString(any.value()) &&
        pb::util::MessageToJsonString(*detail, &debug).ok()) {
      absl::StrAppend(&json, ",\"debug\":", debug);
    }
  }
  absl::StrAppend(&json, "}");
  return json;
}

std::string ErrorBody(absl::StatusCode code, absl::string_view message,
                      const std::vector<pb::Any>& details) {
  std::string body =
      absl::StrCat("{\"code\":", JsonString(ConnectCodeName(code)),
                   ",\"message\":", JsonString(message));
  if (!details.empty()) {
    absl::StrAppend(&body, ",\"details\":[");
    for (size_t i = 0; i < details.size(); ++i) {
      absl::StrAppend(&body, i == 0 ? "" : ",", DetailJson(details[i]));
    }
    absl::StrAppend(&body, "]");
  }
  absl::StrAppend(&body, "}");
  return body;
}

// Protobuf's parser, for what ReadJson leaves to it, and its error.
absl::StatusOr<std::string> ProtobufJsonToBinary(
    const pb::Descriptor& descriptor, absl::string_view json) {
  if (absl::StripAsciiWhitespace(json).empty()) return std::string();
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string binary;
  const auto status = pb::util::JsonToBinaryString(
      Resolver(), TypeUrlOf(descriptor),
      pb::StringPiece(json.data(), json.size()), &binary, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request body is not valid JSON for ", descriptor.full_name(), ": ",
        std::string(status.message())));
  }
  return binary;
}

// Protobuf's printer, for what AppendJson leaves to it.
absl::StatusOr<std::string> ProtobufBinaryToJson(
    const pb::Descriptor& descriptor, const std::string& binary) {
  std::string json;
  const auto status =
      pb::util::BinaryToJsonString(Resolver(), TypeUrlOf(descriptor), binary,
                                   &json, pb::util::JsonPrintOptions());
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("the answer is not a valid ",
                                            descriptor.full_name(), ": ",
                                            std::string(status.message())));
  }
  return json;
}

}  // namespace

MethodTable MethodTable::FromGeneratedFiles(
    const std::vector<std::string>& files) {
  MethodTable table;
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  for (const std::string& name : files) {
    const pb::FileDescriptor* file = pool->FindFileByName(name);
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const pb::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const pb::MethodDescriptor* method = service->method(m);
        if (method->client_streaming() || method->server_streaming()) continue;
        table.by_path_.emplace(PathOf(*method), method);
      }
    }
  }
  return table;
}

std::vector<std::string> ApiServiceFiles() {
  // The build lists every protos/slussen/v1/*_service.proto here (see
  // clients/web/CMakeLists.txt), so a new service file needs no code.
  return absl::StrSplit(SLUSSEN_API_SERVICE_FILES, ',', absl::SkipEmpty());
}

const pb::MethodDescriptor* MethodTable::Find(absl::string_view path) const {
  const auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

std::vector<const pb::MethodDescriptor*> MethodTable::methods() const {
  std::vector<const pb::MethodDescriptor*> methods;
  methods.reserve(by_path_.size());
  for (const auto& [path, method] : by_path_) methods.push_back(method);
  return methods;
}

std::string PathOf(const pb::MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

std::unique_ptr<pb::Message> NewMessage(const pb::Descriptor& descriptor) {
  const pb::Message* prototype =
      pb::MessageFactory::generated_factory()->GetPrototype(&descriptor);
  return std::unique_ptr<pb::Message>(prototype->New());
}

// Each of these reads or writes by proto_json.h where it can, a fraction
// of protobuf's cost, and hands the rest to protobuf's converters once:
// every error in a request comes in protobuf's words.

absl::StatusOr<std::string> JsonToBinary(const pb::Descriptor& descriptor,
                                         absl::string_view json) {
  if (const std::unique_ptr<pb::Message> message = NewMessage(descriptor);
      ReadJson(json, message.get())) {
    return message->SerializeAsString();
  }
  return ProtobufJsonToBinary(descriptor, json);
}

absl::StatusOr<std::string> BinaryToJson(const pb::Descriptor& descriptor,
                                         const std::string& binary) {
  const std::unique_ptr<pb::Message> message = NewMessage(descriptor);
  if (std::string json;
      message->ParseFromString(binary) && AppendJson(*message, &json)) {
    return json;
  }
  return ProtobufBinaryToJson(descriptor, binary);
}

absl::StatusOr<std::unique_ptr<pb::Message>> ParseJson(
    const pb::Descriptor& descriptor, absl::string_view json) {
  std::unique_ptr<pb::Message> message = NewMessage(descriptor);
  if (ReadJson(json, message.get())) return message;
  absl::StatusOr<std::string> binary = ProtobufJsonToBinary(descriptor, json);
  if (!binary.ok()) return binary.status();
  if (!message->ParseFromString(*binary)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request body is not valid JSON for ", descriptor.full_name()));
  }
  return message;
}

std::string ToJson(const pb::Message& message) {
  if (std::string json; AppendJson(message, &json)) return json;
  absl::StatusOr<std::string> json = ProtobufBinaryToJson(
      *message.GetDescriptor(), message.SerializeAsString());
  // Only an Any of an unknown type can fail; the API has none.
  return json.ok() ? *std::move(json) : "{}";
}

std::string ConnectCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "ok";
    case absl::StatusCode::kCancelled:
      return "canceled";
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kAlreadyExists:
      return "already_exists";
    case absl::StatusCode::kPermissionDenied:
      return "permission_denied";
    case absl::StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case absl::StatusCode::kAborted:
      return "aborted";
    case absl::StatusCode::kOutOfRange:
      return "out_of_range";
    case absl::StatusCode::kUnimplemented:
      return "unimplemented";
    case absl::StatusCode::kInternal:
      return "internal";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    case absl::StatusCode::kDataLoss:
      return "data_loss";
    case absl::StatusCode::kUnauthenticated:
      return "unauthenticated";
    default:
      return "unknown";
  }
}

int HttpStatusOf(absl::StatusCode code) {
  // The Connect protocol's table of error codes to HTTP statuses.
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

ConnectError ConnectErrorOf(absl::StatusCode code, absl::string_view message,
                            absl::string_view details) {
  std::vector<pb::Any> anys;
  google::rpc::Status status;
  if (!details.empty() &&
      status.ParseFromArray(details.data(), static_cast<int>(details.size()))) {
    anys.assign(status.details().begin(), status.details().end());
  }
  return {HttpStatusOf(code), ErrorBody(code, message, anys)};
}

ConnectError ConnectErrorOf(const absl::Status& status) {
  std::vector<pb::Any> anys;
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& value) {
        pb::Any any;
        any.set_type_url(std::string(type_url));
        any.set_value(std::string(value));
        anys.push_back(std::move(any));
      });
  return {HttpStatusOf(status.code()),
          ErrorBody(status.code(), status.message(), anys)};
}

}  // namespace slussen::web
