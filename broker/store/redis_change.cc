#include "broker/store/redis_change.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"

namespace slussen::store {

const char kStepsFiredLua[] = R"lua(
local function steps_fired(plan, score, fired)
  local n, p, k = #(plan or ''), 1, 0
  local s, w = score and tonumber(score), fired and tonumber(fired)
  while p < n do
    local l = string.byte(plan, p)
    local at = tonumber(string.sub(plan, p + 1, p + l))
    if (s and at >= s) or (w and at > w) then break end
    for _ = 1, 4 do p = p + 1 + string.byte(plan, p) end
    k = k + 1
  end
  return k
end
local function withdraw_prepared(plan, score, fired, prefix, id)
  if not fired then return end
  local n, p, last = #(plan or ''), 1, nil
  local s, w = score and tonumber(score), tonumber(fired)
  while p < n do
    local l = string.byte(plan, p)
    local at = string.sub(plan, p + 1, p + l)
    if s and tonumber(at) >= s then break end
    if tonumber(at) > w and at ~= last then
      redis.call('HDEL', prefix .. at, id)
      last = at
    end
    for _ = 1, 4 do p = p + 1 + string.byte(plan, p) end
  end
end
)lua";

namespace {

// ARGV holds one or more changes, each: the number of ARGV items of its
// operations, the offset of its keys in KEYS, then its operations, each:
// name, argument count, arguments. Key arguments are 1-based indexes into
// the change's own keys. For each change in turn, the first loop runs every
// check, the second every write, so a change whose check failed has written
// nothing. The first loop also refuses an HSET or XADD without fields
// (Redis would fail it midway, after the writes before it), so the writes
// cannot fail on their arguments. The reply has one element per change:
// {1, stream ids...} when written, {0, value} for an IFEXISTS replay, or
// the error of the check that failed.
const RedisScript& ChangeScript() {
  static const RedisScript* const kScript =
      new RedisScript(absl::StrCat(kStepsFiredLua, R"lua(
local function parse(first, last)
  local ops, pos = {}, first
  while pos <= last do
    local n = tonumber(ARGV[pos + 1])
    local args = {}
    for j = 1, n do args[j] = ARGV[pos + 1 + j] end
    ops[#ops + 1] = {ARGV[pos], args}
    pos = pos + 2 + n
  end
  return ops
end
-- The type of key each write needs (or none yet).
local write_kinds = {HSET = 'hash', HDEL = 'hash', HINCRBY = 'hash',
                     HCLOSE = 'hash', CLOCKW = 'hash', ZADD = 'zset',
                     ZREM = 'zset', SADD = 'set', SREM = 'set',
                     XADD = 'stream', AUDIT = 'stream'}
local function change(ops, base)
  for _, op in ipairs(ops) do
    local name, a = op[1], op[2]
    if name == 'IFEXISTS' then
      local value = redis.call('GET', KEYS[base + tonumber(a[1])])
      if value then return {0, value} end
    elseif name == 'ABSENT' then
      if redis.call('EXISTS', KEYS[base + tonumber(a[1])]) == 1 then
        return redis.error_reply(a[3] .. ' ' .. a[2])
      end
    elseif name == 'HEQ' then
      local key = KEYS[base + tonumber(a[1])]
      if a[5] == '1' and redis.call('EXISTS', key) == 0 then
        return redis.error_reply('NOT_FOUND ' .. a[4])
      end
      local actual = redis.call('HGET', key, a[2]) or ''
      if actual ~= a[3] then
        return redis.error_reply('ABORTED ' .. a[4] .. ' (' .. a[2] .. ' ' ..
                                 actual .. ', expected ' .. a[3] .. ')')
      end
    elseif name == 'CLOCKV' then
      local h = redis.call('HMGET', KEYS[base + tonumber(a[1])], 'version',
                           'plan')
      if not h[1] then return redis.error_reply('NOT_FOUND ' .. a[6]) end
      local version = tonumber(h[1]) + steps_fired(h[2],
          redis.call('ZSCORE', KEYS[base + tonumber(a[2])], a[4]),
          redis.call('GET', KEYS[base + tonumber(a[3])]))
      if version ~= tonumber(a[5]) then
        return redis.error_reply('ABORTED ' .. a[6] .. ' (version ' ..
                                 version .. ', expected ' .. a[5] .. ')')
      end
    elseif name == 'HFREE' then
      local p = a[2]
      local v = redis.call('HMGET', KEYS[base + tonumber(a[1])], p .. 'cap',
                           p .. 'occupied', p .. 'held')
      local free = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) -
                   (tonumber(v[3]) or 0)
      if free <= 0 then
        return redis.error_reply('FAILED_PRECONDITION ' .. a[3])
      end
    elseif name == 'FITS' then
      local p = a[2]
      local v = redis.call('HMGET', KEYS[base + tonumber(a[1])],
                           p .. 'occupied', p .. 'held')
      if (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) > tonumber(a[3]) then
        return redis.error_reply('FAILED_PRECONDITION ' .. a[4])
      end
    elseif (name == 'HSET' or name == 'XADD') and #a < 3 then
      return redis.error_reply('ERR change: ' .. name .. ' of ' ..
                               KEYS[base + tonumber(a[1])] .. ' has no fields')
    end
    -- A write Redis would refuse (a key of another type, a counter that is
    -- not an integer) must be found here: Redis does not roll a script
    -- back, so failing midway would leave the change written in part.
    local kind = write_kinds[name]
    if kind then
      local key = KEYS[base + tonumber(a[1])]
      local have = redis.call('TYPE', key)['ok']
      if have ~= 'none' and have ~= kind then
        return redis.error_reply('ERR change: ' .. name .. ' of ' .. key ..
                                 ', which holds a ' .. have)
      end
      if name == 'HINCRBY' then
        local v = redis.call('HGET', key, a[2])
        if v and not string.match(v, '^%-?%d+$') then
          return redis.error_reply('ERR change: HINCRBY of ' .. key .. ' ' ..
                                   a[2] .. ', which is not an integer')
        end
      end
    end
  end
  local ids = {}
  for _, op in ipairs(ops) do
    local name, a = op[1], op[2]
    local key = KEYS[base + tonumber(a[1])]
    if name == 'HSET' then
      redis.call('HSET', key, unpack(a, 2))
    elseif name == 'HDEL' then
      redis.call('HDEL', key, a[2])
    elseif name == 'CLOCKW' then
      withdraw_prepared(redis.call('HGET', key, 'plan'),
                        redis.call('ZSCORE', KEYS[base + tonumber(a[2])], a[5]),
                        redis.call('GET', KEYS[base + tonumber(a[3])]), a[4],
                        a[5])
    elseif name == 'HINCRBY' then
      redis.call('HINCRBY', key, a[2], a[3])
    elseif name == 'HCLOSE' then
      local v = redis.call('HMGET', key, a[2] .. 'occupied', a[2] .. 'held')
      redis.call('HSET', key, a[2] .. 'cap',
                 (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0),
                 a[2] .. 'closed', '1')
    elseif name == 'ZADD' then
      redis.call('ZADD', key, a[2], a[3])
    elseif name == 'ZREM' then
      redis.call('ZREM', key, a[2])
    elseif name == 'SADD' then
      redis.call('SADD', key, a[2])
    elseif name == 'SREM' then
      redis.call('SREM', key, a[2])
    elseif name == 'AUDIT' then
      -- Appends a record to an audit chain: key is the chain's stream,
      -- a[2] its head, a[3] the subject's index (0: none), a[4] the record.
      local head = KEYS[base + tonumber(a[2])]
      local previous = redis.call('HGET', head, 'hash') or ''
      local hash = redis.sha1hex(previous .. a[4])
      local id = redis.call('XADD', key, '*', 'r', a[4], 'p', previous,
                            'h', hash)
      redis.call('HSET', head, 'hash', hash)
      redis.call('HINCRBY', head, 'count', 1)
      if a[3] ~= '0' then
        redis.call('RPUSH', KEYS[base + tonumber(a[3])], id)
      end
    elseif name == 'SETPX' then
      redis.call('SET', key, a[2], 'PX', a[3])
    elseif name == 'XADD' then
      ids[#ids + 1] = redis.call('XADD', key, '*', unpack(a, 2))
    end
  end
  return {1, unpack(ids)}
end
local replies, pos = {}, 1
while pos <= #ARGV do
  local count, base = tonumber(ARGV[pos]), tonumber(ARGV[pos + 1])
  replies[#replies + 1] = change(parse(pos + 2, pos + 1 + count), base)
  pos = pos + 2 + count
end
return replies
)lua"));
  return *kScript;
}

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
  for (size_t i = 1; i < reply.elements.size(); ++i) {
    result.stream_ids.push_back(reply.elements[i].str);
  }
  return result;
}

}  // namespace

std::string RedisChange::KeyIndex(const std::string& key) {
  auto [it, inserted] =
      key_index_.emplace(key, static_cast<int>(keys_.size()) + 1);
  if (inserted) keys_.push_back(key);
  return absl::StrCat(it->second);
}

RedisChange& RedisChange::Op(std::vector<std::string> op) {
  ops_.push_back(op[0]);
  ops_.push_back(absl::StrCat(op.size() - 1));
  ops_.insert(ops_.end(), op.begin() + 1, op.end());
  return *this;
}

RedisChange& RedisChange::IfExistsReturn(const std::string& key) {
  return Op({"IFEXISTS", KeyIndex(key)});
}

RedisChange& RedisChange::Absent(const std::string& key,
                                 const std::string& message,
                                 bool already_exists) {
  return Op({"ABSENT", KeyIndex(key), message,
             already_exists ? "ALREADY_EXISTS" : "ABORTED"});
}

RedisChange& RedisChange::FieldEquals(const std::string& key,
                                      const std::string& field,
                                      const std::string& value,
                                      const std::string& message,
                                      bool missing_is_not_found) {
  return Op({"HEQ", KeyIndex(key), field, value, message,
             missing_is_not_found ? "1" : "0"});
}

RedisChange& RedisChange::ClockVersionEquals(const ClockKeys& clock,
                                             int64_t version,
                                             const std::string& message) {
  return Op({"CLOCKV", KeyIndex(clock.hash), KeyIndex(clock.due),
             KeyIndex(clock.fired), clock.id, absl::StrCat(version), message});
}

RedisChange& RedisChange::WithdrawPrepared(const ClockKeys& clock) {
  return Op({"CLOCKW", KeyIndex(clock.hash), KeyIndex(clock.due),
             KeyIndex(clock.fired), clock.prepared_prefix, clock.id});
}

RedisChange& RedisChange::HasFreeUnit(const std::string& key,
                                      const std::string& prefix,
                                      const std::string& message) {
  return Op({"HFREE", KeyIndex(key), prefix, message});
}

RedisChange& RedisChange::UnitFits(const std::string& key,
                                   const std::string& prefix, int64_t capacity,
                                   const std::string& message) {
  return Op({"FITS", KeyIndex(key), prefix, absl::StrCat(capacity), message});
}

RedisChange& RedisChange::HSet(const std::string& key, const Fields& fields) {
  std::vector<std::string> op = {"HSET", KeyIndex(key)};
  for (const auto& [field, value] : fields) {
    op.push_back(field);
    op.push_back(value);
  }
  return Op(std::move(op));
}

RedisChange& RedisChange::HDel(const std::string& key,
                               const std::string& field) {
  return Op({"HDEL", KeyIndex(key), field});
}

RedisChange& RedisChange::HIncrBy(const std::string& key,
                                  const std::string& field, int64_t delta) {
  return Op({"HINCRBY", KeyIndex(key), field, absl::StrCat(delta)});
}

RedisChange& RedisChange::CloseUnit(const std::string& key,
                                    const std::string& prefix) {
  return Op({"HCLOSE", KeyIndex(key), prefix});
}

RedisChange& RedisChange::ZAdd(const std::string& key, const std::string& score,
                               const std::string& member) {
  return Op({"ZADD", KeyIndex(key), score, member});
}

RedisChange& RedisChange::ZRem(const std::string& key,
                               const std::string& member) {
  return Op({"ZREM", KeyIndex(key), member});
}

RedisChange& RedisChange::SAdd(const std::string& key,
                               const std::string& member) {
  return Op({"SADD", KeyIndex(key), member});
}

RedisChange& RedisChange::SRem(const std::string& key,
                               const std::string& member) {
  return Op({"SREM", KeyIndex(key), member});
}

RedisChange& RedisChange::AuditAppend(const std::string& stream_key,
                                      const std::string& head_key,
                                      const std::string& subject_key,
                                      const std::string& record) {
  return Op({"AUDIT", KeyIndex(stream_key), KeyIndex(head_key),
             subject_key.empty() ? "0" : KeyIndex(subject_key), record});
}

RedisChange& RedisChange::SetWithTtl(const std::string& key,
                                     const std::string& value,
                                     int64_t ttl_millis) {
  return Op({"SETPX", KeyIndex(key), value,
             absl::StrCat(ttl_millis < 1 ? 1 : ttl_millis)});
}

RedisChange& RedisChange::XAdd(const std::string& key, const Fields& fields) {
  std::vector<std::string> op = {"XADD", KeyIndex(key)};
  for (const auto& [field, value] : fields) {
    op.push_back(field);
    op.push_back(value);
  }
  return Op(std::move(op));
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
  ASSIGN_OR_RETURN(const RedisValue reply,
                   pool.Eval(ChangeScript(), call.keys, call.args));
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
                   pool.EvalPipeline(ChangeScript(), calls));
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
