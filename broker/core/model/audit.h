// The audit trail: who read or changed a participant's personal data.
//
// Every change of a referral that holds personal data is recorded by the
// store in the same atomic step as the change (the store builds the record
// with AuditOfChange); every read that returns personal data is recorded
// (AuditOfRead, AuditRepository::Append) before the data leaves the broker.
// Records carry no personal data: the participant appears only as an audit
// subject, a keyed hash (Pseudonymizer::AuditSubject) that the records of
// one person share.
//
// Records are hash-chained per region: each stores the hash of the one
// before and its own hash, SHA-1(previous hash + stored bytes), linked by
// the store atomically as it appends. ChainVerifier walks a chain and names
// the first record that does not verify, so a removed or altered record is
// found. The chain's head (last hash, count) is kept beside it, so that
// removing records at the end shows too. Someone able to rewrite Redis
// could recompute the whole chain; keep the head printed by
// `slussctl audit verify` somewhere else to catch that as well.
#ifndef SLUSSEN_BROKER_CORE_MODEL_AUDIT_H_
#define SLUSSEN_BROKER_CORE_MODEL_AUDIT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/records.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/privacy_service.pb.h"

namespace slussen::core {

// One stored record: the record's bytes (an AuditRecord without name,
// previous_hash and hash) and the chain fields the store linked it with.
struct StoredAuditRecord {
  // The position in the region's chain (a Redis stream id).
  std::string position;
  std::string bytes;
  std::string previous_hash;
  std::string hash;
};

// The chain's head as stored beside it.
struct AuditHead {
  std::string hash;
  int64_t count = 0;
};

// Lowercase hex SHA-1 of `previous_hash` followed by `bytes`: the link.
std::string AuditLinkHash(absl::string_view previous_hash,
                          absl::string_view bytes);

// Checks a chain record by record. Feed every record in order, then the
// head; `intact()` says whether all verified.
class ChainVerifier {
 public:
  // False (and remembers why) at the first record that does not verify.
  bool Add(const StoredAuditRecord& record);
  // The head must name the last record's hash and the number of records.
  bool Finish(const AuditHead& head);
  // Record number `count` (1-based) must have `hash`: an anchor kept
  // outside the store. Call before the first Add.
  void ExpectAt(int64_t count, std::string hash) {
    anchor_count_ = count;
    anchor_hash_ = std::move(hash);
  }
  // The hash of the last record that verified.
  const std::string& last_hash() const { return last_hash_; }

  bool intact() const { return problem_.empty(); }
  int64_t checked() const { return checked_; }
  // The position of the first record that does not verify ("head" for the
  // head), and why.
  const std::string& first_broken() const { return first_broken_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string last_hash_;
  int64_t checked_ = 0;
  int64_t anchor_count_ = 0;
  std::string anchor_hash_;
  std::string first_broken_;
  std::string problem_;
};

// The purpose a use of `referral`'s data serves: its consent's purpose,
// "IMPULSE" without consent.
std::string AuditPurpose(const slussen::v1::Referral& referral);

// The record of a change of `record` described by `event`: who (the
// event's actor), what (`operation` on the referral), when, why (the
// consent's purpose; for an erasure "ERASURE: " and the reason, which the
// erasure event carries in its transition's note; for a creation with a
// second_referral_reason, "; SECOND REFERRAL: " and the reason after the
// purpose), the request id and the subject.
slussen::v1::AuditRecord AuditOfChange(const ReferralRecord& record,
                                       const slussen::v1::Event& event,
                                       slussen::v1::AuditOperation operation);

// The record of `caller` reading `resource` (a referral or consent name)
// of `record` at `now`.
slussen::v1::AuditRecord AuditOfRead(const Caller& caller,
                                     const ReferralRecord& record,
                                     const std::string& resource,
                                     absl::Time now);

// The API form of a stored record: its fields, name and chain hashes.
absl::StatusOr<slussen::v1::AuditRecord> ToApiRecord(
    const std::string& region, const StoredAuditRecord& stored);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_AUDIT_H_
