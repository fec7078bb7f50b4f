// The broker's Prometheus metrics, served as text on GET /metrics of their
// own HTTP port (--metrics_listen; the admin port speaks gRPC only), with
// Debian's prometheus-cpp.
//
// Labels are of bounded cardinality only: the RPC's method and code, the
// region (21 län), never a referral, organisation or person.
//
//   slussen_rpc_total{method,code}            calls answered, by outcome
//   slussen_rpc_duration_seconds{method}      their latency (histogram)
//   slussen_rate_limited_total                calls refused by the limit
//   slussen_matching_passes_total{region,kind,outcome}  passes run: kind
//                                             full (the region) or arrival
//                                             (one new referral); ok, error
//   slussen_matching_pass_duration_seconds{region,kind}  their duration
//   slussen_queue_waiting{region,activity_type}  referrals waiting, as the
//                                             last full matching pass left
//                                             them
//   slussen_queue_oldest_wait_seconds{region,activity_type}  how long the
//                                             one waiting longest has waited
//                                             (at that pass)
//   slussen_redis_round_trips_total{outcome}  round trips on a Redis
//                                             connection: answered, or
//                                             failed (UNAVAILABLE)
//   slussen_redis_connections_opened_total    connections opened (a rise
//                                             after the first is reconnects)
//   slussen_clocks_open{region}               open deadline clocks (running
//                                             or paused)
//   slussen_clocks_overdue{region}            of those, the ones past their
//                                             due time: breached, not met
//   slussen_watchers                          open WatchEvents calls
//   slussen_redis_unreachable_primaries       primaries the health probe
//                                             could not reach
//
//   Metrics metrics;
//   ASSIGN_OR_RETURN(int port, metrics.Serve("127.0.0.1:9464"));
//   metrics.OnCall("CreateReferral", "OK", absl::Milliseconds(4));
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_METRICS_H_
#define SLUSSEN_BROKER_SERVICE_METRICS_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/desks/matchmaker.h"
#include "broker/service/rpc_scope.h"

namespace prometheus {
class Exposer;
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace slussen::service {

class Metrics final : public CallObserver {
 public:
  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves GET /metrics on `address` (host:port; port 0 picks one) until
  // destroyed; the port bound. UNAVAILABLE when it cannot listen there.
  absl::StatusOr<int> Serve(const std::string& address);

  // CallObserver: every answered RPC, and every call the rate limit
  // refused.
  void OnCall(absl::string_view method, absl::string_view code,
              absl::Duration took) override;
  void OnRateLimited() override;

  // A matching pass of `region`, of `kind` ("full" or "arrival"), that
  // took `took`.
  void OnMatchingPass(const std::string& region, const std::string& kind,
                      absl::Duration took, bool ok);
  // Who is left waiting in `region` after a full pass, by activity type;
  // a type no longer named is set to none waiting.
  void SetQueues(const std::string& region,
                 const std::map<std::string, core::QueueStat>& queues,
                 absl::Time now);
  void SetClocks(const std::string& region, int64_t open, int64_t overdue);
  void OnRedisRoundTrip(bool answered);
  void OnRedisConnectionOpened();
  void SetWatchers(int watchers);
  void SetUnreachablePrimaries(int primaries);

  // The text exposition, as GET /metrics answers (for tests).
  std::string Text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* rpcs_;
  prometheus::Family<prometheus::Histogram>* rpc_seconds_;
  prometheus::Counter* rate_limited_;
  prometheus::Family<prometheus::Counter>* passes_;
  prometheus::Family<prometheus::Histogram>* pass_seconds_;
  prometheus::Family<prometheus::Gauge>* queue_waiting_;
  prometheus::Family<prometheus::Gauge>* queue_oldest_;
  absl::Mutex mu_;
  // The activity types each region's gauges were set for.
  std::map<std::string, std::set<std::string>> queue_types_
      ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Gauge>* clocks_open_;
  prometheus::Family<prometheus::Gauge>* clocks_overdue_;
  prometheus::Counter* redis_answered_;
  prometheus::Counter* redis_failed_;
  prometheus::Counter* redis_connections_;
  prometheus::Gauge* watchers_;
  prometheus::Gauge* unreachable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_METRICS_H_
