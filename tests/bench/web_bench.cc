// What the web gateway costs: a JSON call through slussen-web against the
// same call over gRPC straight to the broker, in the same run; and 1,000
// pages holding an event stream open on one gateway: its threads, its
// memory, and how late an event reaches all of them.
//
// The broker and Redis run in this process (BrokerHarness); the gateway is
// the real binary in a process of its own, so that its threads and memory
// can be read from /proc. On a 2-core machine all of them share the cores:
// compare the two unary lines with each other, not with another day's.
//
//   build/tests/bench/web_bench            (BENCHMARKS.md: results)
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "broker/service/program.h"
#include "clients/web/connect.h"
#include "tests/support/broker_harness.h"
#include "tests/support/process_stats.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

[[noreturn]] void Die(const std::string& what) {
  fprintf(stderr, "web_bench: %s\n", what.c_str());
  std::abort();
}

BrokerHarness& Harness() {
  static BrokerHarness* harness = [] {
    BrokerHarness::Options options;
    options.broker.rate_limit.per_second = 0;
    absl::StatusOr<std::unique_ptr<BrokerHarness>> started =
        BrokerHarness::Start(std::move(options));
    if (!started.ok()) Die(std::string(started.status().message()));
    return started->release();
  }();
  return *harness;
}

// A server in a process of its own, in front of Harness().
struct ServerProcess {
  pid_t pid = 0;
  int port = 0;
};

// Starts `binary` with `args` and --<port_flag>=<a free port>, and waits
// for its /healthz.
ServerProcess* StartProcess(const std::string& binary,
                            std::vector<std::string> args,
                            const std::string& port_flag) {
  auto* process = new ServerProcess;
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) Die("no free port");
  process->port = *port;
  args.insert(args.begin(), binary);
  args.push_back(absl::StrCat("--", port_flag, *port));
  process->pid = fork();
  if (process->pid == 0) {
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  httplib::Client client("127.0.0.1", *port);
  for (int i = 0; i < 100; ++i) {
    if (auto health = client.Get("/healthz"); health && health->status == 200) {
      return process;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  Die(binary + " did not start");
}

// slussen-web.
ServerProcess& Gateway() {
  static ServerProcess* gateway = StartProcess(
      SLUSSEN_WEB_BINARY,
      {absl::StrCat("--brokers=", Harness().target()),
       absl::StrCat("--redis=", Harness().redis_options().address.ToString()),
       "--sign_in=development", "--log_level=warning",
       "--max_connections=4096"},
      "listen=127.0.0.1:");
  return *gateway;
}

// bare_http_relay: HTTP in and gRPC out as the gateway does them, nothing
// between (bare_http_relay.cc).
ServerProcess& BareRelay() {
  static ServerProcess* relay =
      StartProcess(BARE_HTTP_RELAY_BINARY,
                   {absl::StrCat("--broker=", Harness().target())}, "port=");
  return *relay;
}

// event_loop_relay: the same with epoll and gRPC's asynchronous client,
// no thread a connection (event_loop_relay.cc).
ServerProcess& EventLoopRelay() {
  static ServerProcess* relay =
      StartProcess(EVENT_LOOP_RELAY_BINARY,
                   {absl::StrCat("--broker=", Harness().target())}, "port=");
  return *relay;
}

const Identity kAgency{"fk-lfc-halmstad", "agency", "13"};

std::string MadeImpulse() {
  static const std::string name = [] {
    v1::Referral made;
    if (!Harness().Client(kAgency).Create(SampleImpulse("13"), &made).ok()) {
      Die("create failed");
    }
    return made.name();
  }();
  return name;
}

// A GetReferral of an impulse (a read, nothing to audit) over gRPC.
void BM_GetImpulseDirect(benchmark::State& state) {
  const std::string name = MadeImpulse();
  auto stub = Harness().ReferralStub();
  v1::GetReferralRequest request;
  request.set_name(name);
  int64_t failures = 0;
  for (auto _ : state) {
    grpc::ClientContext context;
    Identify(&context, kAgency);
    v1::Referral referral;
    if (!stub->GetReferral(&context, request, &referral).ok()) ++failures;
  }
  state.counters["failures"] = benchmark::Counter(failures);
  state.counters["calls_per_s"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GetImpulseDirect)->Threads(1)->Threads(16)->UseRealTime();

// `body` posted to `server` as a GetReferral (`content_type`) in each
// iteration, over a kept-alive HTTP connection per client thread, as the
// agency; `cpu_counter` names the server's CPU a call (and its failures).
void PostCalls(benchmark::State& state, const ServerProcess& server,
               const std::string& body, const std::string& content_type,
               const std::string& cpu_counter) {
  const std::string path = "/slussen.v1.ReferralService/GetReferral";
  httplib::Client client("127.0.0.1", server.port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as browsers do
  const httplib::Headers headers = {
      {"x-slussen-organisation", kAgency.organisation},
      {"x-slussen-role", kAgency.role},
      {"x-slussen-region", kAgency.region}};
  int64_t failures = 0;
  const double cpu_before =
      state.thread_index() == 0 ? CpuMicros(server.pid) : 0;
  for (auto _ : state) {
    auto result = client.Post(path, headers, body, content_type);
    if (!result || result->status != 200) {
      if (failures++ == 0) {
        fprintf(stderr, "%s: %s\n", cpu_counter.c_str(),
                result ? result->body.c_str()
                       : httplib::to_string(result.error()).c_str());
      }
    }
  }
  state.counters["failures"] = benchmark::Counter(failures);
  state.counters["calls_per_s"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) {
    // The server's CPU for every thread's calls, over this thread's count:
    // the benchmark sums counters over threads, so report it per thread.
    state.counters[cpu_counter] = benchmark::Counter(
        (CpuMicros(server.pid) - cpu_before) /
            static_cast<double>(state.iterations() * state.threads()),
        benchmark::Counter::kDefaults);
  }
}

// The same call as Connect JSON through the gateway.
void BM_GetImpulseThroughGateway(benchmark::State& state) {
  PostCalls(state, Gateway(),
            absl::StrCat("{\"name\":\"", MadeImpulse(), "\"}"),
            "application/json", "gateway_cpu_us_per_call");
}
BENCHMARK(BM_GetImpulseThroughGateway)->Threads(1)->Threads(16)->UseRealTime();

// The same call as binary protobuf through the bare relay: what an HTTP hop
// in front of the broker costs on these cores before any of the gateway's
// own work.
// A GetReferral of the impulse as binary protobuf through `relay`.
void GetImpulseThroughRelay(benchmark::State& state, const ServerProcess& relay,
                            const char* counter) {
  v1::GetReferralRequest request;
  request.set_name(MadeImpulse());
  PostCalls(state, relay, request.SerializeAsString(), "application/proto",
            counter);
}

void BM_GetImpulseThroughBareRelay(benchmark::State& state) {
  GetImpulseThroughRelay(state, BareRelay(), "relay_cpu_us_per_call");
}
BENCHMARK(BM_GetImpulseThroughBareRelay)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime();

// The same through the event-loop relay: what another model of server
// would bound.
void BM_GetImpulseThroughEventLoopRelay(benchmark::State& state) {
  GetImpulseThroughRelay(state, EventLoopRelay(),
                         "event_loop_relay_cpu_us_per_call");
}
BENCHMARK(BM_GetImpulseThroughEventLoopRelay)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime();

// What the canonical JSON mapping costs the gateway, both ways, for a
// referral as GetReferral answers it (an activity referral, all fields).
void BM_ReferralToJson(benchmark::State& state) {
  v1::Referral referral = SampleActivityReferral().referral();
  referral.set_name("regions/13/referrals/01JEXAMPLE0000000000000000");
  for (auto _ : state) benchmark::DoNotOptimize(web::ToJson(referral));
}
BENCHMARK(BM_ReferralToJson);

void BM_ReferralFromJson(benchmark::State& state) {
  const std::string json = web::ToJson(SampleActivityReferral());
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        web::ParseJson(*v1::CreateReferralRequest::descriptor(), json));
  }
}
BENCHMARK(BM_ReferralFromJson);

// One page's event stream, read without a thread of its own.
struct Page {
  int fd = -1;
  std::string buffer;
  bool ready = false;
  // When the page saw each referral's first event (index of the create).
  std::vector<absl::Time> seen;
};

int OpenStream(int port, const Identity& identity) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    Die("cannot connect to the gateway");
  }
  const std::string request =
      absl::StrCat("GET /v1/events?region=13 HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                   "x-slussen-organisation: ", identity.organisation,
                   "\r\nx-slussen-role: ", identity.role,
                   "\r\nx-slussen-region: ", identity.region,
                   "\r\nAccept: text/event-stream\r\n\r\n");
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    Die("cannot send the request");
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Reads what has come on every page until `done` or `deadline`.
template <typename Done>
void Pump(std::vector<Page>& pages, absl::Time deadline, Done done) {
  std::vector<pollfd> fds(pages.size());
  char chunk[16384];
  while (!done() && absl::Now() < deadline) {
    for (size_t i = 0; i < pages.size(); ++i) fds[i] = {pages[i].fd, POLLIN, 0};
    if (poll(fds.data(), fds.size(), 100) <= 0) continue;
    const absl::Time now = absl::Now();
    for (size_t i = 0; i < pages.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      ssize_t n;
      while ((n = read(pages[i].fd, chunk, sizeof(chunk))) > 0) {
        pages[i].buffer.append(chunk, static_cast<size_t>(n));
      }
      Page& page = pages[i];
      size_t at;
      while ((at = page.buffer.find("\n\n")) != std::string::npos) {
        const std::string message = page.buffer.substr(0, at);
        page.buffer.erase(0, at + 2);
        if (absl::StrContains(message, "event: ready")) page.ready = true;
        if (absl::StrContains(message, "\ndata: {\"") ||
            absl::StartsWith(message, "data: {\"")) {
          page.seen.push_back(now);
        }
      }
    }
  }
}

// 1,000 pages of one coordinator (one broker stream) wait for events; a
// referral is made every 300 ms, and each page's delay from the create to
// its first event of it is recorded.
void BM_ThousandEventStreams(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const Identity coordinator{"samordning-halland", "coordinator", "13"};
  ServerProcess& gateway = Gateway();
  const auto [threads_before, rss_before] = ThreadsAndRss(gateway.pid);
  std::vector<Page> pages(static_cast<size_t>(count));
  for (Page& page : pages) page.fd = OpenStream(gateway.port, coordinator);
  Pump(pages, absl::Now() + absl::Seconds(60), [&] {
    return std::all_of(pages.begin(), pages.end(),
                       [](const Page& page) { return page.ready; });
  });
  const auto [threads_open, rss_open] = ThreadsAndRss(gateway.pid);
  std::vector<double> delays_ms;
  for (auto _ : state) {
    constexpr int kCreates = 20;
    for (int i = 0; i < kCreates; ++i) {
      for (Page& page : pages) page.seen.clear();
      const absl::Time created = absl::Now();
      v1::Referral made;
      if (!Harness().Client(kAgency).Create(SampleImpulse("13"), &made).ok()) {
        state.SkipWithError("create failed");
        return;
      }
      Pump(pages, absl::Now() + absl::Seconds(10), [&] {
        return std::all_of(pages.begin(), pages.end(),
                           [](const Page& page) { return !page.seen.empty(); });
      });
      for (const Page& page : pages) {
        if (!page.seen.empty()) {
          delays_ms.push_back(
              absl::ToDoubleMilliseconds(page.seen[0] - created));
        }
      }
      // Let the create's other events go by.
      Pump(pages, absl::Now() + absl::Milliseconds(300), [] { return false; });
    }
  }
  std::sort(delays_ms.begin(), delays_ms.end());
  const auto at = [&](double q) {
    return delays_ms.empty()
               ? 0.0
               : delays_ms[std::min(delays_ms.size() - 1,
                                    static_cast<size_t>(q * delays_ms.size()))];
  };
  state.counters["pages"] = count;
  state.counters["deliveries"] = static_cast<double>(delays_ms.size());
  state.counters["delivery_p50_ms"] = at(0.50);
  state.counters["delivery_p99_ms"] = at(0.99);
  state.counters["delivery_max_ms"] = delays_ms.empty() ? 0 : delays_ms.back();
  state.counters["gateway_threads_idle"] = static_cast<double>(threads_before);
  state.counters["gateway_threads_open"] = static_cast<double>(threads_open);
  state.counters["gateway_rss_idle_mb"] =
      static_cast<double>(rss_before) / 1024;
  state.counters["gateway_rss_open_mb"] = static_cast<double>(rss_open) / 1024;
  for (Page& page : pages) close(page.fd);
}
BENCHMARK(BM_ThousandEventStreams)
    ->Arg(1000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace slussen::testing

int main(int argc, char** argv) {
  // The broker in this process runs as the program does.
  slussen::service::StopLockOrderTracking();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Started here, on the main thread: the harness's redis-server dies with
  // the thread that started it, and benchmark threads end.
  slussen::testing::Gateway();
  slussen::testing::BareRelay();
  slussen::testing::EventLoopRelay();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const slussen::testing::ServerProcess* server :
       {&slussen::testing::Gateway(), &slussen::testing::BareRelay(),
        &slussen::testing::EventLoopRelay()}) {
    kill(server->pid, SIGTERM);
    waitpid(server->pid, nullptr, 0);
  }
  return 0;
}
