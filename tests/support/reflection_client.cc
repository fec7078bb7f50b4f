#include "tests/support/reflection_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/unknown_field_set.h"

namespace slussen::testing {
namespace {

using ::google::protobuf::UnknownField;
using ::google::protobuf::UnknownFieldSet;

// ServerReflectionResponse.list_services_response = 6;
// ListServiceResponse.service = 1; ServiceResponse.name = 1.
absl::StatusOr<std::set<std::string>> ServiceNames(const std::string& bytes) {
  std::set<std::string> names;
  UnknownFieldSet response;
  if (!response.ParseFromString(bytes)) {
    return absl::DataLossError("the reflection answer does not parse");
  }
  for (int i = 0; i < response.field_count(); ++i) {
    const UnknownField& list = response.field(i);
    if (list.number() != 6 ||
        list.type() != UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    UnknownFieldSet services;
    if (!services.ParseFromString(list.length_delimited())) {
      return absl::DataLossError("list_services_response does not parse");
    }
    for (int j = 0; j < services.field_count(); ++j) {
      UnknownFieldSet service;
      if (!service.ParseFromString(services.field(j).length_delimited())) {
        return absl::DataLossError("a service entry does not parse");
      }
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) {
          names.insert(service.field(k).length_delimited());
        }
      }
    }
  }
  return names;
}

}  // namespace

absl::StatusOr<std::set<std::string>> ReflectedServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::CompletionQueue queue;
  void* tag;
  bool ok = false;
  // Each step waits for its own tag: the queue holds one operation at once.
  const auto step = [&](absl::string_view what) -> absl::Status {
    if (!queue.Next(&tag, &ok) || !ok) {
      return absl::UnavailableError(absl::StrCat("reflection: ", what));
    }
    return absl::OkStatus();
  };
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  call->StartCall(reinterpret_cast<void*>(1));
  absl::Status status = step("start");
  grpc::ByteBuffer answer;
  if (status.ok()) {
    // ServerReflectionRequest.list_services = 7, an empty string.
    const std::string request("\x3a\x00", 2);
    grpc::Slice slice(request);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    status = step("write");
  }
  if (status.ok()) {
    call->WritesDone(reinterpret_cast<void*>(3));
    status = step("writes done");
  }
  if (status.ok()) {
    call->Read(&answer, reinterpret_cast<void*>(4));
    status = step("read");
  }
  grpc::Status finished;
  call->Finish(&finished, reinterpret_cast<void*>(5));
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!finished.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(finished.error_code()),
                        finished.error_message());
  }
  if (!status.ok()) return status;
  std::vector<grpc::Slice> slices;
  if (!answer.Dump(&slices).ok()) {
    return absl::DataLossError("reflection: the answer cannot be read");
  }
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return ServiceNames(bytes);
}

}  // namespace slussen::testing
