// bare_http_relay: the least any HTTP front door to the broker can cost, to
// measure slussen-web against (web_bench's BM_GetImpulseThroughBareRelay,
// BENCHMARKS.md). cpp-httplib with a thread a connection and TCP_NODELAY,
// and the gateway's own blocking gRPC call (BrokerClient::CallBinary), as
// slussen-web has them; between them nothing: the body is the request's
// binary protobuf, passed on with the x-slussen-* headers as metadata, and
// the broker's binary answer goes back as it came. No JSON, sign-in,
// session, CSRF check, log line or metrics.
//
//   bare_http_relay --port=8090 --broker=127.0.0.1:50051
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "clients/web/broker_client.h"

ABSL_FLAG(int, port, 8090, "TCP port to listen on, on 127.0.0.1");
ABSL_FLAG(std::string, broker, "", "the broker's host:port (plaintext)");

namespace {

// A thread for each connection, as slussen-web runs cpp-httplib: its pool's
// default of 8 threads would leave kept-alive clients past 8 waiting.
class ThreadPerConnection final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override {
    std::thread(std::move(fn)).detach();
  }
  void shutdown() override {}
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  slussen::web::BrokerClientOptions options;
  options.targets = {absl::GetFlag(FLAGS_broker)};
  auto broker = slussen::web::BrokerClient::Create(options);
  if (!broker.ok()) {
    fprintf(stderr, "bare_http_relay: %s\n",
            std::string(broker.status().message()).c_str());
    return 2;
  }
  httplib::Server server;
  server.new_task_queue = [] { return new ThreadPerConnection; };
  server.set_keep_alive_timeout(30);
  server.set_keep_alive_max_count(100000);
  server.set_tcp_nodelay(true);
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
    slussen::web::Metadata metadata;
    for (const auto& [name, value] : req.headers) {
      if (absl::StartsWith(name, "x-slussen-")) {
        metadata.emplace_back(name, value);
      }
    }
    std::string answer;
    const grpc::Status status =
        (*broker)->CallBinary(req.path, req.body, &answer, metadata);
    res.status = status.ok() ? 200 : 500;
    res.set_content(status.ok() ? answer : status.error_message(),
                    "application/proto");
  });
  std::signal(SIGTERM, [](int) { std::_Exit(0); });
  if (!server.listen("127.0.0.1", absl::GetFlag(FLAGS_port))) {
    fprintf(stderr, "bare_http_relay: cannot listen on port %d\n",
            absl::GetFlag(FLAGS_port));
    return 1;
  }
  return 0;
}
