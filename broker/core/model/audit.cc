#include "broker/core/model/audit.h"

#include <openssl/evp.h>

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/proto_time.h"

namespace slussen::core {

namespace v1 = ::slussen::v1;

std::string AuditLinkHash(absl::string_view previous_hash,
                          absl::string_view bytes) {
  const std::string input = absl::StrCat(previous_hash, bytes);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

bool ChainVerifier::Add(const StoredAuditRecord& record) {
  if (!intact()) return false;
  ++checked_;
  if (record.previous_hash != last_hash_) {
    first_broken_ = record.position;
    problem_ = absl::StrCat(
        "previous_hash ", record.previous_hash.empty() ? "(empty)" : "",
        record.previous_hash, " does not match the record before (",
        last_hash_.empty() ? "none" : last_hash_,
        "): a record before it was removed or altered");
    return false;
  }
  const std::string expected =
      AuditLinkHash(record.previous_hash, record.bytes);
  if (record.hash != expected) {
    first_broken_ = record.position;
    problem_ = absl::StrCat("hash ", record.hash,
                            " does not match the record's content (", expected,
                            "): the record was altered");
    return false;
  }
  last_hash_ = record.hash;
  if (anchor_count_ == checked_ && record.hash != anchor_hash_) {
    first_broken_ = record.position;
    problem_ = absl::StrCat("record ", checked_, " has hash ", record.hash,
                            " but the anchor kept outside says ", anchor_hash_,
                            ": the chain was rewritten");
    return false;
  }
  return true;
}

bool ChainVerifier::Finish(const AuditHead& head) {
  if (!intact()) return false;
  if (anchor_count_ > checked_) {
    first_broken_ = "head";
    problem_ =
        absl::StrCat("the chain has ", checked_,
                     " records but the anchor kept outside names record ",
                     anchor_count_, ": records were removed");
    return false;
  }
  if (head.hash != last_hash_ || head.count != checked_) {
    first_broken_ = "head";
    problem_ = absl::StrCat("the head names ", head.count, " records ending ",
                            head.hash.empty() ? "(none)" : head.hash,
                            " but the chain has ", checked_, " ending ",
                            last_hash_.empty() ? "(none)" : last_hash_,
                            ": records at the end were removed or added");
    return false;
  }
  return true;
}

std::string AuditPurpose(const v1::Referral& referral) {
  if (!referral.has_consent()) return "IMPULSE";
  return v1::ConsentPurpose_Name(referral.consent().purpose());
}

v1::AuditRecord AuditOfChange(const ReferralRecord& record,
                              const v1::Event& event,
                              v1::AuditOperation operation) {
  v1::AuditRecord audit;
  *audit.mutable_time() = event.time();
  *audit.mutable_actor() = event.actor();
  audit.set_operation(operation);
  audit.set_resource(record.referral.name());
  audit.set_purpose(operation == v1::AUDIT_OPERATION_ERASE
                        ? absl::StrCat("ERASURE: ", event.transition().note())
                        : AuditPurpose(record.referral));
  if (operation == v1::AUDIT_OPERATION_CREATE &&
      !record.referral.second_referral_reason().empty()) {
    absl::StrAppend(audit.mutable_purpose(), "; SECOND REFERRAL: ",
                    record.referral.second_referral_reason());
  }
  audit.set_request_id(event.request_id());
  audit.set_subject(record.audit_subject);
  return audit;
}

v1::AuditRecord AuditOfRead(const Caller& caller, const ReferralRecord& record,
                            const std::string& resource, absl::Time now) {
  v1::AuditRecord audit;
  *audit.mutable_time() = ToProtoTimestamp(now);
  *audit.mutable_actor() = caller.ToActor();
  audit.set_operation(v1::AUDIT_OPERATION_READ);
  audit.set_resource(resource);
  audit.set_purpose(AuditPurpose(record.referral));
  audit.set_request_id(caller.request_id);
  audit.set_subject(record.audit_subject);
  return audit;
}

absl::StatusOr<v1::AuditRecord> ToApiRecord(const std::string& region,
                                            const StoredAuditRecord& stored) {
  v1::AuditRecord record;
  if (!record.ParseFromString(stored.bytes)) {
    return absl::DataLossError(absl::StrCat("audit record ", stored.position,
                                            " of region ", region,
                                            " cannot be decoded"));
  }
  record.set_name(
      absl::StrCat("regions/", region, "/auditRecords/", stored.position));
  record.set_previous_hash(stored.previous_hash);
  record.set_hash(stored.hash);
  return record;
}

}  // namespace slussen::core
