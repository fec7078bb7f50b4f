// The storage interface of the audit trail (see model/audit.h for what a
// record holds and how the chain links), and RecordReads, which every read
// of personal data goes through before the data leaves the broker.
#ifndef SLUSSEN_BROKER_CORE_PORTS_AUDIT_REPOSITORY_H_
#define SLUSSEN_BROKER_CORE_PORTS_AUDIT_REPOSITORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/core/model/audit.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/records.h"
#include "slussen/v1/privacy_service.pb.h"

namespace slussen::core {

struct AuditPage {
  std::vector<StoredAuditRecord> records;
  // Where the next page starts; empty at the end.
  std::string next_offset;
};

// Storage of the audit chains. Thread-safe.
class AuditRepository {
 public:
  virtual ~AuditRepository() = default;

  // Appends `records` (all of `region`) to the region's chain in one atomic
  // step, in order. UNAVAILABLE when the store cannot be reached: the
  // caller must then not return the data it meant to record the read of.
  virtual absl::Status Append(
      const std::string& region,
      const std::vector<slussen::v1::AuditRecord>& records) = 0;

  // The records about `subject`, oldest first, from `offset` (an index
  // into the subject's records; 0 for the first), at most `limit`.
  virtual absl::StatusOr<AuditPage> ListBySubject(const std::string& region,
                                                  const std::string& subject,
                                                  int64_t offset,
                                                  int limit) = 0;

  // Records of the chain in order, after `after_position` (empty: from the
  // start), at most `limit`.
  virtual absl::StatusOr<std::vector<StoredAuditRecord>> ReadChain(
      const std::string& region, const std::string& after_position,
      int limit) = 0;

  virtual absl::StatusOr<AuditHead> Head(const std::string& region) = 0;
};

// One read to record: `caller` saw personal data of `record` through
// `resource` (a referral's or a consent's name).
struct AuditedRead {
  const ReferralRecord* record = nullptr;
  std::string resource;
};

// Records `reads` by `caller` at `now` in the audit trail (one atomic
// append per region), before the data is returned. Records without an
// audit subject are skipped. The caller must not return the data when
// this fails.
absl::Status RecordReads(AuditRepository& audit, const Caller& caller,
                         const std::vector<AuditedRead>& reads, absl::Time now);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_AUDIT_REPOSITORY_H_
