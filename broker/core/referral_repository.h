// The storage interface the core needs for referrals.
//
// The broker implements it on Redis (broker/store/redis_referral_store.h);
// tests of pure logic may implement it in memory (tests/fakes/). Every write
// stores a referral together with the event describing the change, in one
// atomic step: there is never a change without its event or the reverse.
// Implementations must be thread-safe.
//
// Errors: NOT_FOUND for a missing referral; ABORTED when the stored version
// is no longer the one read (a lost race: re-read and try again);
// UNAVAILABLE when the store cannot be reached (nothing was written, or, if
// the connection broke after sending, the write may have happened: callers
// retry with a request_id).
#ifndef SLUSSEN_BROKER_CORE_REFERRAL_REPOSITORY_H_
#define SLUSSEN_BROKER_CORE_REFERRAL_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// A referral as stored: the API message without anything the caller may not
// get back (no clear personnummer, no allowed actions, no etag), plus the
// fields the broker keeps to itself.
struct ReferralRecord {
  std::string region;
  std::string id;
  // 0 before the first write; then 1, 2, ...: the etag.
  int64_t version = 0;
  slussen::v1::Referral referral;
  // Keyed hash of the personnummer (see pseudonymizer.h); empty when none.
  std::string personal_identity_pseudonym;
  // The organisation of the provider holding or serving the referral;
  // empty while none does.
  std::string assigned_organisation;
};

// Makes a create idempotent: the same organisation and request id return the
// referral the first call made.
struct IdempotencyKey {
  std::string organisation;
  std::string request_id;
  // A keyed hash of the request body, to tell a retry from a different
  // request that reuses the request id.
  std::string fingerprint;
};

// The outcome of a create.
struct CreateOutcome {
  // True if this call wrote the record; false if the idempotency key had
  // been used before.
  bool created = false;
  // When created: the record as written. Otherwise the record made by the
  // first call.
  ReferralRecord record;
  // When not created: the fingerprint stored with the first call.
  std::string stored_fingerprint;
};

// Which index a listing walks.
enum class ListIndex {
  // Every referral of the region.
  kRegion,
  // Referrals made by `ListQuery::organisation`.
  kReferringOrganisation,
  // Referrals held or served by `ListQuery::organisation`.
  kAssignedOrganisation,
};

// One page of a listing, newest first (ids sort by creation time).
struct ListQuery {
  // Regions to walk; their listings are merged by id.
  std::vector<std::string> regions;
  ListIndex index = ListIndex::kRegion;
  std::string organisation;
  // Only states / kinds in these sets; empty admits all.
  std::vector<slussen::v1::ReferralState> states;
  std::vector<slussen::v1::ReferralKind> kinds;
  // Only referrals made by this organisation; empty admits all.
  std::string referring_organisation;
  // Return referrals with ids strictly below this one; empty: from the
  // newest.
  std::string before_id;
  // At most this many referrals.
  int page_size = 50;
  // Examine at most this many index entries, so that a filter matching
  // little cannot make one call walk everything. The page may then hold
  // fewer than page_size referrals.
  int scan_limit = 1000;
};

struct ListPage {
  std::vector<ReferralRecord> records;
  // The last id examined, when more may follow; empty at the end.
  std::string resume_before_id;
};

class ReferralRepository {
 public:
  virtual ~ReferralRepository() = default;

  // Writes `record` (version 0, becomes 1) and `event`, unless `key` (when
  // given) was used before.
  virtual absl::StatusOr<CreateOutcome> Create(
      const ReferralRecord& record, const slussen::v1::Event& event,
      const std::optional<IdempotencyKey>& key) = 0;

  virtual absl::StatusOr<ReferralRecord> Get(const std::string& region,
                                             const std::string& id) = 0;

  // Replaces `read` (the record as the caller read it, at `read.version`)
  // by `changed`, and writes `event`, if the stored version is still
  // `read.version`; returns the new version. ABORTED otherwise. Indexes
  // that follow a field (the assigned organisation) move from the value in
  // `read` to the one in `changed`.
  virtual absl::StatusOr<int64_t> Update(const ReferralRecord& read,
                                         const ReferralRecord& changed,
                                         const slussen::v1::Event& event) = 0;

  virtual absl::StatusOr<ListPage> List(const ListQuery& query) = 0;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_REFERRAL_REPOSITORY_H_
