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

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace slussen::service {
namespace {

// Between the label values of a SeriesCache key (none of them has it).
constexpr absl::string_view kKeySeparator = "\x1f";

// Seconds: 1 ms to 10 s, as RPCs and matching passes take.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,    1,     2.5,  5,     10};
}

// Round trips to Redis of one call: most take one to three; a pass of
// matching or a long listing, more.
prometheus::Histogram::BucketBoundaries RoundTripBuckets() {
  return {0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64};
}

// Seconds: the ticker fires every quarter second, so a step is due about
// that late at most; the long tail is a ticker stopped or Redis away.
const prometheus::Histogram::BucketBoundaries& FiringLagBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600};
  return *kBuckets;
}

// "impulse_call_back" of CLOCK_KIND_IMPULSE_CALL_BACK.
std::string KindLabel(slussen::v1::ClockKind kind) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(slussen::v1::ClockKind_Name(kind), "CLOCK_KIND_"));
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
  rpc_redis_round_trips_ =
      &prometheus::BuildHistogram()
           .Name("slussen_rpc_redis_round_trips")
           .Help("Round trips to Redis each RPC made, by method")
           .Register(*registry_);
  refused_ = &prometheus::BuildCounter()
                  .Name("slussen_rpc_refused_before_handler_total")
                  .Help(
                      "Calls gRPC answered before any handler ran (a body "
                      "that does not parse, a method not served), by method "
                      "and gRPC code")
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
  audit_records_ =
      &prometheus::BuildGauge()
           .Name("slussen_audit_records")
           .Help(
               "Records in the region's audit chain (every replica's "
               "appends; its increase is the appends)")
           .Register(*registry_);
  capacity_age_ =
      &prometheus::BuildGauge()
           .Name("slussen_capacity_age_seconds")
           .Help(
               "Seconds since an offering of the activity type in the "
               "region last published capacity (since the newest offering "
               "was made, if none has)")
           .Register(*registry_);
  clocks_ = &prometheus::BuildGauge()
                 .Name("slussen_clocks")
                 .Help(
                     "Open deadline clocks by kind and stage (open: no step "
                     "yet; warned, breached, escalated)")
                 .Register(*registry_);
  firing_lag_ = &prometheus::BuildHistogram()
                     .Name("slussen_deadline_firing_lag_seconds")
                     .Help(
                         "How late the planned steps of deadline clocks "
                         "fired after their instants")
                     .Register(*registry_)
                     .Add({}, FiringLagBuckets());
  redis_round_trips_ =
      &prometheus::BuildCounter()
           .Name("slussen_redis_round_trips_total")
           .Help(
               "Round trips on a Redis connection, by the server asked: "
               "answered, or failed")
           .Register(*registry_);
  redis_errors_ = &prometheus::BuildCounter()
                       .Name("slussen_redis_errors_total")
                       .Help(
                           "Error replies of Redis's own, by the server asked "
                           "and the error's code")
                       .Register(*registry_);
  redis_connections_ = &prometheus::BuildCounter()
                            .Name("slussen_redis_connections_opened_total")
                            .Help("Redis connections opened, by server")
                            .Register(*registry_);
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
                     absl::Duration took,
                     std::optional<int64_t> redis_round_trips) {
  const std::string m(method);
  rpcs_by_key_
      .Get(absl::StrCat(method, kKeySeparator, code),
           [&]() -> prometheus::Counter& {
             return rpcs_->Add({{"method", m}, {"code", std::string(code)}});
           })
      .Increment();
  rpc_seconds_by_key_
      .Get(m,
           [&]() -> prometheus::Histogram& {
             return rpc_seconds_->Add({{"method", m}}, LatencyBuckets());
           })
      .Observe(absl::ToDoubleSeconds(took));
  if (redis_round_trips.has_value()) {
    rpc_redis_round_trips_by_key_
        .Get(m,
             [&]() -> prometheus::Histogram& {
               return rpc_redis_round_trips_->Add({{"method", m}},
                                                  RoundTripBuckets());
             })
        .Observe(static_cast<double>(*redis_round_trips));
  }
}

void Metrics::OnRateLimited() { rate_limited_->Increment(); }

void Metrics::OnRefused(absl::string_view method, absl::string_view code) {
  refused_->Add({{"method", std::string(method)}, {"code", std::string(code)}})
      .Increment();
}

void Metrics::OnMatchingPass(const std::string& region, const std::string& kind,
                             absl::Duration took, bool ok) {
  const std::string outcome = ok ? "ok" : "error";
  const std::string series = absl::StrCat(region, kKeySeparator, kind);
  passes_by_key_
      .Get(absl::StrCat(series, kKeySeparator, outcome),
           [&]() -> prometheus::Counter& {
             return passes_->Add(
                 {{"region", region}, {"kind", kind}, {"outcome", outcome}});
           })
      .Increment();
  pass_seconds_by_key_
      .Get(series,
           [&]() -> prometheus::Histogram& {
             return pass_seconds_->Add({{"region", region}, {"kind", kind}},
                                       LatencyBuckets());
           })
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

void Metrics::SetCapacityAges(
    const std::string& region,
    const std::map<std::string, absl::Duration>& ages) {
  absl::MutexLock lock(&mu_);
  std::set<std::string>& known = capacity_types_[region];
  for (auto it = known.begin(); it != known.end();) {
    if (ages.count(*it) > 0) {
      ++it;
      continue;
    }
    // Not 0, which would say it was just published: no series at all.
    capacity_age_->Remove(
        &capacity_age_->Add({{"region", region}, {"activity_type", *it}}));
    it = known.erase(it);
  }
  for (const auto& [type, age] : ages) {
    known.insert(type);
    capacity_age_->Add({{"region", region}, {"activity_type", type}})
        .Set(std::max(0.0, absl::ToDoubleSeconds(age)));
  }
}

void Metrics::SetAuditRecords(const std::string& region, int64_t records) {
  audit_records_->Add({{"region", region}}).Set(static_cast<double>(records));
}

void Metrics::SetClocks(const std::string& region, int64_t open,
                        int64_t overdue) {
  clocks_open_->Add({{"region", region}}).Set(static_cast<double>(open));
  clocks_overdue_->Add({{"region", region}}).Set(static_cast<double>(overdue));
}

void Metrics::SetClockStages(const std::string& region,
                             const std::vector<core::ClockTally>& tallies) {
  std::set<std::pair<std::string, std::string>> now;
  for (const core::ClockTally& tally : tallies) {
    const std::string kind = KindLabel(tally.kind);
    const std::string stage(core::ClockStageName(tally.stage));
    clocks_->Add({{"region", region}, {"kind", kind}, {"state", stage}})
        .Set(static_cast<double>(tally.clocks));
    now.emplace(kind, stage);
  }
  absl::MutexLock lock(&mu_);
  std::set<std::pair<std::string, std::string>>& known = clock_stages_[region];
  for (const auto& [kind, stage] : known) {
    if (now.count({kind, stage}) > 0) continue;
    clocks_->Add({{"region", region}, {"kind", kind}, {"state", stage}}).Set(0);
  }
  known.insert(now.begin(), now.end());
}

void Metrics::OnDeadlineStepsFired(absl::Duration lag, int steps) {
  if (steps <= 0) return;
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(lag));
  // All in one bucket: `steps` observations of the same lag.
  const prometheus::Histogram::BucketBoundaries& bounds = FiringLagBuckets();
  std::vector<double> increments(bounds.size() + 1, 0);
  increments[std::lower_bound(bounds.begin(), bounds.end(), seconds) -
             bounds.begin()] = steps;
  firing_lag_->ObserveMultiple(increments, seconds * steps);
}

void Metrics::OnRedisRoundTrip(const std::string& primary, bool answered) {
  const std::string outcome = answered ? "answered" : "failed";
  redis_round_trips_by_key_
      .Get(absl::StrCat(primary, kKeySeparator, outcome),
           [&]() -> prometheus::Counter& {
             return redis_round_trips_->Add(
                 {{"primary", primary}, {"outcome", outcome}});
           })
      .Increment();
}

void Metrics::OnRedisErrorReply(const std::string& primary,
                                absl::string_view error) {
  redis_errors_->Add({{"primary", primary}, {"error", std::string(error)}})
      .Increment();
}

void Metrics::OnRedisConnectionOpened(const std::string& primary) {
  redis_connections_->Add({{"primary", primary}}).Increment();
}

void Metrics::SetWatchers(int watchers) { watchers_->Set(watchers); }

void Metrics::SetUnreachablePrimaries(int primaries) {
  unreachable_->Set(primaries);
}

std::string Metrics::Text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace slussen::service
