#include "broker/service/broker_server.h"

#include <arpa/inet.h>
#include <grpcpp/ext/channelz_service_plugin.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"
#include "broker/service/json_log.h"
#include "broker/service/refused_call_interceptor.h"
#include "broker/store/redis_keys.h"

namespace slussen::service {
namespace {

// How often the open and overdue clocks, the open ones by kind and stage,
// and the audit chains' lengths are counted for the metrics.
constexpr absl::Duration kCountInterval = absl::Seconds(5);
constexpr absl::Duration kFirstShortfallCheck = absl::Minutes(1);
// Threads for calls kept when idle (see SetSyncServerOption below).
constexpr int kIdleCallThreadsKept = 32;

// The services whose health is reported by name, besides "".
constexpr const char* kServiceNames[] = {
    "slussen.v1.ReferralService",    "slussen.v1.ProviderDirectory",
    "slussen.v1.OfferService",       "slussen.v1.QueueService",
    "slussen.v1.CoordinatorService", "slussen.v1.EventService",
    "slussen.v1.ConsentService",     "slussen.v1.PrivacyService"};

// Mutual TLS when the options have it: a client certificate is required
// and verified against the client CA before a call reaches a handler.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const BrokerOptions& options) {
  if (!options.tls.has_value()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = options.tls->client_ca_pem;
  ssl.pem_key_cert_pairs.push_back(
      {options.tls->private_key_pem, options.tls->certificate_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

// gRPC sets SO_REUSEPORT on its listening sockets by default, so a second
// server binding a port another holds succeeds, and the kernel splits the
// callers between them: a second broker (say, with another Redis) started
// on a taken port would silently answer half the calls. Each port is
// this broker's alone; a taken one fails Start with "cannot listen".
void RefuseSharedPort(grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
}

// Takes gRPC's channelz service (grpc.channelz.v1.Channelz) off a server.
// Its plugin joins every ServerBuilder made after InitChannelzService,
// which is process-wide; channelz names the peer of every connection, so
// it is for the admin port's operators, never the callers of the main port.
class WithoutChannelz final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& plugin) {
                                    return plugin->name() == "channelz_service";
                                  }),
                   plugins->end());
  }
};

}  // namespace

bool IsLoopbackAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view host = listen.substr(0, colon);
  if (host == "localhost") return true;
  if (absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]")) {
    in6_addr address;
    return inet_pton(AF_INET6, std::string(host).c_str(), &address) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&address);
  }
  in_addr address;
  return inet_pton(AF_INET, std::string(host).c_str(), &address) == 1 &&
         (ntohl(address.s_addr) >> 24) == 127;
}

absl::Status CheckListenAddresses(const BrokerOptions& options) {
  const bool loopback = IsLoopbackAddress(options.listen);
  if (options.testing_clock != nullptr && !loopback) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing the testing clock on ", options.listen,
        ": a broker whose time anyone can set serves tests on loopback only"));
  }
  if (options.identity_mode() == IdentityMode::kDevelopmentMetadata &&
      !loopback && !options.allow_remote_development_identity) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", options.listen,
        " with development identity (callers name themselves in request "
        "metadata, which anyone could forge); serve mutual TLS "
        "(--tls_cert_file, --tls_key_file, --tls_client_ca_file), listen on "
        "127.0.0.1, or force it with --insecure_allow_remote"));
  }
  if (!options.admin_listen.empty() &&
      !IsLoopbackAddress(options.admin_listen)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing the admin port on ", options.admin_listen,
        ": it is plaintext and answers anyone (health, reflection and "
        "channelz), so "
        "it listens on loopback only, e.g. 127.0.0.1:50052"));
  }
  return absl::OkStatus();
}

BrokerServer::BrokerServer(BrokerOptions options,
                           core::Pseudonymizer pseudonymizer)
    : options_(std::move(options)),
      clock_(options_.testing_clock != nullptr ? options_.testing_clock
             : options_.clock != nullptr       ? options_.clock
                                               : &system_clock_),
      pseudonymizer_(std::move(pseudonymizer)) {}

absl::StatusOr<std::unique_ptr<BrokerServer>> BrokerServer::Start(
    BrokerOptions options, core::Pseudonymizer pseudonymizer) {
  if (options.max_receive_message_bytes < kMinReceiveMessageBytes ||
      options.max_receive_message_bytes > kMaxReceiveMessageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_receive_message_bytes (--max_message_bytes) must be ",
                     kMinReceiveMessageBytes, "..", kMaxReceiveMessageBytes,
                     ", got ", options.max_receive_message_bytes));
  }
  RETURN_IF_ERROR(RateLimiter::Validate(options.rate_limit));
  RETURN_IF_ERROR(CheckListenAddresses(options));
  if (options.tls.has_value()) {
    RETURN_IF_ERROR(CheckTlsMaterial(*options.tls, absl::Now()));
  } else if (!IsLoopbackAddress(options.listen)) {
    Log(LogLevel::kWarning,
        "INSECURE: development identity on a non-loopback address "
        "(--insecure_allow_remote): anyone who reaches the port can claim "
        "any identity; never run this in production, serve mutual TLS",
        {{"listen", options.listen}});
  }
  std::unique_ptr<BrokerServer> broker(
      new BrokerServer(std::move(options), std::move(pseudonymizer)));
  RETURN_IF_ERROR(broker->Build());
  return broker;
}

absl::Status BrokerServer::Build() {
  metrics_ = std::make_unique<Metrics>();
  ASSIGN_OR_RETURN(core::SwedishCalendar calendar,
                   core::SwedishCalendar::Create());
  calendar_ = std::make_unique<core::SwedishCalendar>(std::move(calendar));
  ids_ = std::make_unique<core::UlidGenerator>(clock_);
  store::RedisOptions redis = options_.redis;
  redis.on_round_trip = [metrics = metrics_.get()](const std::string& node,
                                                   bool answered) {
    metrics->OnRedisRoundTrip(node, answered);
    CountRedisRoundTrip();  // the call's, if a call's thread asked
  };
  redis.on_error_reply = [metrics = metrics_.get()](const std::string& node,
                                                    absl::string_view error) {
    metrics->OnRedisErrorReply(node, error);
  };
  redis.on_connection_opened = [metrics =
                                    metrics_.get()](const std::string& node) {
    metrics->OnRedisConnectionOpened(node);
  };
  pool_ = std::make_unique<store::RedisPool>(redis);
  store_ = std::make_unique<store::RedisReferralStore>(pool_.get());
  rule_store_ = std::make_unique<store::RedisDeadlineRuleStore>(pool_.get());
  keeper_ = std::make_unique<core::DeadlineKeeper>(
      store_.get(), calendar_.get(), core::DefaultDeadlineRuleSets(),
      rule_store_.get());
  if (const absl::Status rules = keeper_->RefreshRuleSets(); !rules.ok()) {
    // Redis not there yet: the ticker reads them again shortly.
    Log(LogLevel::kWarning, "deadline rules not read yet",
        {{"error", std::string(rules.message())}});
  }
  directory_store_ = std::make_unique<store::RedisDirectoryStore>(pool_.get());
  audit_store_ = std::make_unique<store::RedisAuditStore>(pool_.get());
  desk_ = std::make_unique<core::ReferralDesk>(
      keeper_.get(), clock_, ids_.get(), &pseudonymizer_, calendar_.get(),
      *audit_store_, directory_store_.get());
  consent_desk_ =
      std::make_unique<core::ConsentDesk>(keeper_.get(), *audit_store_, clock_);
  privacy_desk_ = std::make_unique<core::PrivacyDesk>(
      keeper_.get(), *audit_store_, clock_, &pseudonymizer_, calendar_.get());
  directory_desk_ = std::make_unique<core::DirectoryDesk>(
      directory_store_.get(), clock_, calendar_.get());
  placement_desk_ = std::make_unique<core::PlacementDesk>(
      keeper_.get(), directory_desk_.get(), *audit_store_, clock_, ids_.get(),
      calendar_.get());
  matchmaker_ = std::make_unique<core::Matchmaker>(
      keeper_.get(), directory_store_.get(), placement_desk_.get(), clock_,
      calendar_.get());
  queue_desk_ = std::make_unique<core::QueueDesk>(matchmaker_.get(),
                                                  keeper_.get(), clock_);
  coordinator_desk_ = std::make_unique<core::CoordinatorDesk>(
      keeper_.get(), queue_desk_.get(), clock_, calendar_.get(), *audit_store_);
  DeadlineTicker::Options deadlines = options_.deadlines;
  deadlines.on_fired = [metrics = metrics_.get()](absl::Duration lag,
                                                  int steps) {
    metrics->OnDeadlineStepsFired(lag, steps);
  };
  ticker_ = std::make_unique<DeadlineTicker>(keeper_.get(), clock_, deadlines);
  MatchScheduler::Options matching = options_.matching;
  matching.on_pass = [metrics = metrics_.get()](const std::string& region,
                                                const std::string& kind,
                                                absl::Duration took, bool ok) {
    metrics->OnMatchingPass(region, kind, took, ok);
  };
  matching.on_queues =
      [metrics = metrics_.get(), clock = clock_](
          const std::string& region,
          const std::map<std::string, core::QueueStat>& queues) {
        metrics->SetQueues(region, queues, clock->Now());
      };
  scheduler_ = std::make_unique<MatchScheduler>(matchmaker_.get(), pool_.get(),
                                                clock_, matching);
  limiter_ = std::make_unique<RateLimiter>(options_.rate_limit, &system_clock_);
  const RpcEdgeOptions edge{.limiter = limiter_.get(),
                            .draining = &draining_,
                            .observer = metrics_.get()};
  RpcEdgeOptions with_clock = edge;
  with_clock.clock = clock_;
  referral_service_ = std::make_unique<ReferralServiceImpl>(
      desk_.get(), scheduler_.get(), edge);
  directory_service_ = std::make_unique<DirectoryServiceImpl>(
      directory_desk_.get(), placement_desk_.get(), scheduler_.get(),
      with_clock);
  offer_service_ = std::make_unique<OfferServiceImpl>(placement_desk_.get(),
                                                      scheduler_.get(), edge);
  queue_service_ = std::make_unique<QueueServiceImpl>(queue_desk_.get(), edge);
  coordinator_service_ =
      std::make_unique<CoordinatorServiceImpl>(coordinator_desk_.get(), edge);
  consent_service_ =
      std::make_unique<ConsentServiceImpl>(consent_desk_.get(), edge);
  privacy_service_ =
      std::make_unique<PrivacyServiceImpl>(privacy_desk_.get(), edge);
  event_log_ = std::make_unique<store::RedisEventLog>(pool_.get());
  retention_sweeper_ = std::make_unique<RetentionSweeper>(
      privacy_desk_.get(), event_log_.get(), clock_, options_.retention);
  event_feed_ =
      std::make_unique<EventFeed>(event_log_.get(), options_.event_feed);
  // Watchers read the feed; listings read Redis (see EventDesk).
  event_desk_ = std::make_unique<core::EventDesk>(
      event_feed_.get(), keeper_.get(), event_log_.get());
  EventServiceImpl::Options events = options_.events;
  events.on_watchers = [metrics = metrics_.get()](int watchers) {
    metrics->SetWatchers(watchers);
  };
  event_service_ = std::make_unique<EventServiceImpl>(
      event_desk_.get(), event_feed_.get(), events, edge);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Before any builder is made (they take the plugins there); idempotent.
  // The admin port serves it; this server takes it off again.
  grpc::channelz::experimental::InitChannelzService();
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<WithoutChannelz>());
  builder.AddListeningPort(options_.listen, ServerCredentials(options_),
                           &port_);
  RefuseSharedPort(builder);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  // gRPC's synchronous server keeps at most MAX_POLLERS threads waiting
  // for calls (2 by default) and ends every thread beyond them as its call
  // finishes, making a new one for the next: with 16 calls in flight, each
  // waiting on Redis, the broker started a thread every third call and
  // spent two thirds of its CPU making and ending them (a GetReferral at
  // 16 in flight: 4,800 calls/s at 305 µs of CPU a call, against 12,500
  // at 114 µs keeping 32; BENCHMARKS.md). Threads made stay, up to this
  // many idle.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kIdleCallThreadsKept);
  // Counts and logs the calls gRPC answers before any handler runs.
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<RefusedCallInterceptorFactory>(metrics_.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(referral_service_.get());
  builder.RegisterService(directory_service_.get());
  builder.RegisterService(offer_service_.get());
  builder.RegisterService(queue_service_.get());
  builder.RegisterService(coordinator_service_.get());
  builder.RegisterService(event_service_.get());
  builder.RegisterService(consent_service_.get());
  builder.RegisterService(privacy_service_.get());
  if (options_.testing_clock != nullptr) {
    testing_service_ = std::make_unique<TestingServiceImpl>(
        options_.testing_clock, [this] { return ticker_->Tick(); }, edge);
    builder.RegisterService(testing_service_.get());
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen,
                     " (in use, or not an address of this machine)"));
  }
  if (!options_.admin_listen.empty()) RETURN_IF_ERROR(StartAdminServer());
  if (!options_.metrics_listen.empty()) {
    ASSIGN_OR_RETURN(metrics_port_, metrics_->Serve(options_.metrics_listen));
  }
  ProbeRedis();
  event_feed_->Start();
  scheduler_->Start();
  ticker_->Start();
  retention_sweeper_->Start();
  prober_ = std::thread([this] {
    absl::Time next_count = absl::Now();
    while (
        !stopping_.WaitForNotificationWithTimeout(options_.health_interval)) {
      ProbeRedis();
      if (absl::Now() >= next_count) {
        CountStored();
        next_count = absl::Now() + kCountInterval;
      }
    }
  });
  // The forecasts on a thread of their own: a region of 10,000 waiting
  // takes about a second, which must not hold up the health probe.
  if (options_.shortfall_check_interval > absl::ZeroDuration()) {
    forecaster_ = std::thread([this] {
      absl::Duration wait =
          std::min(kFirstShortfallCheck, options_.shortfall_check_interval);
      while (!stopping_.WaitForNotificationWithTimeout(wait)) {
        CheckQueues();
        wait = options_.shortfall_check_interval;
      }
    });
  }
  return absl::OkStatus();
}

absl::Status BrokerServer::StartAdminServer() {
  // Health, reflection and channelz were enabled for every server built
  // (above; the main server took channelz off); this one registers nothing
  // else.
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.admin_listen,
                           grpc::InsecureServerCredentials(), &admin_port_);
  RefuseSharedPort(builder);
  builder.SetMaxReceiveMessageSize(64 * 1024);
  admin_server_ = builder.BuildAndStart();
  if (admin_server_ == nullptr || admin_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on the admin port ", options_.admin_listen,
                     " (in use, or not an address of this machine)"));
  }
  return absl::OkStatus();
}

void BrokerServer::ProbeRedis() {
  // Serving while any Redis primary answers: one lost primary of a cluster
  // stops only its regions (their calls are UNAVAILABLE), and taking every
  // replica of the broker out of rotation for it would stop them all.
  std::string nodes, errors;
  bool any = false;
  int unreachable = 0;
  for (const auto& [address, status] : pool_->PingEach()) {
    if (status.ok()) {
      any = true;
      continue;
    }
    ++unreachable;
    absl::StrAppend(&nodes, nodes.empty() ? "" : " ", address);
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", status.message());
  }
  SetServing(any);
  metrics_->SetUnreachablePrimaries(unreachable);
  std::optional<std::string> previous;
  {
    absl::MutexLock lock(&probe_mu_);
    previous = std::exchange(unreachable_, nodes);
  }
  if (previous != nodes) {
    Log(nodes.empty() ? LogLevel::kInfo : LogLevel::kWarning,
        nodes.empty() ? "redis reachable" : "redis unreachable",
        {{"redis", store::DescribeRedis(options_.redis)},
         {"unreachable", nodes},
         {"error", errors}});
  }
}

void BrokerServer::CheckQueues() {
  const absl::Time now = clock_->Now();
  for (absl::string_view code : core::RegionCodes()) {
    const std::string region(code);
    const absl::StatusOr<int> told =
        queue_desk_->WarnShortfalls(region, *event_log_);
    if (!told.ok()) {
      Log(LogLevel::kWarning, "shortfall check failed",
          {{"region", region},
           {"error", std::string(told.status().message())}});
    }
    const absl::StatusOr<std::vector<core::Versioned<v1::Offering>>> offerings =
        directory_store_->ListOfferings(region);
    if (!offerings.ok()) continue;  // the health probe says why
    // The newest publication of each activity type's offerings (or the
    // newest offering's making, if none has published).
    std::map<std::string, absl::Time> newest;
    for (const core::Versioned<v1::Offering>& offering : *offerings) {
      const v1::Offering& o = offering.value;
      const absl::Time published =
          o.capacity().has_update_time()
              ? core::ToAbslTime(o.capacity().update_time())
              : core::ToAbslTime(o.create_time());
      auto [it, first] = newest.emplace(o.activity_type(), published);
      if (!first) it->second = std::max(it->second, published);
    }
    std::map<std::string, absl::Duration> ages;
    for (const auto& [type, published] : newest) ages[type] = now - published;
    metrics_->SetCapacityAges(region, ages);
  }
}

void BrokerServer::CountStored() {
  const std::string now = absl::StrCat(absl::ToUnixMillis(clock_->Now()));
  std::vector<std::vector<std::string>> counts;
  for (absl::string_view region : core::RegionCodes()) {
    counts.push_back({"ZCARD", store::keys::ClocksOpen(region)});
    counts.push_back({"ZCOUNT", store::keys::ClocksOpen(region), "-inf",
                      absl::StrCat("(", now)});
    counts.push_back({"HGET", store::keys::AuditHead(region), "count"});
  }
  const absl::StatusOr<std::vector<store::RedisValue>> replies =
      pool_->Pipeline(counts);
  if (!replies.ok()) return;  // the health probe says why
  for (size_t i = 0; i < core::RegionCodes().size(); ++i) {
    const std::string region(core::RegionCodes()[i]);
    metrics_->SetClocks(region, (*replies)[3 * i].integer,
                        (*replies)[3 * i + 1].integer);
    int64_t audit_records = 0;  // no chain yet: nil
    if (const store::RedisValue& head = (*replies)[3 * i + 2];
        head.is_nil() || absl::SimpleAtoi(head.str, &audit_records)) {
      metrics_->SetAuditRecords(region, audit_records);
    }
    // Kept by the store as clocks are written and fire: no clock is read.
    const absl::StatusOr<std::vector<core::ClockTally>> tallies =
        store_->CountClocks(region);
    if (tallies.ok()) metrics_->SetClockStages(region, *tallies);
  }
}

void BrokerServer::SetServing(bool serving) {
  if (stopping_.HasBeenNotified()) serving = false;
  for (grpc::Server* server : {server_.get(), admin_server_.get()}) {
    if (server == nullptr) continue;
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    if (health == nullptr) continue;
    health->SetServingStatus(serving);
    for (const char* name : kServiceNames) {
      health->SetServingStatus(name, serving);
    }
  }
}

void BrokerServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  stopping_.Notify();
  if (prober_.joinable()) prober_.join();
  if (forecaster_.joinable()) forecaster_.join();
  if (server_ != nullptr) {
    // Drain first: every call from now on is answered UNAVAILABLE at once
    // (clients retry it, on another replica), health says NOT_SERVING,
    // and calls in flight finish. Only then does the server stop, with
    // nothing left queued for it to cut off as CANCELLED.
    draining_ = true;
    SetServing(false);
    if (event_service_ != nullptr) event_service_->Stop();
    Log(LogLevel::kInfo, "shutting down",
        {{"grace_ms", absl::ToInt64Milliseconds(grace)}});
    const absl::Duration drain = std::min(grace / 2, absl::Seconds(1));
    if (drain > absl::ZeroDuration()) absl::SleepFor(drain);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace - drain));
    server_->Wait();
  }
  if (admin_server_ != nullptr) {
    // Last, so that operators see NOT_SERVING while calls drain.
    admin_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    admin_server_->Wait();
  }
  // Every watch has ended with the server.
  if (event_feed_ != nullptr) event_feed_->Stop();
  if (scheduler_ != nullptr) scheduler_->Stop();
  if (ticker_ != nullptr) ticker_->Stop();
  if (retention_sweeper_ != nullptr) retention_sweeper_->Stop();
  store_.reset();
  pool_.reset();  // closes the Redis connections
  Log(LogLevel::kInfo, "stopped");
}

BrokerServer::~BrokerServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace slussen::service
