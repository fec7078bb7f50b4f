// What a referral costs: validating one, the core's create path without
// storage, and a create over real gRPC into a real Redis (AOF on,
// appendfsync always), alone and with concurrent clients; and the same
// create when a replica must hold it before it is acknowledged
// (--redis_wait_replicas=1).
//
//   ./dev bench            (see BENCHMARKS.md for results)
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/referral_validation.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/broker_harness.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

v1::CreateReferralRequest SampleOfKind(int kind) {
  return SampleOfEveryKind()[kind];
}

void BM_ValidateCreateReferral(benchmark::State& state) {
  const v1::CreateReferralRequest request = SampleOfKind(state.range(0));
  const absl::Time now = absl::Now();
  const absl::CivilDay today(2026, 11, 22);
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::ValidateCreateReferral(request, now, today));
  }
  state.SetLabel(
      v1::ReferralKind_Name(static_cast<v1::ReferralKind>(state.range(0) + 1)));
}
BENCHMARK(BM_ValidateCreateReferral)->DenseRange(0, 4);

// Validation, pseudonymisation, fingerprint, record and event building:
// everything a create does but the Redis round trip.
void BM_DeskCreateInMemory(benchmark::State& state) {
  core::SystemClock clock;
  core::UlidGenerator ids(&clock);
  const core::Pseudonymizer pseudonymizer =
      *core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey);
  const core::SwedishCalendar calendar = *core::SwedishCalendar::Create();
  InMemoryReferralRepository repository;
  slussen::testing::InMemoryAuditRepository audit;
  core::ReferralDesk desk(&repository, &clock, &ids, &pseudonymizer, &calendar,
                          audit);
  const core::Caller caller{"fk-lfc-halmstad", v1::ROLE_AGENCY, "13", ""};
  const v1::CreateReferralRequest request = SampleJointMapping();
  for (auto _ : state) {
    benchmark::DoNotOptimize(desk.CreateReferral(caller, request));
  }
}
BENCHMARK(BM_DeskCreateInMemory);

[[noreturn]] void Die(const char* what, const absl::Status& status) {
  fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
  std::abort();
}

// A broker and its Redis, started with `options` (the per-caller rate
// limit off: one caller at full speed would mostly be refused).
BrokerHarness* StartHarness(BrokerHarness::Options options) {
  options.broker.rate_limit.per_second = 0;
  absl::StatusOr<std::unique_ptr<BrokerHarness>> started =
      BrokerHarness::Start(std::move(options));
  if (!started.ok()) Die("cannot start the broker", started.status());
  return started->release();
}

// One broker and Redis for the gRPC benchmarks, started on first use.
BrokerHarness& Harness() {
  static BrokerHarness* harness = StartHarness({});
  return *harness;
}

// The same over a Redis with one replica (on loopback TCP), every write
// acknowledged only once the replica has it.
BrokerHarness& ReplicatedHarness() {
  static BrokerHarness* harness = [] {
    absl::StatusOr<int> port = FreeLoopbackPort();
    if (!port.ok()) Die("no port for the primary", port.status());
    // The replica first: it connects once the primary is there.
    RedisServer::Options replica;
    replica.extra_args = {"--replicaof", "127.0.0.1", absl::StrCat(*port)};
    static absl::StatusOr<std::unique_ptr<RedisServer>> started =
        RedisServer::Start(replica);  // stopped, and its dir removed, at exit
    if (!started.ok()) Die("cannot start the replica", started.status());
    BrokerHarness::Options options;
    // The replica's full sync at once, not after Redis's 5 s wait for more.
    options.redis.extra_args = {
        "--port",    absl::StrCat(*port),          "--bind",
        "127.0.0.1", "--repl-diskless-sync-delay", "0"};
    options.broker.redis.wait_replicas = 1;
    // The first writes wait for the replica to attach.
    options.broker.redis.replica_timeout = absl::Seconds(5);
    return StartHarness(std::move(options));
  }();
  return *harness;
}

// `request` for a participant no referral of this process has had: a
// participant may have one open referral to an activity type, so creates
// of one sample would be refused from the second on.
v1::CreateReferralRequest ForANewParticipant(
    v1::CreateReferralRequest request) {
  static std::atomic<int64_t> next{0};
  if (request.referral().has_participant()) {
    request.mutable_referral()->mutable_participant()->set_pseudonym(
        absl::StrCat("bench-", next.fetch_add(1)));
  }
  return request;
}

void CreateOverGrpc(benchmark::State& state, BrokerHarness& harness) {
  auto stub = harness.ReferralStub();
  const v1::CreateReferralRequest sample = SampleActivityReferral();
  int64_t failures = 0;
  grpc::Status failed;
  for (auto _ : state) {
    // A copy and a name: a few µs against a create's hundreds.
    const v1::CreateReferralRequest request = ForANewParticipant(sample);
    grpc::ClientContext context;
    Identify(&context, kFkHalmstad);
    v1::Referral referral;
    grpc::Status status = stub->CreateReferral(&context, request, &referral);
    if (!status.ok()) {
      ++failures;
      failed = std::move(status);
    }
  }
  // A rate of refusals is no measurement of creates.
  if (failures > 0) {
    state.SkipWithError(absl::StrCat(failures, " creates failed, the last: ",
                                     failed.error_message())
                            .c_str());
    return;
  }
  state.counters["creates_per_s"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}
void BM_CreateReferralOverGrpc(benchmark::State& state) {
  CreateOverGrpc(state, Harness());
}
BENCHMARK(BM_CreateReferralOverGrpc)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();

void BM_CreateReferralWaitingForAReplica(benchmark::State& state) {
  CreateOverGrpc(state, ReplicatedHarness());
}
BENCHMARK(BM_CreateReferralWaitingForAReplica)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();

// A get of `made` (by the agency that made it) per iteration.
void GetOverGrpc(benchmark::State& state,
                 const v1::CreateReferralRequest& create) {
  auto stub = Harness().ReferralStub();
  v1::Referral made;
  {
    grpc::ClientContext context;
    Identify(&context, kFkHalmstad);
    const grpc::Status status =
        stub->CreateReferral(&context, ForANewParticipant(create), &made);
    if (!status.ok()) {
      state.SkipWithError(
          absl::StrCat("create failed: ", status.error_message()).c_str());
      return;
    }
  }
  v1::GetReferralRequest request;
  request.set_name(made.name());
  for (auto _ : state) {
    grpc::ClientContext context;
    Identify(&context, kFkHalmstad);
    v1::Referral referral;
    benchmark::DoNotOptimize(stub->GetReferral(&context, request, &referral));
  }
}

// An activity referral holds personal data: every get appends an audit
// record (a write, fsynced) before it answers.
void BM_GetReferralOverGrpc(benchmark::State& state) {
  GetOverGrpc(state, SampleActivityReferral());
}
BENCHMARK(BM_GetReferralOverGrpc)->Threads(1)->Threads(4)->UseRealTime();

// An impulse holds none: a get is a read only. The same path otherwise,
// so the difference is what auditing a read costs.
void BM_GetImpulseOverGrpc(benchmark::State& state) {
  GetOverGrpc(state, SampleImpulse("13"));
}
BENCHMARK(BM_GetImpulseOverGrpc)->Threads(1)->Threads(4)->UseRealTime();

}  // namespace
}  // namespace slussen::testing

BENCHMARK_MAIN();
