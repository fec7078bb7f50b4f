// Where new versions of deadline rule sets are kept (the built-in seed
// rules are version 1 of theirs, in code: deadlines.h). A version, once
// added, never changes; clocks keep the rule they started under.
//
// Thread-safe implementations.
#ifndef SLUSSEN_BROKER_CORE_PORTS_DEADLINE_RULE_REPOSITORY_H_
#define SLUSSEN_BROKER_CORE_PORTS_DEADLINE_RULE_REPOSITORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "slussen/v1/deadline.pb.h"

namespace slussen::core {

// One stored version: the rule set id and its place (1, 2, ...) among the
// stored versions of that id.
struct StoredRuleSet {
  std::string id;
  int index = 0;
  slussen::v1::DeadlineRuleSet set;
};

class DeadlineRuleRepository {
 public:
  virtual ~DeadlineRuleRepository() = default;

  // Appends `set` to the stored versions of `id`; its index (1 for the
  // first stored version).
  virtual absl::StatusOr<int> Append(
      const std::string& id, const slussen::v1::DeadlineRuleSet& set) = 0;

  // Every stored version of every id.
  virtual absl::StatusOr<std::vector<StoredRuleSet>> ListAll() = 0;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_PORTS_DEADLINE_RULE_REPOSITORY_H_
