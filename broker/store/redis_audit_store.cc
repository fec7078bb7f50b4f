#include "broker/store/redis_audit_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"
#include "broker/store/redis_keys.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;

absl::StatusOr<core::StoredAuditRecord> DecodeEntry(const std::string& region,
                                                    const RedisValue& entry) {
  if (entry.elements.size() != 2) {
    return absl::InternalError("redis: unexpected audit stream entry");
  }
  core::StoredAuditRecord record{.position = entry.elements[0].str};
  bool has_bytes = false;
  const std::vector<RedisValue>& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& field = fields[i].str;
    if (field == "r") {
      record.bytes = fields[i + 1].str;
      has_bytes = true;
    } else if (field == "p") {
      record.previous_hash = fields[i + 1].str;
    } else if (field == "h") {
      record.hash = fields[i + 1].str;
    }
  }
  if (!has_bytes) {
    return absl::DataLossError(absl::StrCat("audit record ", record.position,
                                            " of region ", region,
                                            " has no content"));
  }
  return record;
}

}  // namespace

void RedisAuditStore::AppendInto(RedisChange& change, const std::string& region,
                                 const v1::AuditRecord& record) {
  change.AuditAppend(keys::Audit(region), keys::AuditHead(region),
                     record.subject().empty()
                         ? std::string()
                         : keys::AuditSubject(region, record.subject()),
                     record.SerializeAsString());
}

absl::Status RedisAuditStore::Append(
    const std::string& region, const std::vector<v1::AuditRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  RedisChange change;
  for (const v1::AuditRecord& record : records) {
    AppendInto(change, region, record);
  }
  return change.Apply(*pool_).status();
}

// The page in one round trip: lua/audit_subject_records.lua.
absl::StatusOr<core::AuditPage> RedisAuditStore::ListBySubject(
    const std::string& region, const std::string& subject, int64_t offset,
    int limit) {
  ASSIGN_OR_RETURN(
      const RedisValue reply,
      pool_->Eval(lua::AuditSubjectRecords(),
                  {keys::AuditSubject(region, subject), keys::Audit(region)},
                  {absl::StrCat(offset), absl::StrCat(offset + limit - 1)}));
  if (reply.elements.size() != 2) {
    return absl::InternalError("redis: unexpected reply listing audit");
  }
  core::AuditPage page;
  for (const RedisValue& entry : reply.elements[1].elements) {
    ASSIGN_OR_RETURN(core::StoredAuditRecord record,
                     DecodeEntry(region, entry));
    page.records.push_back(std::move(record));
  }
  if (offset + limit < reply.elements[0].integer) {
    page.next_offset = absl::StrCat(offset + limit);
  }
  return page;
}

absl::StatusOr<std::vector<core::StoredAuditRecord>> RedisAuditStore::ReadChain(
    const std::string& region, const std::string& after_position, int limit) {
  const std::string from =
      after_position.empty() ? "-" : absl::StrCat("(", after_position);
  ASSIGN_OR_RETURN(const RedisValue entries,
                   pool_->Command({"XRANGE", keys::Audit(region), from, "+",
                                   "COUNT", absl::StrCat(limit)}));
  std::vector<core::StoredAuditRecord> out;
  for (const RedisValue& entry : entries.elements) {
    ASSIGN_OR_RETURN(core::StoredAuditRecord record,
                     DecodeEntry(region, entry));
    out.push_back(std::move(record));
  }
  return out;
}

absl::StatusOr<core::AuditHead> RedisAuditStore::Head(
    const std::string& region) {
  ASSIGN_OR_RETURN(
      const RedisValue reply,
      pool_->Command({"HMGET", keys::AuditHead(region), "hash", "count"}));
  core::AuditHead head;
  if (reply.elements.size() != 2) {
    return absl::InternalError("redis: unexpected reply reading audit head");
  }
  head.hash = reply.elements[0].str;
  if (!reply.elements[1].is_nil() &&
      !absl::SimpleAtoi(reply.elements[1].str, &head.count)) {
    return absl::DataLossError(
        absl::StrCat("the audit head of region ", region, " is unreadable"));
  }
  return head;
}

}  // namespace slussen::store
