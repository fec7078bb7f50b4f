#include "broker/store/redis_matching_marks.h"

#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"
#include "broker/store/redis_keys.h"

namespace slussen::store {
namespace {

// A count as Redis keeps it: a missing key is 0.
std::string Count(const RedisValue& value) {
  return value.is_nil() ? "0" : value.str;
}

std::string Millis(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Milliseconds(d));
}

}  // namespace

absl::StatusOr<std::vector<RedisValue>> RedisMatchingMarks::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, pool_->Pipeline(commands));
  for (const RedisValue& reply : replies) {
    if (reply.type == RedisValue::Type::kError) {
      return StatusFromErrorReply(reply.str);
    }
  }
  return replies;
}

absl::StatusOr<RedisMatchingMarks::Marks> RedisMatchingMarks::Read(
    const std::string& region) {
  ASSIGN_OR_RETURN(const std::vector<RedisValue> read,
                   Pipeline({{"GET", keys::MatchingChanges(region)},
                             {"GET", keys::MatchingSeen(region)},
                             {"GET", keys::MatchingPassed(region)}}));
  Marks marks{.changes = Count(read[0]), .seen = Count(read[1])};
  if (!read[2].is_nil()) marks.passed = read[2].str;
  return marks;
}

absl::StatusOr<std::string> RedisMatchingMarks::Changes(
    const std::string& region) {
  ASSIGN_OR_RETURN(const RedisValue changes,
                   pool_->Command({"GET", keys::MatchingChanges(region)}));
  return Count(changes);
}

absl::Status RedisMatchingMarks::CountChange(const std::string& region) {
  return pool_->Command({"INCR", keys::MatchingChanges(region)}).status();
}

absl::StatusOr<std::string> RedisMatchingMarks::BeginPass(
    const std::string& region) {
  ASSIGN_OR_RETURN(const std::vector<RedisValue> began,
                   Pipeline({{"DEL", keys::MatchingDirty(region)},
                             {"GET", keys::MatchingChanges(region)}}));
  return Count(began[1]);
}

absl::Status RedisMatchingMarks::EndPass(const std::string& region,
                                         const std::string& changes,
                                         const std::string& day) {
  return pool_
      ->Eval(lua::MatchingPassEnded(),
             {keys::MatchingSeen(region), keys::MatchingPassed(region)},
             {changes, day})
      .status();
}

absl::StatusOr<std::optional<absl::Duration>> RedisMatchingMarks::MarkDirty(
    const std::string& region, absl::Duration ttl) {
  ASSIGN_OR_RETURN(
      const std::vector<RedisValue> marked,
      Pipeline({{"SET", keys::MatchingDirty(region), "1", "PX", Millis(ttl)},
                {"PTTL", keys::MatchingLock(region)}}));
  // PTTL: -2 without the key, -1 without an expiry.
  if (marked[1].integer < 0) return std::nullopt;
  return absl::Milliseconds(marked[1].integer);
}

absl::StatusOr<bool> RedisMatchingMarks::IsDirty(const std::string& region) {
  ASSIGN_OR_RETURN(const RedisValue dirty,
                   pool_->Command({"EXISTS", keys::MatchingDirty(region)}));
  return dirty.integer > 0;
}

absl::StatusOr<bool> RedisMatchingMarks::Lock(const std::string& region,
                                              const std::string& token,
                                              absl::Duration ttl) {
  ASSIGN_OR_RETURN(const RedisValue locked,
                   pool_->Command({"SET", keys::MatchingLock(region), token,
                                   "NX", "PX", Millis(ttl)}));
  return !locked.is_nil();
}

absl::StatusOr<bool> RedisMatchingMarks::Renew(const std::string& region,
                                               const std::string& token,
                                               absl::Duration ttl) {
  ASSIGN_OR_RETURN(
      const RedisValue renewed,
      pool_->Eval(lua::MatchingRenewLease(), {keys::MatchingLock(region)},
                  {token, Millis(ttl)}));
  return renewed.integer == 1;
}

absl::StatusOr<bool> RedisMatchingMarks::Unlock(const std::string& region,
                                                const std::string& token) {
  ASSIGN_OR_RETURN(const RedisValue unlocked,
                   pool_->Eval(lua::MatchingUnlock(),
                               {keys::MatchingLock(region)}, {token}));
  return unlocked.integer == 1;
}

absl::StatusOr<std::vector<RedisMatchingMarks::Work>>
RedisMatchingMarks::CountWork(const std::vector<std::string>& regions,
                              absl::Time now) {
  std::vector<Work> out;
  if (regions.empty()) return out;
  const std::string until = absl::StrCat(absl::ToUnixMillis(now));
  std::vector<std::vector<std::string>> counts;
  for (const std::string& region : regions) {
    counts.push_back({"ZCARD", keys::Matchable(region)});
    counts.push_back({"ZCOUNT", keys::Holds(region), "-inf", until});
  }
  ASSIGN_OR_RETURN(const std::vector<RedisValue> replies, Pipeline(counts));
  for (size_t i = 0; i < regions.size(); ++i) {
    out.push_back({.waiting = replies[2 * i].integer,
                   .holds_due = replies[2 * i + 1].integer});
  }
  return out;
}

}  // namespace slussen::store
