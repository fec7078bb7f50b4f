#include "tests/fakes/in_memory_audit_repository.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace slussen::testing {
namespace {

// The n of a position "<n>-0"; 0 for none.
int64_t Number(const std::string& position) {
  int64_t n = 0;
  (void)absl::SimpleAtoi(position.substr(0, position.find('-')), &n);
  return n;
}

}  // namespace

absl::Status InMemoryAuditRepository::Append(
    const std::string& region,
    const std::vector<slussen::v1::AuditRecord>& records) {
  absl::MutexLock lock(&mu_);
  Chain& chain = chains_[region];
  for (const slussen::v1::AuditRecord& record : records) {
    core::StoredAuditRecord stored;
    stored.position = absl::StrCat(next_++, "-0");
    stored.bytes = record.SerializeAsString();
    stored.previous_hash =
        chain.records.empty() ? "" : chain.records.back().hash;
    stored.hash = core::AuditLinkHash(stored.previous_hash, stored.bytes);
    chain.records.push_back(std::move(stored));
    chain.subjects.push_back(record.subject());
  }
  return absl::OkStatus();
}

absl::StatusOr<core::AuditPage> InMemoryAuditRepository::ListBySubject(
    const std::string& region, const std::string& subject, int64_t offset,
    int limit) {
  absl::MutexLock lock(&mu_);
  core::AuditPage page;
  const auto it = chains_.find(region);
  if (it == chains_.end()) return page;
  int64_t seen = 0;
  for (size_t i = 0; i < it->second.records.size(); ++i) {
    if (it->second.subjects[i] != subject) continue;
    if (seen++ < offset) continue;
    if (static_cast<int>(page.records.size()) == limit) {
      page.next_offset = absl::StrCat(offset + limit);
      break;
    }
    page.records.push_back(it->second.records[i]);
  }
  return page;
}

absl::StatusOr<std::vector<core::StoredAuditRecord>>
InMemoryAuditRepository::ReadChain(const std::string& region,
                                   const std::string& after_position,
                                   int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<core::StoredAuditRecord> out;
  const auto it = chains_.find(region);
  if (it == chains_.end()) return out;
  const int64_t after = Number(after_position);
  for (const core::StoredAuditRecord& record : it->second.records) {
    if (static_cast<int>(out.size()) == limit) break;
    if (Number(record.position) > after) out.push_back(record);
  }
  return out;
}

absl::StatusOr<core::AuditHead> InMemoryAuditRepository::Head(
    const std::string& region) {
  absl::MutexLock lock(&mu_);
  core::AuditHead head;
  const auto it = chains_.find(region);
  if (it == chains_.end() || it->second.records.empty()) return head;
  head.hash = it->second.records.back().hash;
  head.count = static_cast<int64_t>(it->second.records.size());
  return head;
}

int64_t InMemoryAuditRepository::size() const {
  absl::MutexLock lock(&mu_);
  return next_ - 1;
}

}  // namespace slussen::testing
