#include "broker/store/redis_change.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"

namespace slussen::store {
namespace {

// The outcome of one change from its element of the script's reply.
absl::StatusOr<RedisChange::Result> ResultOf(const RedisValue& reply) {
  if (reply.type == RedisValue::Type::kError) {
    return StatusFromErrorReply(reply.str);
  }
  if (reply.type != RedisValue::Type::kArray || reply.elements.empty()) {
    return absl::InternalError("redis: unexpected reply to a change");
  }
  RedisChange::Result result;
  if (reply.elements[0].integer == 0) {
    result.existing = reply.elements.size() > 1 ? reply.elements[1].str : "";
    return result;
  }
  // {1, number of stream ids, the ids..., the values read...}
  const size_t ids = reply.elements.size() > 1
                         ? static_cast<size_t>(reply.elements[1].integer)
                         : 0;
  if (reply.elements.size() < 2 + ids) {
    return absl::InternalError("redis: unexpected reply to a change");
  }
  for (size_t i = 2; i < reply.elements.size(); ++i) {
    const RedisValue& element = reply.elements[i];
    if (i < 2 + ids) {
      result.stream_ids.push_back(element.str);
    } else if (element.is_nil()) {
      result.reads.emplace_back(std::nullopt);
    } else {
      result.reads.emplace_back(element.str);
    }
  }
  return result;
}

}  // namespace

std::string RedisChange::KeyIndex(const std::string& key) {
  auto [it, inserted] =
      key_index_.try_emplace(key, static_cast<int>(keys_.size()) + 1);
  if (inserted) keys_.push_back(key);
  return absl::StrCat(it->second);
}

RedisChange& RedisChange::Op(absl::string_view name,
                             std::initializer_list<absl::string_view> args) {
  ops_.emplace_back(name);
  ops_.push_back(absl::StrCat(args.size()));
  for (absl::string_view arg : args) ops_.emplace_back(arg);
  return *this;
}

RedisChange& RedisChange::OpWithFields(absl::string_view name,
                                       const std::string& key,
                                       Fields&& fields) {
  ops_.emplace_back(name);
  ops_.push_back(absl::StrCat(1 + 2 * fields.size()));
  ops_.push_back(KeyIndex(key));
  for (auto& [field, value] : fields) {
    ops_.push_back(std::move(field));
    ops_.push_back(std::move(value));
  }
  return *this;
}

RedisChange& RedisChange::ReadAlong(const std::string& key) {
  return Op("READ", {KeyIndex(key)});
}

RedisChange& RedisChange::IfExistsReturn(const std::string& key) {
  return Op("IFEXISTS", {KeyIndex(key)});
}

RedisChange& RedisChange::Absent(const std::string& key,
                                 const std::string& message,
                                 bool already_exists) {
  return Op("ABSENT", {KeyIndex(key), message,
                       already_exists ? "ALREADY_EXISTS" : "ABORTED"});
}

RedisChange& RedisChange::FieldEquals(const std::string& key,
                                      const std::string& field,
                                      const std::string& value,
                                      const std::string& message,
                                      bool missing_is_not_found) {
  return Op("HEQ", {KeyIndex(key), field, value, message,
                    missing_is_not_found ? "1" : "0"});
}

RedisChange& RedisChange::ClockVersionEquals(const ClockKeys& clock,
                                             int64_t version,
                                             const std::string& message) {
  return Op("CLOCKV",
            {KeyIndex(clock.hash), KeyIndex(clock.due), KeyIndex(clock.fired),
             clock.id, absl::StrCat(version), message});
}

RedisChange& RedisChange::WithdrawPrepared(const ClockKeys& clock) {
  return Op("CLOCKW", {KeyIndex(clock.hash), KeyIndex(clock.due),
                       KeyIndex(clock.fired), clock.prepared_prefix, clock.id});
}

RedisChange& RedisChange::TallyClock(const ClockKeys& clock,
                                     const std::string& tally,
                                     const std::string& plan) {
  return Op("TALLY",
            {KeyIndex(clock.hash), KeyIndex(clock.tallies),
             KeyIndex(clock.tally_moves), KeyIndex(clock.fired),
             KeyIndex(clock.open), clock.tally_moves_prefix, tally, plan});
}

RedisChange& RedisChange::HasFreeUnit(const std::string& key,
                                      const std::string& prefix,
                                      const std::string& message) {
  return Op("HFREE", {KeyIndex(key), prefix, message});
}

RedisChange& RedisChange::UnitFits(const std::string& key,
                                   const std::string& prefix, int64_t capacity,
                                   const std::string& message) {
  return Op("FITS", {KeyIndex(key), prefix, absl::StrCat(capacity), message});
}

RedisChange& RedisChange::HSet(const std::string& key, Fields fields) {
  return OpWithFields("HSET", key, std::move(fields));
}

RedisChange& RedisChange::HDel(const std::string& key,
                               const std::string& field) {
  return Op("HDEL", {KeyIndex(key), field});
}

RedisChange& RedisChange::HIncrBy(const std::string& key,
                                  const std::string& field, int64_t delta) {
  return Op("HINCRBY", {KeyIndex(key), field, absl::StrCat(delta)});
}

RedisChange& RedisChange::CloseUnit(const std::string& key,
                                    const std::string& prefix) {
  return Op("HCLOSE", {KeyIndex(key), prefix});
}

RedisChange& RedisChange::ZAdd(const std::string& key, const std::string& score,
                               const std::string& member) {
  return Op("ZADD", {KeyIndex(key), score, member});
}

RedisChange& RedisChange::ZRem(const std::string& key,
                               const std::string& member) {
  return Op("ZREM", {KeyIndex(key), member});
}

RedisChange& RedisChange::SAdd(const std::string& key,
                               const std::string& member) {
  return Op("SADD", {KeyIndex(key), member});
}

RedisChange& RedisChange::SRem(const std::string& key,
                               const std::string& member) {
  return Op("SREM", {KeyIndex(key), member});
}

RedisChange& RedisChange::AuditAppend(const std::string& stream_key,
                                      const std::string& head_key,
                                      const std::string& subject_key,
                                      const std::string& record) {
  return Op("AUDIT",
            {KeyIndex(stream_key), KeyIndex(head_key),
             subject_key.empty() ? "0" : KeyIndex(subject_key), record});
}

RedisChange& RedisChange::SetWithTtl(const std::string& key,
                                     const std::string& value,
                                     int64_t ttl_millis) {
  return Op("SETPX", {KeyIndex(key), value,
                      absl::StrCat(ttl_millis < 1 ? 1 : ttl_millis)});
}

RedisChange& RedisChange::XAdd(const std::string& key, Fields fields) {
  return OpWithFields("XADD", key, std::move(fields));
}

void RedisChange::AppendTo(RedisPool::ScriptCall& call) const {
  call.args.push_back(absl::StrCat(ops_.size()));
  call.args.push_back(absl::StrCat(call.keys.size()));
  call.args.insert(call.args.end(), ops_.begin(), ops_.end());
  call.keys.insert(call.keys.end(), keys_.begin(), keys_.end());
}

absl::StatusOr<RedisChange::Result> RedisChange::Apply(RedisPool& pool) const {
  RedisPool::ScriptCall call;
  AppendTo(call);
  ASSIGN_OR_RETURN(
      const RedisValue reply,
      pool.Eval(lua::Change(), std::move(call.keys), std::move(call.args)));
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 1) {
    return absl::InternalError("redis: unexpected reply to a change");
  }
  return ResultOf(reply.elements[0]);
}

absl::StatusOr<std::vector<absl::StatusOr<RedisChange::Result>>>
RedisChange::ApplyEach(RedisPool& pool, const std::vector<RedisChange>& changes,
                       int per_script) {
  const size_t per_call = std::max(per_script, 1);
  std::vector<RedisPool::ScriptCall> calls;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i % per_call == 0) calls.emplace_back();
    changes[i].AppendTo(calls.back());
  }
  std::vector<absl::StatusOr<Result>> results;
  if (calls.empty()) return results;
  ASSIGN_OR_RETURN(const std::vector<RedisValue> replies,
                   pool.EvalPipeline(lua::Change(), calls));
  for (size_t c = 0; c < calls.size(); ++c) {
    const size_t count = std::min(per_call, changes.size() - c * per_call);
    const RedisValue& reply = replies[c];
    for (size_t i = 0; i < count; ++i) {
      if (reply.type == RedisValue::Type::kError) {
        // The script failed as a whole (Redis refused to run it, or a
        // write failed): the changes before the failing one may be written.
        results.push_back(StatusFromErrorReply(reply.str));
      } else if (reply.type != RedisValue::Type::kArray ||
                 reply.elements.size() != count) {
        results.push_back(
            absl::InternalError("redis: unexpected reply to a change"));
      } else {
        results.push_back(ResultOf(reply.elements[i]));
      }
    }
  }
  return results;
}

}  // namespace slussen::store
