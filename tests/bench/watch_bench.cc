// What watching costs one broker: N open WatchEvents streams (1, 100 and
// 1,000 by default) on the real `slussen` binary in a process of its own,
// with a steady stream of impulses created meanwhile. For each N: the
// broker's threads and memory, Redis commands a second when quiet and under
// the load, the broker's CPU per create, and how late each impulse's
// REFERRAL_CREATED reaches every watcher (from the moment its create was
// sent; p50, p99 and the worst over all N x creates deliveries).
//
// Compare the rows with each other (the N = 1 row is the baseline of the
// same run), not with another day's: the watchers, the broker and Redis
// share the machine's cores.
//
//   build/tests/bench/watch_bench [--watchers=1,100,1000] [--creates=100]
//                                 [--create_interval_ms=50]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "tests/support/process_stats.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/referral_client.h"
#include "tests/support/sample_referrals.h"

ABSL_FLAG(std::vector<std::string>, watchers,
          std::vector<std::string>({"1", "100", "1000"}),
          "numbers of open watches to measure, in order");
ABSL_FLAG(int, creates, 100, "impulses created while they watch");
ABSL_FLAG(int, create_interval_ms, 50, "between one create and the next");

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

[[noreturn]] void Die(const std::string& what) {
  fprintf(stderr, "watch_bench: %s\n", what.c_str());
  std::exit(1);
}

// When each watcher received each referral's REFERRAL_CREATED.
class Deliveries {
 public:
  void Add(const std::string& referral, absl::Time when) {
    absl::MutexLock lock(&mu_);
    received_[referral].push_back(when);
    ++count_;
  }
  // Waits until `n` have come, for up to `timeout`; how many did.
  int64_t AwaitCount(int64_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    const auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return count_ >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
    return count_;
  }
  std::map<std::string, std::vector<absl::Time>> Take() {
    absl::MutexLock lock(&mu_);
    count_ = 0;
    return std::exchange(received_, {});
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::vector<absl::Time>> received_ ABSL_GUARDED_BY(mu_);
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// One WatchEvents call, read with gRPC's callback API (no thread each).
class Watcher final : public grpc::ClientReadReactor<v1::WatchEventsResponse> {
 public:
  Watcher(v1::EventService::Stub* stub, Deliveries* deliveries)
      : deliveries_(deliveries) {
    context_.AddMetadata("x-slussen-organisation",
                         kHalmstadKommun.organisation);
    context_.AddMetadata("x-slussen-role", kHalmstadKommun.role);
    context_.AddMetadata("x-slussen-region", kHalmstadKommun.region);
    request_.set_parent("regions/13");
    stub->async()->WatchEvents(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    started_ = ok;
    headers_ = true;
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (response_.event().type() == v1::EVENT_TYPE_REFERRAL_CREATED) {
      deliveries_->Add(response_.event().referral(), absl::Now());
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  // Whether the watch started (false: refused); waits for the headers.
  bool AwaitStarted() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&headers_));
    return started_;
  }
  grpc::Status Cancel() {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  Deliveries* const deliveries_;
  grpc::ClientContext context_;
  v1::WatchEventsRequest request_;
  v1::WatchEventsResponse response_;
  absl::Mutex mu_;
  bool headers_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// Commands Redis has processed since it started.
int64_t RedisCommands(RedisServer& redis) {
  const absl::StatusOr<std::string> info = redis.Execute({"INFO", "stats"});
  if (!info.ok()) Die(std::string(info.status().message()));
  for (absl::string_view line : absl::StrSplit(*info, '\n')) {
    if (absl::ConsumePrefix(&line, "total_commands_processed:")) {
      int64_t count = 0;
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &count);
      return count;
    }
  }
  Die("no total_commands_processed in INFO stats");
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t at =
      std::min(values.size() - 1,
               static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[at];
}

// The real broker on a Redis of its own, both new: each row starts from
// an empty region (a create's matching pass reads what waits there).
struct Broker {
  std::unique_ptr<RedisServer> redis;
  pid_t pid = 0;
  std::string target;

  ~Broker() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

std::unique_ptr<Broker> StartBroker() {
  auto broker = std::make_unique<Broker>();
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
  if (!redis.ok()) Die(std::string(redis.status().message()));
  broker->redis = *std::move(redis);
  const std::string dir = broker->redis->dir();
  const std::string key_file = absl::StrCat(dir, "/pnr.key");
  {
    std::ofstream key(key_file);
    key << "watch-bench-key-of-at-least-32-bytes-0123456789";
  }
  chmod(key_file.c_str(), 0600);
  absl::StatusOr<int> port = FreeLoopbackPort();
  if (!port.ok()) Die("no free port");
  broker->target = absl::StrCat("127.0.0.1:", *port);
  const std::string args[] = {
      SLUSSEN_BINARY,
      absl::StrCat("--listen=", broker->target),
      absl::StrCat("--redis=", broker->redis->address()),
      absl::StrCat("--pnr_key_file=", key_file),
      "--rate_limit_per_second=0",
      "--max_watchers=100000",
      "--log_level=warning"};
  const std::string log = absl::StrCat(dir, "/broker.log");
  broker->pid = fork();
  if (broker->pid == 0) {
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    if (freopen(log.c_str(), "w", stderr) == nullptr) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ReferralClient client(
      grpc::CreateChannel(broker->target, grpc::InsecureChannelCredentials()),
      kHalmstadKommun);
  for (int i = 0;; ++i) {
    v1::ListReferralsResponse page;
    v1::ListReferralsRequest request;
    request.set_parent("regions/13");
    if (client.List(request, &page).ok()) break;
    if (i == 100) Die("the broker did not start; see " + log);
    absl::SleepFor(absl::Milliseconds(100));
  }
  return broker;
}

int Run() {
  printf(
      "| watchers | broker threads | broker RSS MB | Redis cmd/s quiet | "
      "Redis cmd/s loaded | Redis cmd per create | broker CPU ms per "
      "create | delivery p50 ms | p99 ms | max ms | delivered |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n");
  Deliveries deliveries;
  for (const std::string& text : absl::GetFlag(FLAGS_watchers)) {
    int n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1) Die("bad --watchers " + text);
    const std::unique_ptr<Broker> broker = StartBroker();
    RedisServer& redis = *broker->redis;
    const std::string& target = broker->target;
    ReferralClient creator(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()),
        kHalmstadKommun);
    // Channels of at most 100 streams each, none shared.
    std::vector<std::unique_ptr<v1::EventService::Stub>> stubs;
    for (int c = 0; c < (n + 99) / 100; ++c) {
      grpc::ChannelArguments arguments;
      arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      arguments.SetInt("slussen.bench.channel", c);
      stubs.push_back(v1::EventService::NewStub(grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(), arguments)));
    }
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (int i = 0; i < n; ++i) {
      watchers.push_back(
          std::make_unique<Watcher>(stubs[i / 100].get(), &deliveries));
    }
    for (auto& watcher : watchers) {
      if (!watcher->AwaitStarted()) Die("a watch was refused");
    }
    absl::SleepFor(absl::Seconds(1));
    const auto [threads, rss_kb] = ThreadsAndRss(broker->pid);

    int64_t commands = RedisCommands(redis);
    const absl::Duration quiet = absl::Seconds(2);
    absl::SleepFor(quiet);
    const double quiet_rate =
        static_cast<double>(RedisCommands(redis) - commands) /
        absl::ToDoubleSeconds(quiet);

    const int creates = absl::GetFlag(FLAGS_creates);
    std::map<std::string, absl::Time> sent;
    commands = RedisCommands(redis);
    const double cpu = CpuMicros(broker->pid);
    const absl::Time start = absl::Now();
    for (int i = 0; i < creates; ++i) {
      const absl::Time at = absl::Now();
      v1::Referral made;
      const grpc::Status status = creator.Create(SampleImpulse("13"), &made);
      if (!status.ok()) Die("create: " + status.error_message());
      sent[made.name()] = at;
      const absl::Time next =
          start +
          (i + 1) * absl::Milliseconds(absl::GetFlag(FLAGS_create_interval_ms));
      absl::SleepFor(next - absl::Now());
    }
    const int64_t expected = static_cast<int64_t>(n) * creates;
    const int64_t delivered =
        deliveries.AwaitCount(expected, absl::Seconds(30));
    const absl::Duration loaded = absl::Now() - start;
    const int64_t loaded_commands = RedisCommands(redis) - commands;
    const double cpu_ms = (CpuMicros(broker->pid) - cpu) / 1000.0;

    std::vector<double> latencies;
    for (const auto& [referral, times] : deliveries.Take()) {
      const auto it = sent.find(referral);
      if (it == sent.end()) continue;
      for (const absl::Time when : times) {
        latencies.push_back(absl::ToDoubleMilliseconds(when - it->second));
      }
    }
    printf(
        "| %d | %lld | %.0f | %.0f | %.0f | %.1f | %.2f | %.1f | %.1f | %.1f | "
        "%lld of %lld |\n",
        n, static_cast<long long>(threads),
        static_cast<double>(rss_kb) / 1024.0, quiet_rate,
        static_cast<double>(loaded_commands) / absl::ToDoubleSeconds(loaded),
        static_cast<double>(loaded_commands) / creates, cpu_ms / creates,
        Percentile(latencies, 0.5), Percentile(latencies, 0.99),
        Percentile(latencies, 1.0), static_cast<long long>(delivered),
        static_cast<long long>(expected));
    fflush(stdout);
    for (auto& watcher : watchers) watcher->Cancel();
  }
  return 0;
}

}  // namespace
}  // namespace slussen::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return slussen::testing::Run();
}
