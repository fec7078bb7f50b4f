#include "broker/core/ports/audit_repository.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace slussen::core {

namespace v1 = ::slussen::v1;

absl::Status RecordReads(AuditRepository& audit, const Caller& caller,
                         const std::vector<AuditedRead>& reads,
                         absl::Time now) {
  std::map<std::string, std::vector<v1::AuditRecord>> by_region;
  for (const AuditedRead& read : reads) {
    if (read.record->audit_subject.empty()) continue;
    by_region[read.record->region].push_back(
        AuditOfRead(caller, *read.record, read.resource, now));
  }
  for (const auto& [region, records] : by_region) {
    absl::Status appended = audit.Append(region, records);
    if (!appended.ok()) {
      return absl::Status(
          appended.code(),
          absl::StrCat("the read could not be recorded in the audit trail, "
                       "so nothing is returned: ",
                       appended.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace slussen::core
