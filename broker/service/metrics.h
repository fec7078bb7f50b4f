// The broker's Prometheus metrics, served as text on GET /metrics of their
// own HTTP port (--metrics_listen; the admin port speaks gRPC only), with
// Debian's prometheus-cpp.
//
// Labels are of bounded cardinality only: the RPC's method and code, the
// region (21 län), a clock's kind and stage (enums), a Redis server (as
// many as there are), never a referral, organisation or person.
//
//   slussen_rpc_total{method,code}            calls answered, by outcome
//   slussen_rpc_duration_seconds{method}      their latency (histogram)
//   slussen_rpc_redis_round_trips{method}     round trips to Redis each
//                                             made (histogram; not of
//                                             WatchEvents)
//   slussen_rpc_refused_before_handler_total{method,code}  calls gRPC
//                                             answered before any handler
//                                             ran (refused_call_interceptor.h):
//                                             a body that does not parse,
//                                             a method not served
//                                             ("unknown"); not in rpc_total
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
//   slussen_redis_round_trips_total{primary,outcome}  round trips on a
//                                             Redis connection: answered, or
//                                             failed (UNAVAILABLE); primary:
//                                             the server asked, host:port
//                                             (on a cluster the node asked)
//   slussen_redis_errors_total{primary,error}  error replies of Redis's own
//                                             (OOM, READONLY, MOVED, ...:
//                                             store::RedisErrorCode)
//   slussen_redis_connections_opened_total{primary}  connections opened (a
//                                             rise after the first is
//                                             reconnects)
//   slussen_clocks_open{region}               open deadline clocks (running
//                                             or paused)
//   slussen_clocks_overdue{region}            of those, the ones past their
//                                             due time: breached, not met
//   slussen_clocks{region,kind,state}         open clocks by kind
//                                             (impulse_call_back, ...) and
//                                             stage: open (no step yet),
//                                             warned, breached, escalated
//   slussen_deadline_firing_lag_seconds       how late each planned step of
//                                             a clock fired after its instant
//                                             (histogram)
//   slussen_capacity_age_seconds{region,activity_type}  since an
//                                             offering of that type last
//                                             published capacity (since the
//                                             newest was made, if none has)
//   slussen_audit_records{region}             records in the region's
//                                             audit chain (every replica's
//                                             appends: its increase is the
//                                             appends)
//   slussen_watchers                          open WatchEvents calls
//   slussen_redis_unreachable_primaries       primaries the health probe
//                                             could not reach
//
//   Metrics metrics;
//   ASSIGN_OR_RETURN(int port, metrics.Serve("127.0.0.1:9464"));
//   metrics.OnCall("CreateReferral", "OK", absl::Milliseconds(4), 1);
//   metrics.OnRedisRoundTrip("10.0.0.5:6379", /*answered=*/true);
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_METRICS_H_
#define SLUSSEN_BROKER_SERVICE_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/desks/matchmaker.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/ports/referral_repository.h"
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

  // CallObserver: every answered RPC, every call the rate limit refused,
  // every call gRPC refused before a handler ran.
  void OnCall(absl::string_view method, absl::string_view code,
              absl::Duration took,
              std::optional<int64_t> redis_round_trips) override;
  void OnRateLimited() override;
  void OnRefused(absl::string_view method, absl::string_view code) override;

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
  // For each activity type offered in `region`, how long ago an offering
  // of it last published capacity; a type offered before and not among
  // them now is dropped.
  void SetCapacityAges(const std::string& region,
                       const std::map<std::string, absl::Duration>& ages);
  // The length of `region`'s audit chain, as Redis keeps it.
  void SetAuditRecords(const std::string& region, int64_t records);
  // The open clocks of `region` by kind and stage, as counted whole: a
  // kind and stage set before and not among them now is set to none.
  void SetClockStages(const std::string& region,
                      const std::vector<core::ClockTally>& tallies);
  // `steps` planned steps of clocks fired `lag` after their instant.
  void OnDeadlineStepsFired(absl::Duration lag, int steps);
  // Redis, by the server concerned (store::RedisOptions).
  void OnRedisRoundTrip(const std::string& primary, bool answered);
  void OnRedisErrorReply(const std::string& primary, absl::string_view error);
  void OnRedisConnectionOpened(const std::string& primary);
  void SetWatchers(int watchers);
  void SetUnreachablePrimaries(int primaries);

  // The text exposition, as GET /metrics answers (for tests).
  std::string Text() const;

 private:
  // The series of a family by their label values joined (`key`), each
  // added once: prometheus-cpp's Family::Add builds a label map and hashes
  // it under the family's lock on every call, and these are counted on
  // every call and every round trip to Redis. Not for a family whose
  // series are removed.
  template <typename T>
  class SeriesCache {
   public:
    // The series under `key`, made by `add` the first time.
    template <typename Add>
    T& Get(const std::string& key, Add add) {
      {
        absl::ReaderMutexLock lock(&mu_);
        const auto it = series_.find(key);
        if (it != series_.end()) return *it->second;
      }
      T& added = add();
      absl::MutexLock lock(&mu_);
      return *series_.try_emplace(key, &added).first->second;
    }

   private:
    absl::Mutex mu_;
    absl::flat_hash_map<std::string, T*> series_ ABSL_GUARDED_BY(mu_);
  };

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* rpcs_;
  prometheus::Family<prometheus::Histogram>* rpc_seconds_;
  prometheus::Family<prometheus::Histogram>* rpc_redis_round_trips_;
  SeriesCache<prometheus::Counter> rpcs_by_key_;
  SeriesCache<prometheus::Histogram> rpc_seconds_by_key_;
  SeriesCache<prometheus::Histogram> rpc_redis_round_trips_by_key_;
  prometheus::Family<prometheus::Counter>* refused_;
  prometheus::Counter* rate_limited_;
  prometheus::Family<prometheus::Counter>* passes_;
  prometheus::Family<prometheus::Histogram>* pass_seconds_;
  SeriesCache<prometheus::Counter> passes_by_key_;
  SeriesCache<prometheus::Histogram> pass_seconds_by_key_;
  prometheus::Family<prometheus::Gauge>* queue_waiting_;
  prometheus::Family<prometheus::Gauge>* queue_oldest_;
  absl::Mutex mu_;
  // The activity types each region's gauges were set for.
  std::map<std::string, std::set<std::string>> queue_types_
      ABSL_GUARDED_BY(mu_);
  // The kinds and stages each region's clock gauges were set for.
  std::map<std::string, std::set<std::pair<std::string, std::string>>>
      clock_stages_ ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Gauge>* clocks_open_;
  prometheus::Family<prometheus::Gauge>* clocks_overdue_;
  prometheus::Family<prometheus::Gauge>* audit_records_;
  prometheus::Family<prometheus::Gauge>* capacity_age_;
  // The activity types of each region with a capacity age.
  std::map<std::string, std::set<std::string>> capacity_types_
      ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Gauge>* clocks_;
  prometheus::Histogram* firing_lag_;
  prometheus::Family<prometheus::Counter>* redis_round_trips_;
  SeriesCache<prometheus::Counter> redis_round_trips_by_key_;
  prometheus::Family<prometheus::Counter>* redis_errors_;
  prometheus::Family<prometheus::Counter>* redis_connections_;
  prometheus::Gauge* watchers_;
  prometheus::Gauge* unreachable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_METRICS_H_
