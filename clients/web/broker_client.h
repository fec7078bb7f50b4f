// The gateway's way to the brokers: one gRPC channel to each, calls spread
// over those that are not failing, any RPC called by its path with the
// messages the descriptors describe.
//
// To a broker in development mode the channels are plaintext and the
// metadata names the caller. To a broker over mutual TLS the gateway
// presents its own certificate (URI SAN urn:slussen:gateway:<name>) and the
// same metadata names the caller it acts for (README, Security).
//
// Thread-safe.
#ifndef SLUSSEN_CLIENTS_WEB_BROKER_CLIENT_H_
#define SLUSSEN_CLIENTS_WEB_BROKER_CLIENT_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace slussen::web {

struct BrokerClientOptions {
  // "host:port" of each broker.
  std::vector<std::string> targets;
  // Mutual TLS to the brokers when set: the CA that signed their
  // certificates, and the gateway's own certificate and key.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Each unary call's deadline.
  absl::Duration timeout = absl::Seconds(10);
  int max_message_bytes = 1 << 20;
};

using Metadata = std::vector<std::pair<std::string, std::string>>;

class BrokerClient {
 public:
  // INVALID_ARGUMENT for no target, or a TLS file that cannot be read.
  static absl::StatusOr<std::unique_ptr<BrokerClient>> Create(
      const BrokerClientOptions& options);

  // Calls the unary RPC at `path` ("/slussen.v1.X/Y") with `request`,
  // filling `response` (a message of the method's output type). Returns the
  // call's status, its binary error details (grpc-status-details-bin)
  // included.
  grpc::Status Call(const std::string& path,
                    const google::protobuf::Message& request,
                    google::protobuf::Message* response,
                    const Metadata& metadata);

  // The same with the messages in their binary form, as the gateway
  // passes them on without parsing them.
  grpc::Status CallBinary(const std::string& path, const std::string& request,
                          std::string* response, const Metadata& metadata);

  // A channel to a broker that is not failing (the next in turn).
  std::shared_ptr<grpc::Channel> Channel();

  // Each broker's target and its health (grpc.health.v1, the whole
  // server), asked within `timeout`.
  std::vector<std::pair<std::string, absl::Status>> Health(
      absl::Duration timeout);

  absl::Duration timeout() const { return options_.timeout; }

 private:
  explicit BrokerClient(BrokerClientOptions options)
      : options_(std::move(options)) {}

  const BrokerClientOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::atomic<size_t> next_{0};
};

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_BROKER_CLIENT_H_
