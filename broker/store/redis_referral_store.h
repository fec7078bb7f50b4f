// Referrals stored in Redis: the ReferralRepository of a running broker.
//
// Layout (redis_keys.h): a hash per referral (the Referral protobuf and the
// fields scripts and listings need: version, state, kind, org, pnr,
// assigned), id indexes per region, per referring and per assigned
// organisation, the set of matchable (RECEIVED or QUEUED) referrals, and
// the region's event stream. Ids sort by creation time, so indexes are
// sorted sets read in lexical order.
//
// Atomicity: a create or an update and its event are one RedisChange:
// checked (idempotency key, id free, version read) before anything is
// written. Other stores (offers) add a referral's update to their own
// change with UpdateInto, so that an offer and the referral it moves are
// written together.
//
// Thread-safe: all state is in Redis; the pool is thread-safe.
#ifndef SLUSSEN_BROKER_STORE_REDIS_REFERRAL_STORE_H_
#define SLUSSEN_BROKER_STORE_REDIS_REFERRAL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "broker/core/ports/referral_repository.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisReferralStore final : public core::ReferralRepository {
 public:
  struct Options {
    // How long an idempotency key is remembered.
    absl::Duration idempotency_ttl = absl::Hours(24 * 30);
    // The first count of a region's clocks written before counts were
    // kept (CountClocks): clocks a page (about: a ZSCAN's COUNT), pages a
    // call. 500 clocks take a few milliseconds of Redis.
    int count_page = 500;
    int count_pages_per_call = 8;
  };

  // `pool` must outlive the store.
  explicit RedisReferralStore(RedisPool* pool)
      : RedisReferralStore(pool, Options()) {}
  RedisReferralStore(RedisPool* pool, Options options);

  using core::ReferralRepository::Create;
  absl::StatusOr<core::CreateOutcome> Create(
      const core::ReferralRecord& record,
      const std::vector<slussen::v1::Event>& events,
      const std::optional<core::IdempotencyKey>& key,
      const std::vector<core::ClockWrite>& clocks) override;

  absl::StatusOr<core::ReferralRecord> Get(const std::string& region,
                                           const std::string& id) override;
  absl::StatusOr<std::vector<std::optional<core::ReferralRecord>>> GetReferrals(
      const std::string& region, const std::vector<std::string>& ids) override;

  absl::StatusOr<int64_t> Apply(const core::ReferralChange& change) override;

  absl::StatusOr<core::ListPage> List(const core::ListQuery& query) override;

  absl::StatusOr<std::vector<core::ReferralRecord>> ListMatchable(
      const std::string& region) override;

  absl::StatusOr<core::OfferRecord> GetOffer(const std::string& region,
                                             const std::string& id) override;

  absl::StatusOr<core::OfferPage> ListOffers(
      const core::OfferQuery& query) override;

  absl::StatusOr<std::vector<std::string>> DueHolds(const std::string& region,
                                                    absl::Time now) override;

  absl::StatusOr<std::vector<std::string>> FindParticipant(
      const std::string& region, const std::string& key,
      bool by_personnummer) override;

  absl::StatusOr<std::vector<std::string>> ProtectedReferrals(
      const std::string& region) override;
  absl::StatusOr<std::vector<std::string>> FinishedBefore(
      const std::string& region, absl::Time before, int limit) override;

  // Clocks (redis_referral_store_clocks.cc).
  absl::StatusOr<std::vector<core::ClockRecord>> ListClocks(
      const std::string& region, const std::string& referral_id) override;
  absl::StatusOr<std::vector<std::vector<core::ClockRecord>>> ListClocksOfEach(
      const std::string& region,
      const std::vector<std::string>& referral_ids) override;
  absl::StatusOr<core::ClockRecord> GetClock(const std::string& region,
                                             const std::string& id) override;
  absl::StatusOr<std::vector<std::optional<core::ClockRecord>>> GetClocks(
      const std::string& region, const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<std::string>> DueClocks(const std::string& region,
                                                     absl::Time now,
                                                     int limit) override;
  absl::StatusOr<std::vector<core::ClockRecord>> ListClocksStarted(
      const std::string& region, absl::Time start, absl::Time end,
      int limit) override;
  using core::ReferralRepository::ListOpenClocks;
  absl::StatusOr<std::vector<core::ClockRecord>> ListOpenClocks(
      const std::string& region,
      const std::optional<core::OpenClockPosition>& after, int limit) override;
  absl::StatusOr<int64_t> ApplyClock(const core::ClockWrite& write) override;
  // One change script per clock, up to RedisChange::kChangesPerScript of
  // them to a script call, all in one round trip (per region).
  absl::StatusOr<std::vector<absl::Status>> ApplyClocks(
      const std::vector<core::ClockWrite>& writes) override;

  // Fires planned steps, and prepares those due by `prepare_until`, by a
  // script per call (redis_referral_store_clocks.cc), atomically each.
  absl::StatusOr<core::PlannedFiring> FirePlanned(const std::string& region,
                                                  absl::Time now,
                                                  absl::Time prepare_until,
                                                  int limit) override;

  // Counted as clocks are written and fire (lua/includes/clock_tally.lua),
  // read by a script that applies the moves of the steps fired since. A
  // region whose clocks were written before counts were kept (or a new
  // epoch of its counts) is counted once, a few pages a call, meanwhile
  // UNAVAILABLE saying so.
  absl::StatusOr<std::vector<core::ClockTally>> CountClocks(
      const std::string& region) override;

  // Adds to `change` the check and writes of one clock and its event. A
  // new clock is named in its referral's hash (keys::ClockField), unless
  // `named_by_caller`: a create names its clocks in the referral's own
  // HSET, one write fewer.
  static void ClockInto(RedisChange& change, const core::ClockWrite& write,
                        bool named_by_caller = false);

  // Adds to `change` the checks and writes that replace `read` by `changed`
  // (same referral) and append `event`. Returns the version `changed` gets.
  static int64_t UpdateInto(RedisChange& change,
                            const core::ReferralRecord& read,
                            const core::ReferralRecord& changed,
                            const slussen::v1::Event& event);

  // The key of a region's event stream.
  static std::string EventStreamKey(const std::string& region);

 private:
  RedisPool* const pool_;
  const Options options_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_REFERRAL_STORE_H_
