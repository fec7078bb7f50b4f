// The broker as one object: Redis pool, store, core desk and gRPC services,
// with health, reflection and graceful shutdown. The `slussen` binary is a
// thin main() around it; end-to-end tests run the same object in-process on
// a loopback port, so they exercise exactly what production runs.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<BrokerServer> broker,
//                    BrokerServer::Start(options));
//   ... wait for SIGTERM ...
//   broker->Shutdown(absl::Seconds(10));
//
// Identity: with `tls` the broker serves mutual TLS and callers are named by
// their client certificates; without it callers name themselves in request
// metadata, which only loopback may do unless forced (see rpc_scope.h).
//
// Health ("" and each service name) is SERVING while Redis answers and
// NOT_SERVING while it does not, and from the start of a shutdown; the
// optional admin port (plaintext, loopback: health, reflection and gRPC's
// channelz, which only it serves) reports the same.
// Thread-safe: Shutdown may be called from any thread, once.
#ifndef SLUSSEN_BROKER_SERVICE_BROKER_SERVER_H_
#define SLUSSEN_BROKER_SERVICE_BROKER_SERVER_H_

#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "broker/core/desks/coordinator_desk.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/desks/directory_desk.h"
#include "broker/core/desks/event_desk.h"
#include "broker/core/desks/matchmaker.h"
#include "broker/core/desks/placement_desk.h"
#include "broker/core/desks/queue_desk.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/ids.h"
#include "broker/service/coordinator_service.h"
#include "broker/service/deadline_ticker.h"
#include "broker/service/directory_service.h"
#include "broker/service/event_feed.h"
#include "broker/service/event_service.h"
#include "broker/service/match_scheduler.h"
#include "broker/service/metrics.h"
#include "broker/service/offer_service.h"
#include "broker/service/privacy_service.h"
#include "broker/service/rate_limiter.h"
#include "broker/service/referral_service.h"
#include "broker/service/rpc_scope.h"
#include "broker/service/testing_service.h"
#include "broker/service/x509_certificate.h"
#include "broker/store/redis_audit_store.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_deadline_rule_store.h"
#include "broker/store/redis_directory_store.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_referral_store.h"

namespace slussen::service {

// The range of BrokerOptions::max_receive_message_bytes: smaller would
// refuse ordinary requests; larger lets one call hold a lot of memory while
// it is parsed.
inline constexpr int kMinReceiveMessageBytes = 1 << 10;
inline constexpr int kMaxReceiveMessageBytes = 64 << 20;

struct BrokerOptions {
  // "host:port"; port 0 picks a free port (see BrokerServer::port()).
  std::string listen = "127.0.0.1:50051";
  // Mutual TLS: serve TLS with this certificate, require a client
  // certificate signed by the client CA, and name each caller by it
  // (IdentityMode::kClientCertificate), on any address. Without it callers
  // name themselves in request metadata (kDevelopmentMetadata).
  std::optional<TlsMaterial> tls;
  // A plaintext port for operators serving only gRPC health, reflection and
  // channelz (grpc.channelz.v1.Channelz: the process's servers, channels
  // and sockets, served nowhere else), "host:port" on loopback (port 0
  // picks one); empty: none.
  std::string admin_listen;
  // A plaintext HTTP address (host:port; port 0 picks one) serving the
  // Prometheus metrics on GET /metrics (metrics.h); empty: none.
  std::string metrics_listen;
  store::RedisOptions redis;
  // Development identity (request metadata) is refused on an address other
  // than loopback unless this is set (and then loudly warned about).
  bool allow_remote_development_identity = false;
  // Largest request accepted, 1 KiB..64 MiB; a larger one is
  // RESOURCE_EXHAUSTED before any handler sees it.
  int max_receive_message_bytes = 1 << 20;
  // Calls each organisation may make on this broker (rpc_scope.h): on
  // average per_second (0: no limit), in bursts of up to burst. Kept per
  // replica, in memory: across N replicas a caller gets N times this.
  RateLimiter::Options rate_limit;
  // How often Redis is pinged for the health status.
  absl::Duration health_interval = absl::Seconds(1);
  // How often each region's queue forecasts are checked against their
  // activity types' thresholds (QueueDesk::WarnShortfalls), and the age of
  // its capacity measured (slussen_capacity_age_seconds), on a thread of
  // their own; the first check runs a minute after the start (or after
  // the interval, if shorter). 0 turns the check off (and the thread).
  absl::Duration shortfall_check_interval = absl::Hours(1);
  // The clock; nullptr means the system clock. Must outlive the server.
  const core::Clock* clock = nullptr;
  // Testing only (--testing_clock_start): the clock, set over gRPC by the
  // TestingService, which is served only then. Must outlive the server.
  core::ManualClock* testing_clock = nullptr;
  MatchScheduler::Options matching;
  DeadlineTicker::Options deadlines;
  // How long personal data of finished referrals is kept, and how often
  // that is swept.
  RetentionSweeper::Options retention;
  // The one reader of the event streams for every watcher, and how many
  // watches may be open on this broker.
  EventFeed::Options event_feed;
  EventServiceImpl::Options events;

  IdentityMode identity_mode() const {
    return tls.has_value() ? IdentityMode::kClientCertificate
                           : IdentityMode::kDevelopmentMetadata;
  }
};

class BrokerServer {
 public:
  static absl::StatusOr<std::unique_ptr<BrokerServer>> Start(
      BrokerOptions options, core::Pseudonymizer pseudonymizer);

  // Shuts down if still running.
  ~BrokerServer();

  // The port bound.
  int port() const { return port_; }
  // The admin port bound; 0 without one.
  int admin_port() const { return admin_port_; }
  // The metrics port bound; 0 without one.
  int metrics_port() const { return metrics_port_; }
  // The metrics, served or not (for tests: Metrics::Text()).
  const Metrics& metrics() const { return *metrics_; }

  // Health to NOT_SERVING, stop accepting calls, let in-flight calls finish
  // for up to `grace` (then cancel them), stop the health probe and close
  // the Redis connections.
  void Shutdown(absl::Duration grace);

 private:
  BrokerServer(BrokerOptions options, core::Pseudonymizer pseudonymizer);
  absl::Status Build();
  absl::Status StartAdminServer();
  void ProbeRedis();
  // The open and overdue deadline clocks of every region, the open ones
  // by kind and stage, and its audit chain's length, for the metrics.
  void CountStored();
  // Checks every region's queue forecasts (QueueDesk::WarnShortfalls),
  // and tells the metrics how old each activity type's capacity is.
  void CheckQueues();
  void SetServing(bool serving);

  const BrokerOptions options_;
  core::SystemClock system_clock_;
  const core::Clock* clock_;
  core::Pseudonymizer pseudonymizer_;
  // Before everything that reports to it, so that it outlives them.
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<core::SwedishCalendar> calendar_;
  std::unique_ptr<core::UlidGenerator> ids_;
  std::unique_ptr<store::RedisPool> pool_;
  std::unique_ptr<store::RedisReferralStore> store_;
  std::unique_ptr<store::RedisDeadlineRuleStore> rule_store_;
  // The store as the desks use it: clocks kept with every change.
  std::unique_ptr<core::DeadlineKeeper> keeper_;
  std::unique_ptr<store::RedisDirectoryStore> directory_store_;
  std::unique_ptr<core::ReferralDesk> desk_;
  std::unique_ptr<core::DirectoryDesk> directory_desk_;
  std::unique_ptr<core::PlacementDesk> placement_desk_;
  std::unique_ptr<core::Matchmaker> matchmaker_;
  std::unique_ptr<core::QueueDesk> queue_desk_;
  std::unique_ptr<core::CoordinatorDesk> coordinator_desk_;
  std::unique_ptr<store::RedisEventLog> event_log_;
  std::unique_ptr<EventFeed> event_feed_;
  std::unique_ptr<core::EventDesk> event_desk_;
  std::unique_ptr<MatchScheduler> scheduler_;
  std::unique_ptr<DeadlineTicker> ticker_;
  // On the system clock even under a testing clock: callers' real pace.
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<ReferralServiceImpl> referral_service_;
  std::unique_ptr<DirectoryServiceImpl> directory_service_;
  std::unique_ptr<OfferServiceImpl> offer_service_;
  std::unique_ptr<QueueServiceImpl> queue_service_;
  std::unique_ptr<CoordinatorServiceImpl> coordinator_service_;
  std::unique_ptr<EventServiceImpl> event_service_;
  std::unique_ptr<TestingServiceImpl> testing_service_;
  std::unique_ptr<store::RedisAuditStore> audit_store_;
  std::unique_ptr<core::ConsentDesk> consent_desk_;
  std::unique_ptr<core::PrivacyDesk> privacy_desk_;
  std::unique_ptr<ConsentServiceImpl> consent_service_;
  std::unique_ptr<PrivacyServiceImpl> privacy_service_;
  std::unique_ptr<RetentionSweeper> retention_sweeper_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Health and reflection only, plaintext on loopback: a grpc::Server serves
  // every service on every port, so the admin port is a server of its own.
  std::unique_ptr<grpc::Server> admin_server_;
  int admin_port_ = 0;
  int metrics_port_ = 0;

  absl::Notification stopping_;
  // -1 before the first probe, then 0 or 1: logged when it changes.
  absl::Mutex probe_mu_;
  // The Redis nodes the last probe could not reach ("": none); nullopt
  // before the first.
  std::optional<std::string> unreachable_ ABSL_GUARDED_BY(probe_mu_);
  std::thread prober_;
  // Checks the queue forecasts every shortfall_check_interval (none at 0).
  std::thread forecaster_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // Set when Shutdown starts: calls are answered UNAVAILABLE (rpc_scope.h).
  std::atomic<bool> draining_{false};
};

// Whether `listen` is a loopback address: "127.x.y.z:port", "[::1]:port",
// "localhost:port" or a Unix socket ("unix:path"). A name that merely starts
// like one ("127.example.org:1") is not.
bool IsLoopbackAddress(absl::string_view listen);

// OK if `options` may listen where they say: development identity and the
// testing clock on loopback only (development identity elsewhere only when
// forced), the admin port on loopback only; FAILED_PRECONDITION saying why
// not otherwise. BrokerServer::Start checks this first.
absl::Status CheckListenAddresses(const BrokerOptions& options);

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_BROKER_SERVER_H_
