// What matching costs, on a snapshot the size of a large country's whole
// queue: 100,000 waiting referrals against 10,000 offerings (21 regions,
// 10 activity types, the three capacity models, varied eligibility rules).
//
// - BM_FullRematch: build the matcher over the snapshot and match every
//   referral in priority order (what the broker does on a full sweep).
// - BM_ExplainQueues: every waiting referral's position, reasons and
//   estimated start, after a full match.
// - BM_PlaceOne: one more referral placed incrementally against the
//   capacity left (what the broker does when a referral arrives).
//
//   ./dev bench --benchmark_filter=Matcher   (results in BENCHMARKS.md)
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/matcher.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kRegions = 21;
constexpr int kActivityTypes = 10;
const absl::CivilDay kToday(2026, 12, 1);

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  absl::LoadTimeZone("Europe/Stockholm", &zone);
  return zone;
}

std::string Region(int i) { return absl::StrCat(10 + i % kRegions); }
std::string Type(int i) {
  return absl::StrCat("activity-", i % kActivityTypes);
}
std::string Kommun(int region, int k) {
  return absl::StrCat(region * 100 + 10 + k);
}

class SnapshotMaker {
 public:
  explicit SnapshotMaker(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }

  MatchInput Make(int referrals, int offerings) {
    MatchInput input;
    input.zone = Stockholm();
    input.now = absl::FromCivil(absl::CivilHour(2026, 12, 1, 10), input.zone);
    input.policy = DefaultPriorityPolicy();
    for (int i = 0; i < offerings; ++i) input.offerings.push_back(Offering(i));
    for (int i = 0; i < referrals; ++i) {
      input.referrals.push_back(Referral(i, input.now));
    }
    return input;
  }

  MatchReferral Referral(int i, absl::Time now) {
    MatchReferral r;
    const int region = Int(0, kRegions - 1);
    r.region = Region(region);
    r.name = absl::StrCat("regions/", r.region, "/referrals/r", 1000000 + i);
    r.state = v1::REFERRAL_STATE_QUEUED;
    r.activity_type = Type(Int(0, kActivityTypes - 1));
    r.facts.kind = v1::REFERRAL_KIND_ACTIVITY;
    r.facts.age_years = Int(18, 67);
    r.facts.gender = static_cast<v1::Gender>(Int(1, 2));
    r.facts.kommun_code = Kommun(10 + region, Int(0, 9));
    r.facts.benefit_statuses = 1u << Int(1, 5);
    r.facts.sickness_days_left = Int(0, 550);
    r.facts.hours_per_week = Int(4, 40);
    r.facts.languages = {Int(0, 4) == 0 ? "ar" : "sv"};
    r.priority.name = r.name;
    r.priority.referring_organisation = absl::StrCat("org-", Int(0, 40));
    if (Int(0, 4) == 0) r.priority.due = now + absl::Hours(Int(1, 500));
    r.priority.sickness_days_left = r.facts.sickness_days_left;
    r.priority.waiting_since = now - absl::Minutes(Int(1, 200000));
    if (Int(0, 9) == 0) {
      r.preferred_provider = absl::StrCat("providers/p", Int(0, 2999));
    }
    return r;
  }

 private:
  MatchOffering Offering(int i) {
    MatchOffering o;
    const int region = i % kRegions;
    o.provider = absl::StrCat("providers/p", i % 3000);
    o.name = absl::StrCat(o.provider, "/offerings/o", i);
    o.display_name = absl::StrCat("Offering ", i);
    o.activity_type = Type(i / kRegions);
    o.region = Region(region);
    o.kommun_code = Kommun(10 + region, Int(0, 9));
    o.eligibility.min_age_years = 18;
    o.eligibility.max_age_years = Int(0, 3) == 0 ? 29 : 64;
    if (Int(0, 5) == 0) o.eligibility.genders = 1u << v1::GENDER_FEMALE;
    if (Int(0, 3) == 0) {
      o.eligibility.benefit_statuses = (1u << Int(1, 5)) | (1u << Int(1, 5));
    }
    if (Int(0, 4) == 0) o.eligibility.min_hours_per_week = 10;
    o.eligibility.languages = {"sv"};
    o.eligibility.interpreter_available = Int(0, 1) == 0;
    o.capacity_update_time = absl::Now();
    switch (i % 3) {
      case 0:
        o.model = v1::CAPACITY_MODEL_PLACES;
        o.capacity = Int(2, 10);
        o.taken = Int(0, o.capacity);
        break;
      case 1:
        o.model = v1::CAPACITY_MODEL_CASELOAD;
        o.capacity = Int(10, 40);
        o.taken = Int(0, o.capacity);
        break;
      default:
        o.model = v1::CAPACITY_MODEL_COHORTS;
        for (int c = 0; c < 3; ++c) {
          CohortSlot slot;
          slot.name = absl::StrCat(o.name, "/cohorts/c", c);
          slot.start = kToday + 14 + 35 * c + Int(0, 6);
          slot.intake_start = slot.start - 28;
          slot.min_size = 6;
          slot.max_size = 12;
          slot.taken = c == 0 ? Int(0, 12) : 0;
          o.cohorts.push_back(slot);
        }
        break;
    }
    return o;
  }

  std::mt19937 rng_;
};

void BM_FullRematch(benchmark::State& state) {
  const MatchInput input =
      SnapshotMaker(42).Make(state.range(0), state.range(1));
  size_t offers = 0;
  for (auto _ : state) {
    state.PauseTiming();
    MatchInput copy = input;  // the broker reads a fresh snapshot each time
    state.ResumeTiming();
    auto matcher = std::make_unique<Matcher>(std::move(copy));
    const std::vector<MatchDecision> decisions = matcher->MatchAll();
    state.PauseTiming();
    offers = 0;
    for (const MatchDecision& d : decisions) {
      offers += d.kind == MatchDecision::Kind::kOffer;
    }
    matcher.reset();  // freeing the snapshot is not matching
    state.ResumeTiming();
  }
  state.counters["offers"] = static_cast<double>(offers);
  state.SetLabel(absl::StrCat(state.range(0), " referrals x ", state.range(1),
                              " offerings"));
}
BENCHMARK(BM_FullRematch)
    ->Args({10000, 1000})
    ->Args({100000, 10000})
    ->Unit(benchmark::kMillisecond);

void BM_ExplainQueues(benchmark::State& state) {
  Matcher matcher(SnapshotMaker(42).Make(state.range(0), state.range(1)));
  matcher.MatchAll();
  size_t explained = 0;
  for (auto _ : state) {
    const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
    explained = queues.size();
    benchmark::DoNotOptimize(queues.data());
  }
  state.counters["waiting"] = static_cast<double>(explained);
}
BENCHMARK(BM_ExplainQueues)
    ->Args({100000, 10000})
    ->Unit(benchmark::kMillisecond);

void BM_PlaceOne(benchmark::State& state) {
  SnapshotMaker maker(42);
  const MatchInput input = maker.Make(state.range(0), state.range(1));
  Matcher matcher(input);
  matcher.MatchAll();
  // Arrivals made beforehand; each iteration places one.
  std::vector<MatchReferral> arrivals;
  for (int i = 0; i < 200000; ++i) {
    MatchReferral r = maker.Referral(state.range(0) + i, input.now);
    r.state = v1::REFERRAL_STATE_RECEIVED;
    arrivals.push_back(std::move(r));
  }
  size_t next = 0;
  for (auto _ : state) {
    if (next == arrivals.size()) {
      state.SkipWithError("more iterations than prepared arrivals");
      break;
    }
    benchmark::DoNotOptimize(matcher.Place(std::move(arrivals[next++])));
  }
}
BENCHMARK(BM_PlaceOne)
    ->Args({100000, 10000})
    ->Iterations(100000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace slussen::core

BENCHMARK_MAIN();
