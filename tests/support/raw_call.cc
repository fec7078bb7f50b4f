#include "tests/support/raw_call.h"

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace slussen::testing {

RawAnswer RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& metadata,
    absl::Duration deadline) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  grpc::Slice slice(body);
  const grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  RawAnswer answer;
  absl::Notification done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   answer.status = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  for (const auto& [key, value] : context.GetServerInitialMetadata()) {
    answer.initial_metadata.emplace(std::string(key.data(), key.size()),
                                    std::string(value.data(), value.size()));
  }
  std::vector<grpc::Slice> slices;
  if (answer.status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      answer.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return answer;
}

}  // namespace slussen::testing
