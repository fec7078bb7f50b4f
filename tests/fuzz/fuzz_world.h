// A small broker world in memory for the request fuzzer: the desks the
// gRPC services call, wired as BrokerServer wires them, over in-memory
// repositories (no Redis, no network) and a clock that stands still. Made
// afresh for every input, from the same start, so that an input always
// does the same thing.
//
// What it holds at the start: the activity types "halsosam" and
// "funktionsbrevlada", the provider "providers/halsosam-halmstad" with the
// offering "kom-igang" (two places, in Halmstad), and one activity referral
// of kommun-halmstad-eb offered to it, with its clocks. The names are in
// the fields below, so that seeds can act on them.
//
//   World world;
//   absl::StatusOr<v1::Referral> got =
//       world.referrals.GetReferral(caller, request);
//
// Not thread-safe (one input at a time).
#ifndef SLUSSEN_TESTS_FUZZ_FUZZ_WORLD_H_
#define SLUSSEN_TESTS_FUZZ_FUZZ_WORLD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "broker/core/desks/consent_desk.h"
#include "broker/core/desks/coordinator_desk.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/desks/directory_desk.h"
#include "broker/core/desks/event_desk.h"
#include "broker/core/desks/matchmaker.h"
#include "broker/core/desks/placement_desk.h"
#include "broker/core/desks/privacy_desk.h"
#include "broker/core/desks/queue_desk.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/deadline_rule_repository.h"
#include "broker/core/ports/event_log.h"
#include "broker/core/ports/ids.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_directory_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::fuzz {

// Ids in creation order: ULIDs of the clock's time and a counter.
class CountingIds final : public core::IdGenerator {
 public:
  explicit CountingIds(const core::Clock* clock) : clock_(clock) {}
  std::string NewId() override;

 private:
  const core::Clock* const clock_;
  uint64_t next_ = 1;
};

// Rule-set versions in a vector.
class InMemoryRuleRepository final : public core::DeadlineRuleRepository {
 public:
  absl::StatusOr<int> Append(const std::string& id,
                             const slussen::v1::DeadlineRuleSet& set) override;
  absl::StatusOr<std::vector<core::StoredRuleSet>> ListAll() override;

  size_t size() const { return stored_.size(); }

 private:
  std::vector<core::StoredRuleSet> stored_;
};

// The referral repository's events as region 13's stream, positions
// "<n>-0" for the n-th event; other regions have none.
class RepositoryEventLog final : public core::EventLog {
 public:
  explicit RepositoryEventLog(testing::InMemoryReferralRepository* events)
      : events_(events) {}
  absl::StatusOr<std::vector<core::LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position,
      int limit) override;
  absl::StatusOr<std::string> LastPosition(const std::string& region) override;

 private:
  testing::InMemoryReferralRepository* const events_;
};

// The callers an input can pick, by its second byte.
const std::vector<core::Caller>& Callers();

// The world's start: Monday 2026-11-23 09:00 in Stockholm.
absl::Time WorldStart();

// Europe/Stockholm.
absl::TimeZone Stockholm();

class World {
 public:
  World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // A summary of everything stored: it changes with every write.
  std::string StateDigest();

  const core::SwedishCalendar& calendar;
  core::ManualClock clock;
  CountingIds ids;
  core::Pseudonymizer pseudonymizer;
  testing::InMemoryReferralRepository referral_store;
  testing::InMemoryDirectoryRepository directory_store;
  testing::InMemoryAuditRepository audit_store;
  InMemoryRuleRepository rule_store;
  core::DeadlineKeeper keeper;
  core::ReferralDesk referrals;
  core::DirectoryDesk directory;
  core::PlacementDesk placements;
  core::Matchmaker matchmaker;
  core::QueueDesk queues;
  core::CoordinatorDesk coordinator;
  RepositoryEventLog event_log;
  core::EventDesk events;
  core::ConsentDesk consents;
  core::PrivacyDesk privacy;

  // Made at the start.
  std::string referral;    // "regions/13/referrals/..."
  std::string offer;       // "regions/13/offers/..."
  std::string clock_name;  // the offer's answer clock
  static constexpr char kOffering[] =
      "providers/halsosam-halmstad/offerings/kom-igang";
};

}  // namespace slussen::fuzz

#endif  // SLUSSEN_TESTS_FUZZ_FUZZ_WORLD_H_
