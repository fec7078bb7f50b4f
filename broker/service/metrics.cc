#include "broker/service/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"

namespace slussen::service {
namespace {

// Seconds: 1 ms to 10 s, as RPCs and matching passes take.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,    1,     2.5,  5,     10};
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  rpcs_ = &prometheus::BuildCounter()
               .Name("slussen_rpc_total")
               .Help("RPCs answered, by method and gRPC code")
               .Register(*registry_);
  rpc_seconds_ = &prometheus::BuildHistogram()
                      .Name("slussen_rpc_duration_seconds")
                      .Help("How long RPCs took, by method")
                      .Register(*registry_);
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("slussen_rate_limited_total")
                       .Help("Calls refused by the per-organisation limit")
                       .Register(*registry_)
                       .Add({});
  passes_ = &prometheus::BuildCounter()
                 .Name("slussen_matching_passes_total")
                 .Help(
                     "Matching passes run, by region, kind (full, arrival) and "
                     "outcome")
                 .Register(*registry_);
  pass_seconds_ =
      &prometheus::BuildHistogram()
           .Name("slussen_matching_pass_duration_seconds")
           .Help("How long matching passes took, by region and kind")
           .Register(*registry_);
  queue_waiting_ = &prometheus::BuildGauge()
                        .Name("slussen_queue_waiting")
                        .Help(
                            "Referrals waiting, by region and activity "
                            "type, as the last full matching pass left them")
                        .Register(*registry_);
  queue_oldest_ = &prometheus::BuildGauge()
                       .Name("slussen_queue_oldest_wait_seconds")
                       .Help(
                           "How long the referral waiting longest had "
                           "waited at the last full matching pass")
                       .Register(*registry_);
  clocks_open_ = &prometheus::BuildGauge()
                      .Name("slussen_clocks_open")
                      .Help("Open deadline clocks (running or paused)")
                      .Register(*registry_);
  clocks_overdue_ = &prometheus::BuildGauge()
                         .Name("slussen_clocks_overdue")
                         .Help("Open deadline clocks past their due time")
                         .Register(*registry_);
  prometheus::Family<prometheus::Counter>& round_trips =
      prometheus::BuildCounter()
          .Name("slussen_redis_round_trips_total")
          .Help("Round trips on a Redis connection: answered, or failed")
          .Register(*registry_);
  redis_answered_ = &round_trips.Add({{"outcome", "answered"}});
  redis_failed_ = &round_trips.Add({{"outcome", "failed"}});
  redis_connections_ = &prometheus::BuildCounter()
                            .Name("slussen_redis_connections_opened_total")
                            .Help("Redis connections opened")
                            .Register(*registry_)
                            .Add({});
  watchers_ = &prometheus::BuildGauge()
                   .Name("slussen_watchers")
                   .Help("Open WatchEvents calls on this broker")
                   .Register(*registry_)
                   .Add({});
  unreachable_ = &prometheus::BuildGauge()
                      .Name("slussen_redis_unreachable_primaries")
                      .Help("Redis primaries the health probe could not reach")
                      .Register(*registry_)
                      .Add({});
}

Metrics::~Metrics() = default;

absl::StatusOr<int> Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ",
                                               address,
                                               " (in use, or not an address of "
                                               "this machine): ",
                                               e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address));
  }
  return ports[0];
}

void Metrics::OnCall(absl::string_view method, absl::string_view code,
                     absl::Duration took) {
  const std::string m(method);
  rpcs_->Add({{"method", m}, {"code", std::string(code)}}).Increment();
  rpc_seconds_->Add({{"method", m}}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

void Metrics::OnRateLimited() { rate_limited_->Increment(); }

void Metrics::OnMatchingPass(const std::string& region, const std::string& kind,
                             absl::Duration took, bool ok) {
  passes_
      ->Add({{"region", region},
             {"kind", kind},
             {"outcome", ok ? "ok" : "error"}})
      .Increment();
  pass_seconds_->Add({{"region", region}, {"kind", kind}}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

void Metrics::SetQueues(const std::string& region,
                        const std::map<std::string, core::QueueStat>& queues,
                        absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::set<std::string>& known = queue_types_[region];
  for (const std::string& type : known) {
    if (queues.count(type) > 0) continue;
    queue_waiting_->Add({{"region", region}, {"activity_type", type}}).Set(0);
    queue_oldest_->Add({{"region", region}, {"activity_type", type}}).Set(0);
  }
  for (const auto& [type, queue] : queues) {
    known.insert(type);
    queue_waiting_->Add({{"region", region}, {"activity_type", type}})
        .Set(queue.waiting);
    queue_oldest_->Add({{"region", region}, {"activity_type", type}})
        .Set(std::max(0.0, absl::ToDoubleSeconds(now - queue.oldest)));
  }
}

void Metrics::SetClocks(const std::string& region, int64_t open,
                        int64_t overdue) {
  clocks_open_->Add({{"region", region}}).Set(static_cast<double>(open));
  clocks_overdue_->Add({{"region", region}}).Set(static_cast<double>(overdue));
}

void Metrics::OnRedisRoundTrip(bool answered) {
  (answered ? redis_answered_ : redis_failed_)->Increment();
}

void Metrics::OnRedisConnectionOpened() { redis_connections_->Increment(); }

void Metrics::SetWatchers(int watchers) { watchers_->Set(watchers); }

void Metrics::SetUnreachablePrimaries(int primaries) {
  unreachable_->Set(primaries);
}

std::string Metrics::Text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace slussen::service
