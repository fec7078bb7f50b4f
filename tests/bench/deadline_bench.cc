// Deadline clocks at scale (issue 4, "Speed"): 1,000,000 open clocks in a
// real redis-server; what a firing tick costs, how late steps fire, what a
// worklist page costs, and the memory a clock takes.
//
//   ./dev bench            (BENCHMARKS.md has the results and what they say)
//
// The store is loaded once per process, on first use (about a minute), and
// shared by every benchmark here, which run in the order registered; the
// lateness simulation fires the midnight burst and so runs last, once per
// process (with appendfsync always; for appendfsync no run
// --benchmark_filter=BM_FiringLateness/fsync:0 alone).
//
// The population: 1,000,000 open clocks, a fifth of each kind the default
// rules start (impulse call-back, joint mapping first meeting and
// completion, team first contact, offer answer), each started at a random
// instant within its length plus three days before "now" (Tuesday
// 2026-12-01 23:50 Stockholm), so some are past due (breached, escalated)
// and still open. Every clock is in the state a ticker that ran until now
// left it in: nothing is due at now. Region 13 holds 20,000 clocks whose
// referrals were made by RedisReferralStore::Create (with the clock, in one
// change); region 01 holds 49,000 with their referral records written
// directly; the other 19 regions 49,000 clocks each without referrals
// (firing never reads a referral).
//
// Redis: 7.0 on a Unix socket, hash-max-listpack-value 1024 as in
// deploy/redis/slussen.conf (SLUSSEN_BENCH_LISTPACK_VALUE=64 for Redis's
// default; SLUSSEN_BENCH_UNPLANNED=1 stores clocks without their plans, as
// a broker wrote them before the store fired steps by itself, so that every
// step is read and written by the broker); or, with
// SLUSSEN_BENCH_PRIMARIES=N, a Redis Cluster of N
// primaries on this machine (TCP on loopback). The load runs with the
// append-only file off (speed); then the AOF is switched on (rewritten
// once) with appendfsync always, as in production, for every benchmark
// unless its label says otherwise.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/desks/coordinator_desk.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/ids.h"
#include "broker/service/deadline_ticker.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_keys.h"
#include "broker/store/redis_referral_store.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using core::ClockRecord;
using core::ClockWrite;

constexpr int kTotalClocks = 1'000'000;
// The worklist region: referrals made by the store's Create.
constexpr char kWorklistRegion[] = "13";
constexpr int kWorklistRegionClocks = 20'000;
// A region of the bulk load whose referral records are written too: the
// worklist over a region of 49,000 open clocks.
constexpr char kLargeRegion[] = "01";
// Where BM_FireDue adds the clocks it fires.
constexpr char kFireRegion[] = "14";
// Clocks per RedisChange (one Lua script call) while loading.
constexpr int kLoadBatch = 500;
// The ticker's interval and the keeper's batch (deadline_ticker.h,
// deadline_keeper.h).
constexpr absl::Duration kTickInterval = absl::Milliseconds(250);
constexpr int kFireBatch = core::DeadlineKeeper::kFireBatch;

[[noreturn]] void Die(absl::string_view what, const absl::Status& status) {
  fprintf(stderr, "deadline_bench: %s: %s\n", std::string(what).c_str(),
          status.ToString().c_str());
  std::abort();
}

template <typename T>
T OrDie(absl::StatusOr<T> value, absl::string_view what) {
  if (!value.ok()) Die(what, value.status());
  return *std::move(value);
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// This process's CPU time so far (user and system, all threads): the
// broker's side of a benchmark.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::ToDoubleSeconds(absl::DurationFromTimeval(usage.ru_utime) +
                               absl::DurationFromTimeval(usage.ru_stime));
}

// One fifth of the population each. Starts are spread over the clock's
// length (by the default rules) plus three days before now, so a clock is
// met at most three days late.
struct Mix {
  v1::ClockKind kind;
  v1::ReferralKind referral_kind;
};
constexpr Mix kMix[] = {
    {v1::CLOCK_KIND_IMPULSE_CALL_BACK, v1::REFERRAL_KIND_IMPULSE},
    {v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING,
     v1::REFERRAL_KIND_JOINT_MAPPING},
    {v1::CLOCK_KIND_JOINT_MAPPING_COMPLETION, v1::REFERRAL_KIND_JOINT_MAPPING},
    {v1::CLOCK_KIND_TEAM_FIRST_CONTACT, v1::REFERRAL_KIND_TEAM_HANDOVER},
    {v1::CLOCK_KIND_OFFER_ANSWER, v1::REFERRAL_KIND_ACTIVITY},
};
constexpr int kMixes = sizeof(kMix) / sizeof(kMix[0]);
constexpr int kOfferAnswerMix = 4;
constexpr absl::Duration kOpenPastDue = absl::Hours(72);

// A generated clock and what its referral needs.
struct Made {
  ClockWrite write;
  std::string referral_id;
  int mix = 0;
  std::string assigned;
};

// The shared store: a private redis-server with 1,000,000 open clocks.
class Fixture {
 public:
  // Loads the store on first use.
  static Fixture& Get() {
    if (Instance() == nullptr) Instance().reset(new Fixture());
    return *Instance();
  }
  // Stops redis-server and removes its dir (and the AOF's gigabyte).
  static void Release() { Instance().reset(); }

  store::RedisPool& pool() { return *pool_; }
  core::DeadlineKeeper& keeper() { return *keeper_; }
  const core::SwedishCalendar& calendar() const { return calendar_; }
  // The bench's "now": Tuesday 2026-12-01 23:50 in Stockholm.
  absl::Time now() const { return now_; }
  // The midnight ten minutes later, when Wednesday starts.
  absl::Time midnight() const { return midnight_; }

  // What the load measured.
  double load_seconds = 0;
  double aof_rewrite_seconds = 0;
  int64_t used_memory_empty = 0;
  int64_t used_memory_clocks = 0;  // after the 980,000 bulk clocks
  int64_t used_memory_loaded = 0;  // everything, before the AOF was on
  int bulk_clocks = 0;
  std::map<std::string, double> key_memory;  // bytes per clock

  // The Redis servers: one, or the cluster's primaries.
  std::vector<RedisServer*> Servers() {
    if (cluster_ == nullptr) return {redis_.get()};
    std::vector<RedisServer*> out;
    for (int i = 0; i < cluster_->size(); ++i)
      out.push_back(&cluster_->node(i));
    return out;
  }
  int primaries() const { return cluster_ == nullptr ? 1 : cluster_->size(); }
  // Whether clocks are stored with their plans (SLUSSEN_BENCH_UNPLANNED).
  bool planned() const { return !unplanned_; }

  // Runs a command on every server; the replies.
  std::vector<std::string> OnEach(const std::vector<std::string>& command) {
    std::vector<std::string> replies;
    for (RedisServer* server : Servers()) {
      replies.push_back(OrDie(server->Execute(command), command[0]));
    }
    return replies;
  }

  int64_t UsedMemory() {
    int64_t total = 0;
    for (const std::string& info : OnEach({"INFO", "memory"})) {
      total += InfoField(info, "used_memory");
    }
    return total;
  }

  // Redis's own CPU time so far (user and system), in seconds.
  double RedisCpuSeconds() {
    double total = 0;
    for (const std::string& info : OnEach({"INFO", "cpu"})) {
      total += CpuSeconds(info);
    }
    return total;
  }

  static double CpuSeconds(const std::string& info) {
    double total = 0;
    for (const std::string field : {"used_cpu_user:", "used_cpu_sys:"}) {
      const size_t at = info.find(field);
      double value = 0;
      if (at != std::string::npos &&
          absl::SimpleAtod(
              info.substr(at + field.size(),
                          info.find_first_of("\r\n", at) - at - field.size()),
              &value)) {
        total += value;
      }
    }
    return total;
  }

  // ", cmd N us, ..." for each command that took 1 % of `redis_cpu_s` or
  // more since `before` (CommandMicros), its microseconds a step of
  // `steps`. (A script's commands count in the script and on their own.)
  std::string CommandMicrosPerStep(const std::map<std::string, double>& before,
                                   int64_t steps, double redis_cpu_s) {
    std::string out;
    for (const auto& [command, micros] : CommandMicros()) {
      const auto it = before.find(command);
      const double used = micros - (it == before.end() ? 0 : it->second);
      if (used < 0.01 * redis_cpu_s * 1e6) continue;
      absl::StrAppendFormat(
          &out, ", %s %.1f us", command,
          used / static_cast<double>(std::max<int64_t>(steps, 1)));
    }
    return out;
  }

  // Microseconds Redis spent in each command so far (INFO commandstats).
  std::map<std::string, double> CommandMicros() {
    std::map<std::string, double> micros;
    for (const std::string& info : OnEach({"INFO", "commandstats"})) {
      for (const auto& [command, us] : CommandMicros(info)) {
        micros[command] += us;
      }
    }
    return micros;
  }

  static std::map<std::string, double> CommandMicros(const std::string& info) {
    std::map<std::string, double> micros;
    for (absl::string_view line : absl::StrSplit(info, '\n')) {
      if (!absl::ConsumePrefix(&line, "cmdstat_")) continue;
      const size_t colon = line.find(':');
      const size_t usec = line.find(",usec=");
      double value = 0;
      if (colon == absl::string_view::npos || usec == absl::string_view::npos) {
        continue;
      }
      const size_t begin = usec + 6;
      if (absl::SimpleAtod(line.substr(begin, line.find(',', begin) - begin),
                           &value)) {
        micros[std::string(line.substr(0, colon))] = value;
      }
    }
    return micros;
  }

  void SetAppendFsync(absl::string_view mode) {
    OnEach({"CONFIG", "SET", "appendfsync", std::string(mode)});
  }

  // Adds `n` clocks to `region` whose warning is due at now(): offer
  // answers 7/8 of their length old (warned at 3/4); their ids.
  std::vector<std::string> AddDueClocks(const std::string& region, int n) {
    std::vector<std::string> ids;
    store::RedisChange change;
    for (int i = 0; i < n; ++i) {
      Made made = Make(region, kOfferAnswerMix,
                       now_ - LengthOf(kOfferAnswerMix) * 7 / 8,
                       /*fire=*/false, rng_, ++serial_);
      ids.push_back(made.write.record.id);
      store::RedisReferralStore::ClockInto(change, made.write);
      if (i % kLoadBatch == kLoadBatch - 1 || i == n - 1) {
        ApplyOrDie(change);
        change = store::RedisChange();
      }
    }
    return ids;
  }

  // Removes what AddDueClocks added (and so keeps the store at 1,000,000).
  void RemoveClocks(const std::string& region,
                    const std::vector<std::string>& ids) {
    std::vector<std::vector<std::string>> commands;
    for (const std::string& id : ids) {
      const std::string referral = id.substr(0, id.find('-'));
      commands.push_back({"DEL", store::keys::Clock(region, id),
                          store::keys::ClocksOf(region, referral)});
      commands.push_back({"ZREM", store::keys::ClocksDue(region), id});
      commands.push_back({"ZREM", store::keys::ClocksOpen(region), id});
      commands.push_back({"ZREM", store::keys::ClocksStarted(region), id});
    }
    OrDie(pool_->Pipeline(commands), "removing clocks");
  }

  // The firing instants (ms) of `region`'s clocks due in [from, to].
  std::vector<int64_t> DueScores(const std::string& region, absl::Time from,
                                 absl::Time to) {
    const store::RedisValue reply =
        OrDie(pool_->Command({"ZRANGE", store::keys::ClocksDue(region),
                              absl::StrCat(absl::ToUnixMillis(from)),
                              absl::StrCat(absl::ToUnixMillis(to)), "BYSCORE",
                              "WITHSCORES"}),
              "ZRANGE clocks:due");
    std::vector<int64_t> scores;
    for (size_t i = 1; i < reply.elements.size(); i += 2) {
      double score = 0;
      if (absl::SimpleAtod(reply.elements[i].str, &score)) {
        scores.push_back(static_cast<int64_t>(score));
      }
    }
    return scores;
  }

 private:
  Fixture()
      : calendar_(OrDie(core::SwedishCalendar::Create(), "calendar")),
        rule_sets_(core::DefaultDeadlineRuleSets()),
        rng_(20261201) {
    now_ = absl::FromCivil(absl::CivilMinute(2026, 12, 1, 23, 50),
                           calendar_.time_zone());
    midnight_ = calendar_.StartOfDay(absl::CivilDay(2026, 12, 2));
    MakeTemplates();
    const absl::Time start = absl::Now();
    // AOF off while loading (faster); EnableAof rewrites it from memory.
    RedisServer::Options options;
    options.append_only = false;
    options.appendfsync = "always";
    store::RedisOptions pool_options;
    const char* primaries = std::getenv("SLUSSEN_BENCH_PRIMARIES");
    if (primaries != nullptr && std::atoi(primaries) > 1) {
      cluster_ = OrDie(RedisCluster::Start(std::atoi(primaries), options),
                       "starting a Redis Cluster");
      pool_options = cluster_->ClientOptions();
    } else {
      redis_ = OrDie(RedisServer::Start(options), "starting redis-server");
      pool_options.address =
          OrDie(store::RedisAddress::Parse(redis_->address()), "address");
    }
    pool_options.command_timeout = absl::Seconds(60);
    // As deploy/redis/slussen.conf sets it (Redis's default is 64).
    unplanned_ = std::getenv("SLUSSEN_BENCH_UNPLANNED") != nullptr;
    const char* listpack = std::getenv("SLUSSEN_BENCH_LISTPACK_VALUE");
    SetConfig("hash-max-listpack-value",
              listpack != nullptr ? listpack : "1024");
    pool_ = std::make_unique<store::RedisPool>(pool_options);
    store_ = std::make_unique<store::RedisReferralStore>(pool_.get());
    keeper_ = std::make_unique<core::DeadlineKeeper>(store_.get(), &calendar_,
                                                     rule_sets_);
    used_memory_empty = UsedMemory();
    LoadBulk();
    const absl::Time bulk_end = absl::Now();
    SampleKeyMemory();
    LoadWorklistRegion();
    fprintf(stderr, "deadline_bench: bulk %.1f s, region 13 %.1f s\n",
            Seconds(bulk_end - start), Seconds(absl::Now() - bulk_end));
    used_memory_loaded = UsedMemory();
    load_seconds = Seconds(absl::Now() - start);
    const absl::Time aof_start = absl::Now();
    EnableAof();
    aof_rewrite_seconds = Seconds(absl::Now() - aof_start);
    fprintf(stderr,
            "deadline_bench: loaded %d clocks in %.1f s; AOF rewritten in "
            "%.1f s; used_memory %.0f MB\n",
            kTotalClocks, load_seconds, aof_rewrite_seconds,
            used_memory_loaded / 1e6);
  }

  static int64_t InfoField(const std::string& info, absl::string_view field) {
    const std::string prefix = absl::StrCat("\n", field, ":");
    const size_t at = ("\n" + info).find(prefix);
    if (at == std::string::npos) return -1;
    const size_t begin = at + prefix.size() - 1;
    const size_t end = info.find_first_of("\r\n", begin);
    int64_t value = -1;
    (void)absl::SimpleAtoi(info.substr(begin, end - begin), &value);
    return value;
  }

  void ApplyOrDie(const store::RedisChange& change) {
    OrDie(change.Apply(*pool_), "writing clocks");
  }

  // A stored referral of each kind, made by the referral desk, to copy.
  void MakeTemplates() {
    core::ManualClock clock(absl::FromUnixSeconds(1'795'000'000));
    core::UlidGenerator ids(&clock);
    const core::Pseudonymizer pseudonymizer =
        OrDie(core::Pseudonymizer::FromKey(std::string(40, 'k')), "pnr key");
    InMemoryReferralRepository repository;
    slussen::testing::InMemoryAuditRepository audit;
    core::ReferralDesk desk(&repository, &clock, &ids, &pseudonymizer,
                            &calendar_, audit);
    const core::Caller caller{"fk-lfc-halmstad", v1::ROLE_AGENCY, "13", ""};
    for (const v1::CreateReferralRequest& request : SampleOfEveryKind("13")) {
      const v1::Referral made =
          OrDie(desk.CreateReferral(caller, request), "template referral");
      const core::ReferralName name =
          OrDie(core::ParseReferralName("name", made.name()), "name");
      core::ReferralRecord record =
          OrDie(repository.Get(name.region, name.id), "template");
      templates_[core::KindOf(record.referral)] = std::move(record);
    }
  }

  const v1::DeadlineRuleSet& RuleSetOf(v1::ReferralKind kind) const {
    for (const v1::DeadlineRuleSet& set : rule_sets_) {
      if (set.referral_kind() == kind) return set;
    }
    Die("rule set", absl::NotFoundError(v1::ReferralKind_Name(kind)));
  }

  const v1::ClockRule& RuleOf(int mix) const {
    for (const v1::ClockRule& rule :
         RuleSetOf(kMix[mix].referral_kind).rules()) {
      if (rule.kind() == kMix[mix].kind) return rule;
    }
    Die("rule", absl::NotFoundError(v1::ClockKind_Name(kMix[mix].kind)));
  }

  // How long a clock of kMix[mix] started now runs.
  absl::Duration LengthOf(int mix) const {
    return core::DueTime(RuleOf(mix), now_, calendar_) - now_;
  }

  // A clock of kMix[mix] in `region` started at `start`; with `fire`, moved
  // on as a ticker running until now would have (so it is not due now).
  // `serial` makes the referral id unique. Thread-safe.
  Made Make(const std::string& region, int mix, absl::Time start, bool fire,
            std::mt19937_64& rng, uint64_t serial) const {
    const Mix& m = kMix[mix];
    Made made;
    made.mix = mix;
    made.referral_id =
        core::EncodeUlid(absl::ToUnixMillis(start), rng() & 0xffff, serial);
    made.assigned = absl::StrCat("provider-", rng() % 40);
    const v1::DeadlineRuleSet& rules = RuleSetOf(m.referral_kind);
    const v1::ClockRule& rule = RuleOf(mix);
    // What ClocksAfter reads of the referral.
    v1::Referral referral;
    referral.set_name(core::ReferralName{region, made.referral_id}.ToString());
    referral.set_referring_organisation(
        templates_.at(m.referral_kind).referral.referring_organisation());
    referral.set_state(v1::REFERRAL_STATE_RECEIVED);
    v1::Transition transition;
    transition.set_action(rule.start_on());
    *transition.mutable_time() = core::ToProtoTimestamp(start);
    core::ClockUpdates updates = core::ClocksAfter(
        &rules, referral, made.assigned, transition, {}, calendar_);
    if (updates.started.size() != 1) {
      Die("making a clock", absl::InternalError(v1::ClockKind_Name(m.kind)));
    }
    v1::Clock clock = std::move(updates.started[0]);
    const int index = rule.start_on() == v1::ACTION_CREATE ? 0 : 1;
    ClockRecord& record = made.write.record;
    record.region = region;
    record.id = absl::StrCat(made.referral_id, "-", static_cast<int>(m.kind),
                             "-", index);
    clock.set_name(
        core::ClockName{region, record.id, made.referral_id}.ToString());
    for (int step = 0; fire && step < 8; ++step) {
      std::optional<core::Firing> firing = core::Fire(clock, now_, calendar_);
      if (!firing.has_value()) break;
      clock = std::move(firing->clock);
    }
    record.clock = std::move(clock);
    core::ScheduleClock(&made.write, calendar_);
    // As a broker before plans wrote it: every step read and written by
    // the broker (the comparison for FirePlanned).
    if (unplanned_) made.write.plan.clear();
    return made;
  }

  Made MakeOpen(const std::string& region, int i, std::mt19937_64& rng,
                uint64_t serial) const {
    const int mix = i % kMixes;
    const int64_t span_ms =
        absl::ToInt64Milliseconds(LengthOf(mix) + kOpenPastDue);
    const absl::Time start =
        now_ - absl::Milliseconds(1 + static_cast<int64_t>(rng() % span_ms));
    return Make(region, mix, start, /*fire=*/true, rng, serial);
  }

  // 49,000 clocks in each region but the worklist region, a RedisChange of
  // kLoadBatch clocks at a time, by two threads (each its own regions) so
  // that making clocks overlaps Redis writing them; then region 01's
  // referrals (after used_memory_clocks, which counts clocks alone).
  void LoadBulk() {
    const std::vector<absl::string_view>& codes = core::RegionCodes();
    const int regions = static_cast<int>(codes.size()) - 1;
    const int per_region = (kTotalClocks - kWorklistRegionClocks) / regions;
    std::vector<Made> large;
    const auto load = [&](size_t first) {
      for (size_t r = first; r < codes.size(); r += 2) {
        const std::string region(codes[r]);
        if (region == kWorklistRegion) continue;
        std::mt19937_64 rng(r);
        store::RedisChange change;
        for (int i = 0; i < per_region; ++i) {
          Made made = MakeOpen(region, i, rng, i);
          store::RedisReferralStore::ClockInto(change, made.write);
          if (i % kLoadBatch == kLoadBatch - 1 || i == per_region - 1) {
            ApplyOrDie(change);
            change = store::RedisChange();
          }
          if (region == kLargeRegion) {
            made.write.record.clock.Clear();
            large.push_back(std::move(made));
          }
        }
      }
    };
    std::thread other(load, 1);
    load(0);
    other.join();
    bulk_clocks = regions * per_region;
    used_memory_clocks = UsedMemory();
    // Region 01's referrals: the hash RedisReferralStore::Create writes.
    std::vector<std::vector<std::string>> commands;
    for (size_t i = 0; i < large.size(); ++i) {
      const Made& made = large[i];
      const core::ReferralRecord& t =
          templates_.at(kMix[made.mix].referral_kind);
      v1::Referral referral = t.referral;
      referral.set_name(
          core::ReferralName{kLargeRegion, made.referral_id}.ToString());
      commands.push_back(
          {"HSET", store::keys::Referral(kLargeRegion, made.referral_id),
           "data", referral.SerializeAsString(), "version", "1", "state",
           absl::StrCat(referral.state()), "kind",
           absl::StrCat(referral.kind()), "org",
           referral.referring_organisation(), "pnr",
           t.personal_identity_pseudonym, "assigned", made.assigned});
      if (commands.size() == kLoadBatch || i + 1 == large.size()) {
        OrDie(pool_->Pipeline(commands), "writing referrals");
        commands.clear();
      }
    }
  }

  // Region 13: each referral and its clock made by the store's Create, as
  // the referral desk does (one change, one Lua script call each).
  void LoadWorklistRegion() {
    for (int i = 0; i < kWorklistRegionClocks; ++i) {
      Made made = MakeOpen(kWorklistRegion, i, rng_, ++serial_);
      core::ReferralRecord record = templates_.at(kMix[made.mix].referral_kind);
      record.region = kWorklistRegion;
      record.id = made.referral_id;
      record.version = 0;
      record.assigned_organisation = made.assigned;
      record.referral.set_name(
          core::ReferralName{kWorklistRegion, made.referral_id}.ToString());
      // A person each: the store refuses a second open referral of one
      // person to one activity type.
      if (!record.personal_identity_pseudonym.empty()) {
        record.personal_identity_pseudonym =
            absl::StrCat("pnr-", made.referral_id);
      }
      if (record.referral.has_participant()) {
        record.referral.mutable_participant()->set_pseudonym(
            absl::StrCat("p-", made.referral_id));
      }
      v1::Event event;
      event.set_type(v1::EVENT_TYPE_REFERRAL_CREATED);
      event.set_referral(record.referral.name());
      OrDie(store_->Create(record, event, std::nullopt, {made.write}),
            "creating a referral");
    }
  }

  // MEMORY USAGE per clock of each of its keys (averaged over 200 clocks
  // of one region), and of its hash were it a hash table.
  void SampleKeyMemory() {
    const auto usage = [&](const std::string& key) -> double {
      int64_t bytes = 0;
      const absl::StatusOr<store::RedisValue> reply =
          pool_->Command({"MEMORY", "USAGE", key, "SAMPLES", "0"});
      if (reply.ok()) bytes = reply->integer;
      return static_cast<double>(bytes);
    };
    // 200 open clocks at random: running, breached and escalated ones (the
    // earliest due, all escalated, carry no plan).
    constexpr int kSample = 200;
    const store::RedisValue ids = OrDie(
        pool_->Command({"ZRANDMEMBER", store::keys::ClocksOpen(kFireRegion),
                        absl::StrCat(kSample)}),
        "clock ids");
    const double n = static_cast<double>(ids.elements.size());
    // What a clock's hash would take as a hash table, which it is under
    // Redis's default hash-max-listpack-value of 64 (its data exceeds it).
    const store::RedisValue listpack_value = OrDie(
        pool_->Command({"CONFIG", "GET", "hash-max-listpack-value"}), "CONFIG");
    SetConfig("hash-max-listpack-value", "64");
    for (const store::RedisValue& id : ids.elements) {
      const std::string key = store::keys::Clock(kFireRegion, id.str);
      key_memory["clock hash"] += usage(key) / n;
      key_memory["its referral's clock set"] +=
          usage(store::keys::ClocksOf(kFireRegion,
                                      id.str.substr(0, id.str.find('-')))) /
          n;
      const store::RedisValue data =
          OrDie(pool_->Command({"HGET", key, "data"}), "HGET");
      key_memory["clock data (serialized)"] +=
          static_cast<double>(data.str.size()) / n;
      OrDie(pool_->Command({"HSET", "bench:table", "data", data.str, "version",
                            "1", "next", "1796162400000"}),
            "HSET");
      key_memory["clock hash as a hash table"] += usage("bench:table") / n;
      OrDie(pool_->Command({"DEL", "bench:table"}), "DEL");
    }
    SetConfig("hash-max-listpack-value", listpack_value.elements.at(1).str);
    for (const auto& [what, key] :
         {std::pair<std::string, std::string>{
              "clocks:due entry", store::keys::ClocksDue(kFireRegion)},
          {"clocks:open entry", store::keys::ClocksOpen(kFireRegion)}}) {
      const store::RedisValue card =
          OrDie(pool_->Command({"ZCARD", key}), "ZCARD");
      key_memory[what] = usage(key) / static_cast<double>(card.integer);
    }
  }

  void SetConfig(const std::string& name, const std::string& value) {
    OnEach({"CONFIG", "SET", name, value});
  }

  // Switches the AOF on (Redis rewrites it from memory) with appendfsync
  // always, and waits for the rewrite to end.
  void EnableAof() {
    SetAppendFsync("always");
    OnEach({"CONFIG", "SET", "appendonly", "yes"});
    for (;;) {
      bool done = true;
      for (const std::string& info : OnEach({"INFO", "persistence"})) {
        done = done && InfoField(info, "aof_rewrite_in_progress") == 0 &&
               InfoField(info, "aof_rewrite_scheduled") == 0 &&
               InfoField(info, "aof_enabled") == 1;
      }
      if (done) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  const core::SwedishCalendar calendar_;
  const std::vector<v1::DeadlineRuleSet> rule_sets_;
  absl::Time now_;
  absl::Time midnight_;
  std::mt19937_64 rng_;
  uint64_t serial_ = uint64_t{1} << 40;
  std::map<v1::ReferralKind, core::ReferralRecord> templates_;
  bool unplanned_ = false;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<store::RedisPool> pool_;
  std::unique_ptr<store::RedisReferralStore> store_;
  std::unique_ptr<core::DeadlineKeeper> keeper_;

  static std::unique_ptr<Fixture>& Instance() {
    static auto* const instance = new std::unique_ptr<Fixture>();
    return *instance;
  }
};

// --- Memory ---

void BM_StoreMemory(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  for (auto _ : state) {
  }
  const double per_clock =
      static_cast<double>(f.used_memory_clocks - f.used_memory_empty) /
      f.bulk_clocks;
  state.counters["B_per_clock"] = per_clock;
  state.counters["used_MB_total"] = f.used_memory_loaded / 1e6;
  state.counters["load_s"] = f.load_seconds;
  state.counters["aof_rewrite_s"] = f.aof_rewrite_seconds;
  std::string label;
  for (const auto& [what, bytes] : f.key_memory) {
    absl::StrAppend(&label, label.empty() ? "" : "; ", what, " ",
                    static_cast<int>(bytes), " B");
  }
  state.SetLabel(label);
}
BENCHMARK(BM_StoreMemory)->Iterations(1);

// --- Firing ---

// One ticker pass over the 21 regions with nothing due (the ticker's cost
// four times a second while idle).
void BM_IdleTick(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  core::ManualClock clock(f.now());
  service::DeadlineTicker ticker(&f.keeper(), &clock, {});
  for (auto _ : state) {
    if (ticker.Tick() != 0) {
      state.SkipWithError("something was due");
      break;
    }
  }
}
BENCHMARK(BM_IdleTick)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One clock read: one of the round trips of each step.
void BM_GetClock(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const store::RedisValue some =
      OrDie(f.pool().Command(
                {"ZRANGE", store::keys::ClocksOpen(kFireRegion), "0", "0"}),
            "a clock id");
  const std::string id = some.elements.at(0).str;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.keeper().GetClock(kFireRegion, id));
  }
}
BENCHMARK(BM_GetClock)->Unit(benchmark::kMicrosecond)->UseRealTime();

// FireDue over one region of 49,000 clocks (1,000,000 stored) when
// range(0) steps are due; range(1): appendfsync always (1) or no (0).
void BM_FireDue(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const int due = static_cast<int>(state.range(0));
  f.SetAppendFsync(state.range(1) == 1 ? "always" : "no");
  int64_t steps = 0;
  absl::Duration firing;
  for (auto _ : state) {
    std::vector<std::string> added;
    if (due > 0) {
      state.PauseTiming();
      added = f.AddDueClocks(kFireRegion, due);
      state.ResumeTiming();
    }
    const absl::Time begin = absl::Now();
    const absl::StatusOr<int> fired = f.keeper().FireDue(kFireRegion, f.now());
    firing += absl::Now() - begin;
    if (!fired.ok() || *fired != due) {
      state.SkipWithError(
          fired.ok() ? absl::StrCat("fired ", *fired, " steps of ", due).c_str()
                     : fired.status().ToString().c_str());
      break;
    }
    steps += *fired;
    if (due > 0) {
      state.PauseTiming();
      f.RemoveClocks(kFireRegion, added);
      state.ResumeTiming();
    }
  }
  f.SetAppendFsync("always");
  if (due > 0) {
    state.counters["us_per_step"] =
        absl::ToDoubleMicroseconds(firing) / static_cast<double>(steps);
  }
  state.SetLabel(state.range(1) == 1 ? "appendfsync always" : "appendfsync no");
}
BENCHMARK(BM_FireDue)
    ->ArgNames({"due", "fsync"})
    ->ArgsProduct({{0, 100, 1000}, {1, 0}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// --- The worklist ---

// Times one page of 50 of `caller`'s worklist of `region`: page `page`.
void RunWorklist(benchmark::State& state, const std::string& region,
                 const core::Caller& caller, int page) {
  Fixture& f = Fixture::Get();
  core::ManualClock clock(f.now());
  // The worklist reads no queues and records no reads: no queue desk, an
  // audit trail nothing is appended to.
  slussen::testing::InMemoryAuditRepository audit;
  core::CoordinatorDesk desk(&f.keeper(), /*queues=*/nullptr, &clock,
                             &f.calendar(), audit);
  v1::ListWorklistRequest request;
  request.set_parent(absl::StrCat("regions/", region));
  request.set_page_size(50);
  for (int p = 1; p < page; ++p) {  // walk to the page
    const v1::ListWorklistResponse response =
        OrDie(desk.ListWorklist(caller, request), "worklist");
    request.set_page_token(response.next_page_token());
  }
  int items = 0;
  for (auto _ : state) {
    const absl::StatusOr<v1::ListWorklistResponse> response =
        desk.ListWorklist(caller, request);
    if (!response.ok()) {
      state.SkipWithError(response.status().ToString().c_str());
      break;
    }
    items = response->items_size();
  }
  state.counters["items"] = items;
  state.SetLabel(absl::StrCat("region ", region, ", page ", page));
}

// A coordinator's worklist: range(0) the open clocks of the region (20,000:
// region 13; 49,000: region 01); range(1) the page.
void BM_WorklistPage(benchmark::State& state) {
  const std::string region =
      state.range(0) == kWorklistRegionClocks ? kWorklistRegion : kLargeRegion;
  RunWorklist(
      state, region,
      {absl::StrCat("region-", region), v1::ROLE_COORDINATOR, region, ""},
      static_cast<int>(state.range(1)));
}
BENCHMARK(BM_WorklistPage)
    ->ArgNames({"clocks", "page"})
    ->ArgsProduct({{kWorklistRegionClocks, 49'000}, {1, 20}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A provider's worklist in region 13 (one of 40 providers there: the clocks
// that await it), page 1: most clocks are looked at and passed over.
void BM_ProviderWorklistPage(benchmark::State& state) {
  RunWorklist(state, kWorklistRegion, {"provider-7", v1::ROLE_PROVIDER, "", ""},
              1);
}
BENCHMARK(BM_ProviderWorklistPage)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// --- Lateness ---

// The cost of one FireDue call: `call` with nothing due, plus `step` per
// step fired.
struct CostModel {
  absl::Duration call;
  absl::Duration step;
};

// The ticker over a timeline: tick at `start`, then 250 ms after each
// tick's end, or at once after a tick in which a region fired a whole
// batch; in each tick the regions in order, each firing at most
// kFireBatch of its due steps, soonest first. `fire(region, now, k)` does
// (or models) one region's call and returns how long it took. A step fires
// when its region's call ends (an upper bound, though a close one: a call
// writes its steps together, in one round trip). Runs until `until` has
// passed and nothing is left due, or until `give_up`.
struct Timeline {
  // Lateness (fire time - due instant) of the steps due before midnight,
  // at midnight (the burst), and after it.
  std::vector<double> before_s, burst_s, after_s;
  absl::Duration drained;  // from midnight to the burst's last step
  int ticks = 0;
  bool gave_up = false;
};

template <typename Fire>
Timeline Simulate(const std::vector<std::vector<int64_t>>& due_ms,
                  absl::Time start, absl::Time midnight, absl::Time until,
                  absl::Time give_up, Fire fire) {
  Timeline out;
  std::vector<size_t> next(due_ms.size(), 0);
  const int64_t midnight_ms = absl::ToUnixMillis(midnight);
  absl::Time t = start;
  for (;;) {
    const absl::Time now = t;
    const int64_t now_ms = absl::ToUnixMillis(now);
    bool left = false;
    bool backlog = false;
    for (size_t r = 0; r < due_ms.size(); ++r) {
      const std::vector<int64_t>& due = due_ms[r];
      size_t k = 0;
      while (next[r] + k < due.size() && k < kFireBatch &&
             due[next[r] + k] <= now_ms) {
        ++k;
      }
      t += fire(r, now, static_cast<int>(k));
      for (size_t j = next[r]; j < next[r] + k; ++j) {
        const double late = Seconds(t - absl::FromUnixMillis(due[j]));
        if (due[j] < midnight_ms) {
          out.before_s.push_back(late);
        } else if (due[j] == midnight_ms) {
          out.burst_s.push_back(late);
          out.drained = std::max(out.drained, t - midnight);
        } else {
          out.after_s.push_back(late);
        }
      }
      next[r] += k;
      left = left || (next[r] < due.size() && due[next[r]] <= now_ms);
      backlog = backlog || k == kFireBatch;
    }
    ++out.ticks;
    if (now >= until && !left) break;
    if (now >= give_up) {
      out.gave_up = true;
      break;
    }
    if (!backlog) t += kTickInterval;
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i =
      std::min(v.size() - 1,
               static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

std::string Summary(const char* what, const Timeline& t) {
  std::vector<double> all = t.before_s;
  all.insert(all.end(), t.burst_s.begin(), t.burst_s.end());
  all.insert(all.end(), t.after_s.begin(), t.after_s.end());
  return absl::StrFormat(
      "  %-26s before midnight p99 %.2f s max %.2f s | burst p50 %.1f s "
      "p99 %.1f s, drained in %.1f s | after p99 %.1f s | all p99 %.1f s%s\n",
      what, Percentile(t.before_s, 99), Percentile(t.before_s, 100),
      Percentile(t.burst_s, 50), Percentile(t.burst_s, 99), Seconds(t.drained),
      Percentile(t.after_s, 99), Percentile(all, 99),
      t.gave_up ? " (NOT DRAINED)" : "");
}

// The cost of a step with the current appendfsync: a full batch of due
// clocks fired in one region.
absl::Duration StepCost(Fixture& f) {
  const std::vector<std::string> added = f.AddDueClocks(kFireRegion, 500);
  const absl::Time start = absl::Now();
  const int fired = OrDie(f.keeper().FireDue(kFireRegion, f.now()), "FireDue");
  const absl::Duration took = absl::Now() - start;
  f.RemoveClocks(kFireRegion, added);
  return took / std::max(fired, 1);
}

// What appendfsync always adds to a step: the median of three pairs of
// batches, always then no, back to back.
absl::Duration FsyncCost(Fixture& f) {
  std::vector<absl::Duration> extra;
  for (int i = 0; i < 3; ++i) {
    f.SetAppendFsync("always");
    const absl::Duration always = StepCost(f);
    f.SetAppendFsync("no");
    extra.push_back(always - StepCost(f));
  }
  f.SetAppendFsync("always");
  std::sort(extra.begin(), extra.end());
  return extra[1];
}

// The midnight burst can be fired once per process (the store is then
// past it): true for the first benchmark to ask; the others are skipped,
// saying so.
bool ClaimTheBurst(benchmark::State& state) {
  static bool fired = false;
  if (!fired) {
    fired = true;
    return true;
  }
  state.SkipWithError(
      "the midnight burst was fired by an earlier benchmark of this process; "
      "run this one alone (--benchmark_filter)");
  for (auto _ : state) {
  }
  return false;
}

// Least squares: duration = call + step * k over the calls of a run.
CostModel Fit(const std::vector<std::pair<int, absl::Duration>>& calls) {
  double n = 0, sk = 0, sd = 0, skk = 0, skd = 0;
  for (const auto& [k, d] : calls) {
    const double x = k, y = absl::ToDoubleMicroseconds(d);
    n += 1, sk += x, sd += y, skk += x * x, skd += x * y;
  }
  const double step = (n * skd - sk * sd) / std::max(n * skk - sk * sk, 1.0);
  const double call = (sd - step * sk) / std::max(n, 1.0);
  return {absl::Microseconds(call), absl::Microseconds(step)};
}

// How late steps fire, from ten minutes before midnight (steps at spread
// instants: offer answers) through the midnight burst (every clock counted
// in days warns, breaches or escalates at a local midnight) until the burst
// is fired. The due instants are those of the 1,000,000 clocks stored.
// Really fired, with appendfsync always (range(0) 1: production) or no (0):
// each region's FireDue called with the simulated now, its measured time
// moving the simulated clock. The other setting is modelled: each call
// costs what the real run's calls cost (fitted: per call and per step),
// plus or minus the measured cost of the fsync per step; the model of the
// setting fired, against the real run, checks the fit. The burst can be
// fired once per process: run the other setting alone (with
// --benchmark_filter=BM_FiringLateness/fsync:0).
void BM_FiringLateness(benchmark::State& state) {
  if (!ClaimTheBurst(state)) return;
  Fixture& f = Fixture::Get();
  const bool always = state.range(0) == 1;
  const absl::Time start = f.now();
  const absl::Time until = f.midnight() + absl::Minutes(1);
  const absl::Time give_up = f.midnight() + absl::Hours(2);
  std::vector<std::string> regions;
  std::vector<std::vector<int64_t>> due_ms;
  for (absl::string_view code : core::RegionCodes()) {
    regions.emplace_back(code);
    due_ms.push_back(
        f.DueScores(regions.back(), absl::InfinitePast(), give_up));
  }
  const absl::Duration fsync = FsyncCost(f);
  f.SetAppendFsync(always ? "always" : "no");
  Timeline real;
  std::vector<std::pair<int, absl::Duration>> calls;
  int64_t fired = 0;
  int64_t expected = 0;
  const double cpu_before = f.RedisCpuSeconds();
  const std::map<std::string, double> micros_before = f.CommandMicros();
  const absl::Time run_start = absl::Now();
  for (auto _ : state) {
    real = Simulate(due_ms, start, f.midnight(), until, give_up,
                    [&](size_t r, absl::Time now, int k) {
                      const absl::Time begin = absl::Now();
                      fired +=
                          OrDie(f.keeper().FireDue(regions[r], now), "FireDue");
                      expected += k;
                      calls.emplace_back(k, absl::Now() - begin);
                      return calls.back().second;
                    });
  }
  const absl::Duration run = absl::Now() - run_start;
  // Where a step's time goes in Redis: its CPU (the event loop, reading
  // and writing sockets and the AOF), of it the time in commands.
  const double redis_cpu_s = f.RedisCpuSeconds() - cpu_before;
  const std::string in_commands =
      f.CommandMicrosPerStep(micros_before, fired, redis_cpu_s);
  f.SetAppendFsync("always");
  if (fired != expected) {
    state.SkipWithError(
        absl::StrCat("fired ", fired, " steps, expected ", expected).c_str());
  }
  const CostModel fitted = Fit(calls);
  const CostModel other{fitted.call,
                        always ? fitted.step - fsync : fitted.step + fsync};
  const auto modelled = [&](const CostModel& model) {
    return Simulate(
        due_ms, start, f.midnight(), until, give_up,
        [&](size_t, absl::Time, int k) { return model.call + k * model.step; });
  };
  const Timeline model_same = modelled(fitted);
  const Timeline model_other = modelled(other);
  const char* const mode = always ? "appendfsync always" : "appendfsync no";
  const char* const other_mode =
      always ? "appendfsync no" : "appendfsync always";
  state.counters["steps"] = static_cast<double>(fired);
  state.counters["burst_steps"] = static_cast<double>(real.burst_s.size());
  state.counters["before_p99_s"] = Percentile(real.before_s, 99);
  state.counters["burst_p99_s"] = Percentile(real.burst_s, 99);
  state.counters["drained_s"] = Seconds(real.drained);
  state.counters["model_burst_p99_s"] = Percentile(model_same.burst_s, 99);
  state.counters["other_burst_p99_s"] = Percentile(model_other.burst_s, 99);
  state.SetLabel(absl::StrCat(mode, ", fired (", other_mode, ": modelled)"));
  fprintf(stderr,
          "deadline_bench: lateness over %d ticks: %zu steps due before "
          "midnight, %zu at midnight, %zu after\n%s%s%s"
          "  cost: per call %.0f us + per step %.0f us (fitted to the real "
          "run); appendfsync always adds %.0f us per step\n"
          "  redis: %.1f s of CPU in %.1f s fired, %.1f us a step (in "
          "commands%s)\n",
          real.ticks, real.before_s.size(), real.burst_s.size(),
          real.after_s.size(),
          Summary(absl::StrCat(mode, ", fired:").c_str(), real).c_str(),
          Summary(absl::StrCat(mode, ", model:").c_str(), model_same).c_str(),
          Summary(absl::StrCat(other_mode, ", model:").c_str(), model_other)
              .c_str(),
          absl::ToDoubleMicroseconds(fitted.call),
          absl::ToDoubleMicroseconds(fitted.step),
          absl::ToDoubleMicroseconds(fsync), redis_cpu_s, Seconds(run),
          redis_cpu_s * 1e6 / static_cast<double>(std::max<int64_t>(fired, 1)),
          in_commands.c_str());
}
BENCHMARK(BM_FiringLateness)
    ->ArgName("fsync")
    ->Arg(1)
    ->Arg(0)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

// The midnight burst fired as a broker fires it: DeadlineTicker ticking at
// midnight (its `workers` threads firing a region each at a time) until a
// tick finds nothing due, in wall-clock time. A step's lateness is when
// Redis wrote it, the millisecond of its event's stream id, less the first
// tick's start. What was due before midnight is fired first, so the burst
// is alone, and the burst's events are prepared as the ticks of the
// minutes before midnight prepare them (DeadlineKeeper::kPrepareAhead), the
// Redis CPU, time and memory that takes reported apart. With
// SLUSSEN_BENCH_PRIMARIES=N in the environment the store is a Redis Cluster of
// N primaries on this machine, the regions spread over them by their hash tags.
// Once per process, as BM_FiringLateness.
void BM_MidnightBurst(benchmark::State& state) {
  if (!ClaimTheBurst(state)) return;
  Fixture& f = Fixture::Get();
  const int workers = static_cast<int>(state.range(0));
  std::vector<std::string> regions;
  for (absl::string_view code : core::RegionCodes()) regions.emplace_back(code);
  std::vector<std::string> after(regions.size());
  int64_t due = 0;
  for (const std::string& region : regions) {
    due += static_cast<int64_t>(
        f.DueScores(region, f.midnight(), f.midnight()).size());
  }
  // The ticks of the minutes before midnight: what was due before it
  // fired, and the burst's events prepared (DeadlineKeeper::kPrepareAhead),
  // their cost counted apart.
  const std::string midnight_ms =
      absl::StrCat(absl::ToUnixMillis(f.midnight()));
  const int64_t memory_before = f.UsedMemory();
  const double prepare_cpu_before = f.RedisCpuSeconds();
  const absl::Time prepare_start = absl::Now();
  for (size_t r = 0; r < regions.size(); ++r) {
    while (
        OrDie(f.keeper().FireDue(regions[r],
                                 f.midnight() - absl::Milliseconds(1)),
              "FireDue before midnight") > 0 ||
        (f.planned() &&
         OrDie(f.pool().Command({"ZCOUNT", store::keys::ClocksDue(regions[r]),
                                 midnight_ms, midnight_ms}),
               "ZCOUNT")
                 .integer > 0)) {
    }
  }
  const double prepare_cpu_s = f.RedisCpuSeconds() - prepare_cpu_before;
  const absl::Duration prepare_took = absl::Now() - prepare_start;
  const int64_t prepared_bytes = f.UsedMemory() - memory_before;
  for (size_t r = 0; r < regions.size(); ++r) {
    const store::RedisValue last =
        OrDie(f.pool().Command({"XREVRANGE", store::keys::Events(regions[r]),
                                "+", "-", "COUNT", "1"}),
              "XREVRANGE");
    after[r] = last.elements.empty() ? "0-0" : last.elements[0].elements[0].str;
  }
  core::ManualClock clock(f.midnight());
  service::DeadlineTicker ticker(&f.keeper(), &clock, {.workers = workers});
  const double cpu_before = f.RedisCpuSeconds();
  const std::map<std::string, double> micros_before = f.CommandMicros();
  const double broker_before = ProcessCpuSeconds();
  int64_t fired = 0;
  int ticks = 0;
  const absl::Time start = absl::Now();
  for (auto _ : state) {
    for (int n = ticker.Tick(); n > 0; n = ticker.Tick()) {
      fired += n;
      ++ticks;
    }
  }
  const absl::Duration took = absl::Now() - start;
  const double redis_cpu_s = f.RedisCpuSeconds() - cpu_before;
  const double broker_cpu_s = ProcessCpuSeconds() - broker_before;
  // When each step was written: its event's stream entry's id (a firing's
  // steps share an entry).
  const int64_t start_ms = absl::ToUnixMillis(start);
  std::vector<double> late;
  store::RedisEventLog log(&f.pool());
  for (size_t r = 0; r < regions.size(); ++r) {
    std::string from = after[r];
    for (;;) {
      const std::vector<core::LoggedEvent> page =
          OrDie(log.ReadAfter(regions[r], from, 10000), "ReadAfter");
      for (const core::LoggedEvent& logged : page) {
        int64_t ms = 0;
        (void)absl::SimpleAtoi(
            logged.position.substr(0, logged.position.find('-')), &ms);
        late.push_back(static_cast<double>(ms - start_ms) / 1000.0);
      }
      if (page.empty()) break;
      from = page.back().position;
    }
  }
  if (fired != due || static_cast<int64_t>(late.size()) != fired) {
    state.SkipWithError(absl::StrCat("fired ", fired, " steps, ", late.size(),
                                     " events, expected ", due)
                            .c_str());
  }
  state.counters["steps"] = static_cast<double>(fired);
  state.counters["primaries"] = f.primaries();
  state.counters["planned"] = f.planned() ? 1 : 0;
  state.counters["p50_s"] = Percentile(late, 50);
  state.counters["p99_s"] = Percentile(late, 99);
  state.counters["drained_s"] = Seconds(took);
  const double steps = static_cast<double>(std::max<int64_t>(fired, 1));
  state.counters["redis_us_per_step"] = redis_cpu_s * 1e6 / steps;
  state.counters["broker_us_per_step"] = broker_cpu_s * 1e6 / steps;
  state.counters["prepare_redis_us_per_step"] = prepare_cpu_s * 1e6 / steps;
  state.counters["prepare_s"] = Seconds(prepare_took);
  state.counters["prepared_MB"] = static_cast<double>(prepared_bytes) / 1e6;
  fprintf(stderr,
          "deadline_bench: midnight burst, %d primar%s, %d worker%s: %lld "
          "steps in %d ticks; written p50 %.2f s, p99 %.2f s, all %.2f s "
          "after midnight; CPU a step: redis %.1f us (in commands%s), "
          "broker %.1f us; prepared before midnight in %.2f s, redis %.1f "
          "us a step, %.0f MB held until midnight\n",
          f.primaries(), f.primaries() == 1 ? "y" : "ies", workers,
          workers == 1 ? "" : "s", static_cast<long long>(fired), ticks,
          Percentile(late, 50), Percentile(late, 99), Seconds(took),
          redis_cpu_s * 1e6 / steps,
          f.CommandMicrosPerStep(micros_before, fired, redis_cpu_s).c_str(),
          broker_cpu_s * 1e6 / steps, Seconds(prepare_took),
          prepare_cpu_s * 1e6 / steps,
          static_cast<double>(prepared_bytes) / 1e6);
}
BENCHMARK(BM_MidnightBurst)
    ->ArgName("workers")
    ->Arg(4)
    ->Arg(1)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace

void ReleaseStore() { Fixture::Release(); }

}  // namespace slussen::testing

// BENCHMARK_MAIN, and the store's redis-server stopped and its dir removed
// at the end.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  slussen::testing::ReleaseStore();
  return 0;
}
