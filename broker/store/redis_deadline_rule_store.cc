#include "broker/store/redis_deadline_rule_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"
#include "broker/store/redis_keys.h"

namespace slussen::store {

absl::StatusOr<int> RedisDeadlineRuleStore::Append(
    const std::string& id, const slussen::v1::DeadlineRuleSet& set) {
  ASSIGN_OR_RETURN(const RedisValue n,
                   pool_->Eval(lua::AppendRuleSet(),
                               {keys::Directory("rule_set", id),
                                keys::DirectoryIndex("rule_set")},
                               {set.SerializeAsString(), id}));
  return static_cast<int>(n.integer);
}

absl::StatusOr<std::vector<core::StoredRuleSet>>
RedisDeadlineRuleStore::ListAll() {
  ASSIGN_OR_RETURN(
      const RedisValue ids,
      pool_->Command({"SMEMBERS", keys::DirectoryIndex("rule_set")}));
  std::vector<std::string> sorted;
  for (const RedisValue& id : ids.elements) sorted.push_back(id.str);
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::string>> reads;
  for (const std::string& id : sorted) {
    reads.push_back({"LRANGE", keys::Directory("rule_set", id), "0", "-1"});
  }
  std::vector<core::StoredRuleSet> out;
  if (reads.empty()) return out;
  ASSIGN_OR_RETURN(const std::vector<RedisValue> lists, pool_->Pipeline(reads));
  for (size_t i = 0; i < lists.size(); ++i) {
    if (lists[i].type == RedisValue::Type::kError) {
      return StatusFromErrorReply(lists[i].str);
    }
    for (size_t k = 0; k < lists[i].elements.size(); ++k) {
      core::StoredRuleSet& stored = out.emplace_back();
      stored.id = sorted[i];
      stored.index = static_cast<int>(k) + 1;
      if (!stored.set.ParseFromString(lists[i].elements[k].str)) {
        return absl::DataLossError(absl::StrCat("deadline rule set ", sorted[i],
                                                " version ", k + 1,
                                                " is unreadable"));
      }
    }
  }
  return out;
}

}  // namespace slussen::store
