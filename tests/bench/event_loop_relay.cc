// event_loop_relay: the other model an HTTP front door to the broker could
// have, to see what it would bound (web_bench's
// BM_GetImpulseThroughEventLoopRelay, BENCHMARKS.md): one thread reads every
// connection with epoll and starts each call with gRPC's asynchronous
// generic client; one thread takes the calls' completions and writes the
// answers. No thread a connection, no thread blocked on a call. Like
// bare_http_relay, nothing between: the body is the request's binary
// protobuf, passed on with the x-slussen-* headers as metadata, and the
// answer goes back as it came. HTTP/1.1 with Content-Length bodies and
// keep-alive, one request at a time a connection (as cpp-httplib's client
// sends them); enough for the benchmark, not a server.
//
//   event_loop_relay --port=8091 --broker=127.0.0.1:50051
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

ABSL_FLAG(int, port, 8091, "TCP port to listen on, on 127.0.0.1");
ABSL_FLAG(std::string, broker, "", "the broker's host:port (plaintext)");

namespace {

// One call in flight: its connection and gRPC's state.
struct Call {
  int fd = -1;
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
};

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 1000);
    } else {
      return;  // the client is gone
    }
  }
}

void Answer(int fd, int status, const std::string& body) {
  WriteAll(fd,
           absl::StrCat("HTTP/1.1 ", status, status == 200 ? " OK" : " Error",
                        "\r\nContent-Type: application/proto\r\n"
                        "Content-Length: ",
                        body.size(), "\r\n\r\n", body));
}

class Relay {
 public:
  explicit Relay(std::shared_ptr<grpc::Channel> channel) : stub_(channel) {}

  // Reads requests and starts their calls; never returns.
  void Serve(int listener) {
    const int epoll = epoll_create1(0);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listener;
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    std::vector<epoll_event> ready(64);
    char buffer[16384];
    while (true) {
      const int n = epoll_wait(epoll, ready.data(), 64, -1);
      for (int i = 0; i < n; ++i) {
        const int fd = ready[i].data.fd;
        if (fd == listener) {
          const int client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
          if (client < 0) continue;
          const int one = 1;
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event add{};
          add.events = EPOLLIN;
          add.data.fd = client;
          epoll_ctl(epoll, EPOLL_CTL_ADD, client, &add);
          continue;
        }
        const ssize_t got = read(fd, buffer, sizeof buffer);
        if (got <= 0) {
          if (got < 0 && errno == EAGAIN) continue;
          epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
          pending_.erase(fd);
          close(fd);
          continue;
        }
        std::string& text = pending_[fd];
        text.append(buffer, static_cast<size_t>(got));
        Requests(fd, text);
      }
    }
  }

  // Takes completed calls and writes their answers; never returns.
  void Complete() {
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      std::string body;
      if (ok && call->status.ok()) {
        std::vector<grpc::Slice> slices;
        (void)call->response.Dump(&slices);
        for (const grpc::Slice& slice : slices) {
          body.append(reinterpret_cast<const char*>(slice.begin()),
                      slice.size());
        }
        Answer(call->fd, 200, body);
      } else {
        Answer(call->fd, 500, call->status.error_message());
      }
    }
  }

 private:
  // Starts the call of each whole request in `text`, and drops it.
  void Requests(int fd, std::string& text) {
    while (true) {
      const size_t head_end = text.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      const absl::string_view head(text.data(), head_end);
      std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
      std::vector<absl::string_view> request_line =
          absl::StrSplit(lines[0], ' ');
      if (request_line.size() < 2) return;
      size_t length = 0;
      auto call = std::make_unique<Call>();
      for (size_t l = 1; l < lines.size(); ++l) {
        const size_t colon = lines[l].find(':');
        if (colon == absl::string_view::npos) continue;
        const std::string name =
            absl::AsciiStrToLower(lines[l].substr(0, colon));
        const absl::string_view value =
            absl::StripAsciiWhitespace(lines[l].substr(colon + 1));
        if (name == "content-length") {
          (void)absl::SimpleAtoi(value, &length);
        } else if (absl::StartsWith(name, "x-slussen-")) {
          call->context.AddMetadata(name, std::string(value));
        }
      }
      if (text.size() < head_end + 4 + length) return;  // more to come
      if (request_line[0] == "GET") {  // /healthz, for whoever starts it
        Answer(fd, 200, "ok");
        text.erase(0, head_end + 4 + length);
        continue;
      }
      grpc::Slice slice(text.data() + head_end + 4, length);
      const grpc::ByteBuffer request(&slice, 1);
      call->fd = fd;
      call->reader = stub_.PrepareUnaryCall(
          &call->context, std::string(request_line[1]), request, &cq_);
      call->reader->StartCall();
      Call* tag = call.release();
      tag->reader->Finish(&tag->response, &tag->status, tag);
      text.erase(0, head_end + 4 + length);
    }
  }

  grpc::GenericStub stub_;
  grpc::CompletionQueue cq_;
  std::map<int, std::string> pending_;  // the serving thread's only
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-answer
  if (absl::GetFlag(FLAGS_broker).empty()) {
    fprintf(stderr, "event_loop_relay: --broker is required\n");
    return 2;
  }
  Relay relay(grpc::CreateChannel(absl::GetFlag(FLAGS_broker),
                                  grpc::InsecureChannelCredentials()));
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(absl::GetFlag(FLAGS_port)));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
          0 ||
      listen(listener, 1024) != 0) {
    fprintf(stderr, "event_loop_relay: cannot listen on port %d\n",
            absl::GetFlag(FLAGS_port));
    return 1;
  }
  std::thread completer([&] { relay.Complete(); });
  relay.Serve(listener);
  return 0;
}
