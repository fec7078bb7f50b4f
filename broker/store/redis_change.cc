#include "broker/store/redis_change.h"

#include "absl/strings/str_cat.h"
#include "broker/core/status_macros.h"

namespace slussen::store {
namespace {

// ARGV is a list of operations, each: name, argument count, arguments. Key
// arguments are 1-based indexes into KEYS. The first loop runs every check,
// the second every write, so a failed check has written nothing. The first
// loop also refuses an HSET or XADD without fields (Redis would fail it
// midway, after the writes before it), so the writes cannot fail on their
// arguments.
const RedisScript& ChangeScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
local ops, pos = {}, 1
while pos <= #ARGV do
  local n = tonumber(ARGV[pos + 1])
  local args = {}
  for j = 1, n do args[j] = ARGV[pos + 1 + j] end
  ops[#ops + 1] = {ARGV[pos], args}
  pos = pos + 2 + n
end
for _, op in ipairs(ops) do
  local name, a = op[1], op[2]
  if name == 'IFEXISTS' then
    local value = redis.call('GET', KEYS[tonumber(a[1])])
    if value then return {0, value} end
  elseif name == 'ABSENT' then
    if redis.call('EXISTS', KEYS[tonumber(a[1])]) == 1 then
      return redis.error_reply(a[3] .. ' ' .. a[2])
    end
  elseif name == 'HEQ' then
    local key = KEYS[tonumber(a[1])]
    if a[5] == '1' and redis.call('EXISTS', key) == 0 then
      return redis.error_reply('NOT_FOUND ' .. a[4])
    end
    local actual = redis.call('HGET', key, a[2]) or ''
    if actual ~= a[3] then
      return redis.error_reply('ABORTED ' .. a[4] .. ' (' .. a[2] .. ' ' ..
                               actual .. ', expected ' .. a[3] .. ')')
    end
  elseif name == 'HFREE' then
    local p = a[2]
    local v = redis.call('HMGET', KEYS[tonumber(a[1])], p .. 'cap',
                         p .. 'occupied', p .. 'held')
    local free = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) -
                 (tonumber(v[3]) or 0)
    if free <= 0 then return redis.error_reply('FAILED_PRECONDITION ' .. a[3]) end
  elseif name == 'FITS' then
    local p = a[2]
    local v = redis.call('HMGET', KEYS[tonumber(a[1])], p .. 'occupied',
                         p .. 'held')
    if (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) > tonumber(a[3]) then
      return redis.error_reply('FAILED_PRECONDITION ' .. a[4])
    end
  elseif (name == 'HSET' or name == 'XADD') and #a < 3 then
    return redis.error_reply('ERR change: ' .. name .. ' of ' ..
                             KEYS[tonumber(a[1])] .. ' has no fields')
  end
end
local ids = {}
for _, op in ipairs(ops) do
  local name, a = op[1], op[2]
  local key = KEYS[tonumber(a[1])]
  if name == 'HSET' then
    redis.call('HSET', key, unpack(a, 2))
  elseif name == 'HDEL' then
    redis.call('HDEL', key, a[2])
  elseif name == 'HINCRBY' then
    redis.call('HINCRBY', key, a[2], a[3])
  elseif name == 'ZADD' then
    redis.call('ZADD', key, a[2], a[3])
  elseif name == 'ZREM' then
    redis.call('ZREM', key, a[2])
  elseif name == 'SADD' then
    redis.call('SADD', key, a[2])
  elseif name == 'SREM' then
    redis.call('SREM', key, a[2])
  elseif name == 'AUDIT' then
    -- Appends a record to an audit chain: key is the chain's stream, a[2]
    -- its head, a[3] the subject's index (0: none), a[4] the record.
    local head = KEYS[tonumber(a[2])]
    local previous = redis.call('HGET', head, 'hash') or ''
    local hash = redis.sha1hex(previous .. a[4])
    local id = redis.call('XADD', key, '*', 'r', a[4], 'p', previous,
                          'h', hash)
    redis.call('HSET', head, 'hash', hash)
    redis.call('HINCRBY', head, 'count', 1)
    if a[3] ~= '0' then redis.call('RPUSH', KEYS[tonumber(a[3])], id) end
  elseif name == 'SETPX' then
    redis.call('SET', key, a[2], 'PX', a[3])
  elseif name == 'XADD' then
    ids[#ids + 1] = redis.call('XADD', key, '*', unpack(a, 2))
  end
end
return {1, unpack(ids)}
)lua");
  return *kScript;
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

absl::StatusOr<RedisChange::Result> RedisChange::Apply(RedisPool& pool) const {
  ASSIGN_OR_RETURN(RedisValue reply, pool.Eval(ChangeScript(), keys_, ops_));
  if (reply.type != RedisValue::Type::kArray || reply.elements.empty()) {
    return absl::InternalError("redis: unexpected reply to a change");
  }
  Result result;
  if (reply.elements[0].integer == 0) {
    result.existing = reply.elements.size() > 1 ? reply.elements[1].str : "";
    return result;
  }
  for (size_t i = 1; i < reply.elements.size(); ++i) {
    result.stream_ids.push_back(reply.elements[i].str);
  }
  return result;
}

}  // namespace slussen::store
