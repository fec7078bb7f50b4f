#include "clients/web/broker_client.h"

#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace slussen::web {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " \"", path, "\" cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BrokerClient>> BrokerClient::Create(
    const BrokerClientOptions& options) {
  if (options.targets.empty()) {
    return absl::InvalidArgumentError("--brokers names no broker");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  const bool tls = !options.ca_file.empty() || !options.cert_file.empty() ||
                   !options.key_file.empty();
  if (tls) {
    if (options.ca_file.empty() || options.cert_file.empty() ||
        options.key_file.empty()) {
      return absl::InvalidArgumentError(
          "mutual TLS to the brokers needs all of --broker_ca_file, "
          "--broker_cert_file and --broker_key_file");
    }
    grpc::SslCredentialsOptions ssl;
    auto ca = ReadFile("--broker_ca_file", options.ca_file);
    if (!ca.ok()) return ca.status();
    auto cert = ReadFile("--broker_cert_file", options.cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadFile("--broker_key_file", options.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_root_certs = *ca;
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
    credentials = grpc::SslCredentials(ssl);
  }
  std::unique_ptr<BrokerClient> client(new BrokerClient(options));
  for (const std::string& target : options.targets) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(options.max_message_bytes);
    arguments.SetMaxSendMessageSize(options.max_message_bytes);
    // Each channel its own connection, so that the brokers share the load.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    client->channels_.push_back(
        grpc::CreateCustomChannel(target, credentials, arguments));
  }
  return client;
}

std::shared_ptr<grpc::Channel> BrokerClient::Channel() {
  const size_t n = channels_.size();
  const size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    const std::shared_ptr<grpc::Channel>& channel = channels_[(start + i) % n];
    if (channel->GetState(/*try_to_connect=*/true) !=
        GRPC_CHANNEL_TRANSIENT_FAILURE) {
      return channel;
    }
  }
  // Every broker failing: the call says so with UNAVAILABLE.
  return channels_[start % n];
}

namespace {

// The blocking call the generated stubs make, by path: on this thread,
// without the hand-over to gRPC's callback threads and back that
// GenericStub::UnaryCall costs (a third of a call's time through the
// gateway, BENCHMARKS.md).
template <typename Request, typename Response>
grpc::Status BlockingCall(grpc::Channel* channel, const std::string& path,
                          absl::Duration timeout, const Metadata& metadata,
                          const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  return grpc::internal::BlockingUnaryCall<Request, Response>(
      channel,
      grpc::internal::RpcMethod(path.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &context, request, response);
}

}  // namespace

grpc::Status BrokerClient::Call(const std::string& path,
                                const google::protobuf::Message& request,
                                google::protobuf::Message* response,
                                const Metadata& metadata) {
  return BlockingCall(Channel().get(), path, options_.timeout, metadata,
                      request, response);
}

grpc::Status BrokerClient::CallBinary(const std::string& path,
                                      const std::string& request,
                                      std::string* response,
                                      const Metadata& metadata) {
  grpc::Slice slice(request);
  const grpc::ByteBuffer sent(&slice, 1);
  grpc::ByteBuffer received;
  grpc::Status status = BlockingCall(Channel().get(), path, options_.timeout,
                                     metadata, sent, &received);
  response->clear();
  std::vector<grpc::Slice> slices;
  if (status.ok() && received.Dump(&slices).ok()) {
    for (const grpc::Slice& part : slices) {
      response->append(reinterpret_cast<const char*>(part.begin()),
                       part.size());
    }
  }
  return status;
}

std::vector<std::pair<std::string, absl::Status>> BrokerClient::Health(
    absl::Duration timeout) {
  std::vector<std::pair<std::string, absl::Status>> health;
  for (size_t i = 0; i < channels_.size(); ++i) {
    grpc::health::v1::Health::Stub stub(channels_[i]);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub.Check(&context, request, &response);
    absl::Status outcome;
    if (!status.ok()) {
      outcome = absl::UnavailableError(status.error_message());
    } else if (response.status() !=
               grpc::health::v1::HealthCheckResponse::SERVING) {
      outcome = absl::UnavailableError("not serving");
    }
    health.emplace_back(options_.targets[i], outcome);
  }
  return health;
}

}  // namespace slussen::web
