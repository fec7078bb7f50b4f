// The clocks of RedisReferralStore: a hash per clock, and per region a
// sorted set of clocks by their next firing (the sweep's work list), one of
// open clocks by due time (the coordinator's worklist), and per referral the
// set of its clocks. A clock is written with a version check, together with
// the referral change that starts, meets or closes it, or alone when it
// fires or pauses; so of several replicas firing one clock, one wins.
//
// A clock's hash holds its `data` (the Clock), `version`, `next` firing,
// and its plan: the steps it takes as time passes (`plan`, from byte
// `step` on) and the event they announce (`event`, less type and time). A
// tick's due clocks are fired by a script inside Redis (FirePlanned) that
// appends each step's fields to `fired` and its event to the stream; a
// reader takes `data` and `fired` as one message (protobuf merges
// concatenated messages: the last value of a field wins), and a full write
// empties `fired`. No clock crosses the network to be fired. Clocks without a
// plan are read in one pipeline (GetClocks) and written in one (ApplyClocks),
// each clock still its own version-checked change.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/core/deadlines.h"
#include "broker/core/names.h"
#include "broker/core/proto_time.h"
#include "broker/core/status_macros.h"
#include "broker/store/redis_keys.h"
#include "broker/store/redis_referral_store.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using core::ClockRecord;
using core::ClockWrite;

std::string Millis(absl::Time t) { return absl::StrCat(absl::ToUnixMillis(t)); }

// The id of the referral a clock id belongs to: "<referral>-<kind>-<n>".
std::string ReferralIdOf(const std::string& clock_id) {
  const size_t dash = clock_id.find('-');
  return dash == std::string::npos ? clock_id : clock_id.substr(0, dash);
}

absl::StatusOr<std::optional<ClockRecord>> DecodeClock(
    const std::string& region, const std::string& id, const RedisValue& reply) {
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 4) {
    return absl::InternalError(
        absl::StrCat("redis: unexpected reply reading clock ", id));
  }
  if (reply.elements[0].is_nil()) return std::nullopt;
  ClockRecord record;
  record.region = region;
  record.id = id;
  int64_t next_fire_ms = 0;
  if (!record.clock.ParseFromString(
          absl::StrCat(reply.elements[0].str, reply.elements[3].str)) ||
      !absl::SimpleAtoi(reply.elements[1].str, &record.version) ||
      (!reply.elements[2].str.empty() &&
       !absl::SimpleAtoi(reply.elements[2].str, &next_fire_ms))) {
    return absl::DataLossError(
        absl::StrCat("clock ", id, " in region ", region, " is unreadable"));
  }
  if (!reply.elements[2].str.empty()) {
    record.next_fire = absl::FromUnixMillis(next_fire_ms);
  }
  return record;
}

// A plan as stored: its steps one after another, each four fields, each
// a byte of length and its bytes: when (ms), the event type (a number, as
// the stream's `type`), the Clock fields it sets (serialized), and the
// Event's type field (serialized). Read by FirePlannedScript, which keeps
// in `step` the byte (1-based) where the next step begins. Empty for no
// plan, and for one with a field of 256 bytes or more (none is near: the
// longest, the fields set, is a few bytes).
std::string EncodePlan(const std::vector<core::PlannedStep>& plan) {
  std::string out;
  for (const core::PlannedStep& step : plan) {
    v1::Event type;
    type.set_type(step.type);
    for (const std::string& field :
         {Millis(step.at), absl::StrCat(step.type),
          step.set.SerializeAsString(), type.SerializeAsString()}) {
      if (field.size() > 255) return "";
      out.push_back(static_cast<char>(field.size()));
      out.append(field);
    }
  }
  return out;
}

// The plan fields of a clock's hash as `write` sets them: a new plan runs
// from its first step, and no step of it has fired.
std::vector<std::pair<std::string, std::string>> PlanFields(
    const ClockWrite& write) {
  std::string plan = EncodePlan(write.plan);
  const bool planned = !plan.empty();
  return {{"plan", std::move(plan)},
          {"step", planned ? "1" : ""},
          {"event", planned ? write.plan_event.SerializeAsString() : ""},
          {"fired", ""}};
}

// A clock is its `data` followed by the fields its steps fired inside
// Redis set (`fired`): protobuf reads the two as one, merged.
std::vector<std::string> ReadClock(const std::string& region,
                                   const std::string& id) {
  return {"HMGET", keys::Clock(region, id), "data", "version", "next", "fired"};
}

}  // namespace

void RedisReferralStore::ClockInto(RedisChange& change,
                                   const ClockWrite& write) {
  const ClockRecord& r = write.record;
  const std::string key = keys::Clock(r.region, r.id);
  if (r.version == 0) {
    change.Absent(key, absl::StrCat("clock ", r.clock.name(), " exists"))
        .SAdd(keys::ClocksOf(r.region, ReferralIdOf(r.id)), r.id)
        .ZAdd(keys::ClocksStarted(r.region),
              Millis(core::ToAbslTime(r.clock.start_time())), r.id);
  } else {
    change.FieldEquals(key, "version", absl::StrCat(r.version),
                       absl::StrCat("clock ", r.clock.name(), " changed"),
                       /*missing_is_not_found=*/true);
  }
  RedisChange::Fields fields = {
      {"data", r.clock.SerializeAsString()},
      {"version", absl::StrCat(r.version + 1)},
      {"next", r.next_fire ? Millis(*r.next_fire) : ""}};
  for (auto& field : PlanFields(write)) fields.push_back(std::move(field));
  change.HSet(key, fields);
  if (r.next_fire.has_value()) {
    change.ZAdd(keys::ClocksDue(r.region), Millis(*r.next_fire), r.id);
  } else {
    change.ZRem(keys::ClocksDue(r.region), r.id);
  }
  if (core::IsOpen(r.clock)) {
    change.ZAdd(keys::ClocksOpen(r.region),
                Millis(core::ToAbslTime(r.clock.due_time())), r.id);
  } else {
    change.ZRem(keys::ClocksOpen(r.region), r.id);
  }
  if (write.event.has_value()) {
    change.XAdd(keys::Events(r.region),
                {{"type", absl::StrCat(write.event->type())},
                 {"referral", r.clock.referral()},
                 {"event", write.event->SerializeAsString()}});
  }
}

absl::StatusOr<int64_t> RedisReferralStore::ApplyClock(
    const ClockWrite& write) {
  RedisChange change;
  ClockInto(change, write);
  RETURN_IF_ERROR(change.Apply(*pool_).status());
  return write.record.version + 1;
}

namespace {

// A tick's steps of clocks that exist, lean: most of the midnight burst's
// Redis time went into the general change script's parsing of some 45
// arguments a step into tables (BENCHMARKS.md), not into the writes. The
// same writes as ClockInto makes for a clock of version > 0, with the same
// version check, each step atomic on its own (a script call runs whole).
// KEYS: 1 the region's clocks by next firing, 2 its open clocks by due
// time, 3 its events, then the hash of each step's clock. ARGV, 12 a step:
// clock id, version read, data, next firing (ms; '' none), due (ms; ''
// closed), event type ('' none), referral, event, and the plan's four
// fields (PlanFields). The reply, a step each:
// the event's stream id ('' without an event), 0 when the clock is gone,
// or the version found when it is not the one read.
const RedisScript& ClockStepScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
local replies = {}
for i = 1, #KEYS - 3 do
  local key, a = KEYS[3 + i], (i - 1) * 12
  local id = ARGV[a + 1]
  local version = redis.call('HGET', key, 'version')
  if not version then
    replies[i] = 0
  elseif version ~= ARGV[a + 2] then
    replies[i] = {version}
  else
    redis.call('HSET', key, 'data', ARGV[a + 3], 'version',
               tostring(tonumber(version) + 1), 'next', ARGV[a + 4],
               'plan', ARGV[a + 9], 'step', ARGV[a + 10],
               'event', ARGV[a + 11], 'fired', ARGV[a + 12])
    if ARGV[a + 4] == '' then
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('ZADD', KEYS[1], ARGV[a + 4], id)
    end
    if ARGV[a + 5] == '' then
      redis.call('ZREM', KEYS[2], id)
    else
      redis.call('ZADD', KEYS[2], ARGV[a + 5], id)
    end
    if ARGV[a + 6] == '' then
      replies[i] = ''
    else
      replies[i] = redis.call('XADD', KEYS[3], '*', 'type', ARGV[a + 6],
                              'referral', ARGV[a + 7], 'event', ARGV[a + 8])
    end
  end
end
return replies
)lua");
  return *kScript;
}

// Steps to a clock-step script call: a call holds Redis for under a
// millisecond.
constexpr size_t kStepsPerScript = 128;

void AppendStep(RedisPool::ScriptCall& call, const ClockWrite& write) {
  const ClockRecord& r = write.record;
  call.keys.push_back(keys::Clock(r.region, r.id));
  call.args.push_back(r.id);
  call.args.push_back(absl::StrCat(r.version));
  call.args.push_back(r.clock.SerializeAsString());
  call.args.push_back(r.next_fire ? Millis(*r.next_fire) : "");
  call.args.push_back(core::IsOpen(r.clock)
                          ? Millis(core::ToAbslTime(r.clock.due_time()))
                          : "");
  if (write.event.has_value()) {
    call.args.push_back(absl::StrCat(write.event->type()));
    call.args.push_back(r.clock.referral());
    call.args.push_back(write.event->SerializeAsString());
  } else {
    call.args.insert(call.args.end(), 3, "");
  }
  for (auto& [name, value] : PlanFields(write)) {
    call.args.push_back(std::move(value));
  }
}

// The outcome of one step from its element of the script's reply.
absl::Status StepOutcome(const ClockRecord& r, const RedisValue& reply) {
  switch (reply.type) {
    case RedisValue::Type::kString:
      return absl::OkStatus();
    case RedisValue::Type::kInteger:
      return absl::NotFoundError(
          absl::StrCat("clock ", r.clock.name(), " not found"));
    case RedisValue::Type::kArray:
      if (reply.elements.size() == 1) {
        return absl::AbortedError(
            absl::StrCat("clock ", r.clock.name(), " changed (version ",
                         reply.elements[0].str, ", expected ", r.version, ")"));
      }
      break;
    case RedisValue::Type::kError:
      return StatusFromErrorReply(reply.str);
    default:
      break;
  }
  return absl::InternalError(
      absl::StrCat("redis: unexpected reply to a step of clock ", r.id));
}

}  // namespace

absl::StatusOr<std::vector<absl::Status>> RedisReferralStore::ApplyClocks(
    const std::vector<ClockWrite>& writes) {
  // A script call's keys must share a hash tag: calls a region. New clocks
  // (version 0: a create's, not a tick's) take the general change.
  std::map<std::string, std::vector<size_t>> steps_by_region;
  std::map<std::string, std::vector<size_t>> new_by_region;
  for (size_t i = 0; i < writes.size(); ++i) {
    const ClockRecord& r = writes[i].record;
    (r.version == 0 ? new_by_region : steps_by_region)[r.region].push_back(i);
  }
  std::vector<absl::Status> out(writes.size());
  for (const auto& [region, indexes] : new_by_region) {
    std::vector<RedisChange> changes(indexes.size());
    for (size_t j = 0; j < indexes.size(); ++j) {
      ClockInto(changes[j], writes[indexes[j]]);
    }
    ASSIGN_OR_RETURN(
        const std::vector<absl::StatusOr<RedisChange::Result>> results,
        RedisChange::ApplyEach(*pool_, changes));
    for (size_t j = 0; j < indexes.size(); ++j) {
      out[indexes[j]] = results[j].status();
    }
  }
  for (const auto& [region, indexes] : steps_by_region) {
    std::vector<RedisPool::ScriptCall> calls;
    for (size_t j = 0; j < indexes.size(); ++j) {
      if (j % kStepsPerScript == 0) {
        calls.emplace_back();
        calls.back().keys = {keys::ClocksDue(region), keys::ClocksOpen(region),
                             keys::Events(region)};
      }
      AppendStep(calls.back(), writes[indexes[j]]);
    }
    ASSIGN_OR_RETURN(const std::vector<RedisValue> replies,
                     pool_->EvalPipeline(ClockStepScript(), calls));
    for (size_t j = 0; j < indexes.size(); ++j) {
      const ClockRecord& r = writes[indexes[j]].record;
      const RedisValue& reply = replies.at(j / kStepsPerScript);
      const size_t k = j % kStepsPerScript;
      if (reply.type == RedisValue::Type::kError) {
        // The call failed as a whole: the steps before the failing one
        // may be written.
        out[indexes[j]] = StatusFromErrorReply(reply.str);
      } else if (reply.type != RedisValue::Type::kArray ||
                 k >= reply.elements.size()) {
        out[indexes[j]] = absl::InternalError(
            absl::StrCat("redis: unexpected reply to a step of clock ", r.id));
      } else {
        out[indexes[j]] = StepOutcome(r, reply.elements[k]);
      }
    }
  }
  return out;
}

absl::StatusOr<ClockRecord> RedisReferralStore::GetClock(
    const std::string& region, const std::string& id) {
  ASSIGN_OR_RETURN(const RedisValue reply,
                   pool_->Command(ReadClock(region, id)));
  ASSIGN_OR_RETURN(std::optional<ClockRecord> record,
                   DecodeClock(region, id, reply));
  if (!record.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("clock regions/", region, "/clocks/", id, " not found"));
  }
  return *std::move(record);
}

namespace {

// The clocks of `ids` in `region`, read in one pipeline: one entry per id,
// nullopt for a missing one.
absl::StatusOr<std::vector<std::optional<ClockRecord>>> ReadEach(
    RedisPool& pool, const std::string& region,
    const std::vector<std::string>& ids) {
  std::vector<std::vector<std::string>> reads;
  reads.reserve(ids.size());
  for (const std::string& id : ids) reads.push_back(ReadClock(region, id));
  ASSIGN_OR_RETURN(const std::vector<RedisValue> replies, pool.Pipeline(reads));
  std::vector<std::optional<ClockRecord>> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<ClockRecord> record,
                     DecodeClock(region, ids[i], replies[i]));
    out.push_back(std::move(record));
  }
  return out;
}

// The same, missing ones skipped.
absl::StatusOr<std::vector<ClockRecord>> ReadClocks(
    RedisPool& pool, const std::string& region,
    const std::vector<std::string>& ids) {
  ASSIGN_OR_RETURN(std::vector<std::optional<ClockRecord>> each,
                   ReadEach(pool, region, ids));
  std::vector<ClockRecord> out;
  out.reserve(each.size());
  for (std::optional<ClockRecord>& record : each) {
    if (record.has_value()) out.push_back(*std::move(record));
  }
  return out;
}

std::vector<std::string> Strings(const RedisValue& array) {
  std::vector<std::string> out;
  for (const RedisValue& e : array.elements) out.push_back(e.str);
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::optional<ClockRecord>>>
RedisReferralStore::GetClocks(const std::string& region,
                              const std::vector<std::string>& ids) {
  return ReadEach(*pool_, region, ids);
}

absl::StatusOr<std::vector<ClockRecord>> RedisReferralStore::ListClocks(
    const std::string& region, const std::string& referral_id) {
  ASSIGN_OR_RETURN(
      const RedisValue ids,
      pool_->Command({"SMEMBERS", keys::ClocksOf(region, referral_id)}));
  std::vector<std::string> sorted = Strings(ids);
  std::sort(sorted.begin(), sorted.end());
  return ReadClocks(*pool_, region, sorted);
}

absl::StatusOr<std::vector<std::string>> RedisReferralStore::DueClocks(
    const std::string& region, absl::Time now, int limit) {
  ASSIGN_OR_RETURN(
      const RedisValue ids,
      pool_->Command({"ZRANGE", keys::ClocksDue(region), "-inf", Millis(now),
                      "BYSCORE", "LIMIT", "0", absl::StrCat(limit)}));
  return Strings(ids);
}

namespace {

// The ids of the open clocks (KEYS[1]) after the clock ARGV[2] due at
// ARGV[1] (ms), at most ARGV[3], by its rank; nil when that clock is no
// longer there at that due time. A script, so that the rank and the range
// are read at one instant.
const RedisScript& OpenAfterScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score or tonumber(score) ~= tonumber(ARGV[1]) then return false end
local rank = redis.call('ZRANK', KEYS[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], rank + 1, rank + tonumber(ARGV[3]))
)lua");
  return *kScript;
}

// The same when the clock `after` names has left the open clocks (met or
// closed since): those due later, and those due at the same time with
// greater ids. Members of one score are in byte order, as std::string
// compares them.
absl::StatusOr<std::vector<std::string>> OpenIdsAfter(
    RedisPool& pool, const std::string& key,
    const core::OpenClockPosition& after, int limit) {
  const int64_t due = absl::ToUnixMillis(after.due);
  std::vector<std::string> ids;
  const int want = limit + 64;
  for (int offset = 0;; offset += want) {
    ASSIGN_OR_RETURN(const RedisValue reply,
                     pool.Command({"ZRANGE", key, absl::StrCat(due), "+inf",
                                   "BYSCORE", "LIMIT", absl::StrCat(offset),
                                   absl::StrCat(want), "WITHSCORES"}));
    for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
      double score = 0;
      if (!absl::SimpleAtod(reply.elements[i + 1].str, &score)) {
        return absl::InternalError(
            absl::StrCat("redis: score ", reply.elements[i + 1].str, " of ",
                         key, " is not a number"));
      }
      if (std::llround(score) == due && reply.elements[i].str <= after.id) {
        continue;
      }
      ids.push_back(reply.elements[i].str);
      if (static_cast<int>(ids.size()) == limit) return ids;
    }
    if (static_cast<int>(reply.elements.size()) < 2 * want) return ids;
  }
}

}  // namespace

absl::StatusOr<std::vector<ClockRecord>> RedisReferralStore::ListOpenClocks(
    const std::string& region,
    const std::optional<core::OpenClockPosition>& after, int limit) {
  if (limit <= 0) return std::vector<ClockRecord>();
  const std::string key = keys::ClocksOpen(region);
  if (!after.has_value()) {
    ASSIGN_OR_RETURN(
        const RedisValue ids,
        pool_->Command({"ZRANGE", key, "0", absl::StrCat(limit - 1)}));
    return ReadClocks(*pool_, region, Strings(ids));
  }
  ASSIGN_OR_RETURN(
      const RedisValue ids,
      pool_->Eval(OpenAfterScript(), {key},
                  {Millis(after->due), after->id, absl::StrCat(limit)}));
  if (!ids.is_nil()) return ReadClocks(*pool_, region, Strings(ids));
  ASSIGN_OR_RETURN(const std::vector<std::string> later,
                   OpenIdsAfter(*pool_, key, *after, limit));
  return ReadClocks(*pool_, region, later);
}

absl::StatusOr<std::vector<ClockRecord>> RedisReferralStore::ListClocksStarted(
    const std::string& region, absl::Time start, absl::Time end, int limit) {
  ASSIGN_OR_RETURN(
      const RedisValue ids,
      pool_->Command({"ZRANGE", keys::ClocksStarted(region), Millis(start),
                      absl::StrCat("(", Millis(end)), "BYSCORE", "LIMIT", "0",
                      absl::StrCat(limit)}));
  return ReadClocks(*pool_, region, Strings(ids));
}

namespace {

// Fires the planned steps due of a region's due clocks, inside Redis. KEYS:
// 1 the region's clocks by next firing, 2 its events. ARGV: 1 now (ms), 2
// clocks at most, 3 the key of a clock less its id, 4 a referral's name
// less its id, 5 the Event's time field (serialized). A clock id starts
// with its referral's id and a '-' (ReferralIdOf); every key shares the
// region's hash tag, so a cluster node serves them all. For each clock due:
// its steps due (from byte `step` of its plan on, while their time has
// come) each append their fields to `fired` and their event to the
// stream; then version, next firing and step move on, and its place in
// the due set (all clocks' places in one command at the end). A clock
// without a plan, or whose plan's step is not its `next` firing or not due
// (its place in the due set is stale), is left as it is; a place in the
// due set without its clock is removed. The reply: clocks taken, steps
// fired, the ids left.
const RedisScript& FirePlannedScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE',
                       'LIMIT', 0, ARGV[2])
local byte, sub = string.byte, string.sub
-- The step of `plan` at byte `p` (EncodePlan): its time, type, clock
-- fields and event field, and the byte where the next begins.
local function step(plan, p)
  local out = {}
  for k = 1, 4 do
    local n = byte(plan, p)
    out[k] = sub(plan, p + 1, p + n)
    p = p + 1 + n
  end
  out[5] = p
  return out
end
local steps, left = 0, {}
local adds, removes = {'ZADD', KEYS[1]}, {'ZREM', KEYS[1]}
for _, id in ipairs(ids) do
  local key = ARGV[3] .. id
  local h = redis.call('HMGET', key, 'version', 'next', 'plan', 'step',
                       'event', 'fired')
  local plan, p = h[3], tonumber(h[4])
  local s = h[1] and plan and p and p < #plan and step(plan, p)
  if not h[1] then
    removes[#removes + 1] = id
  elseif not s or s[1] ~= h[2] or tonumber(h[2]) > now then
    left[#left + 1] = id
  else
    local fired = h[6] or ''
    local referral = ARGV[4] .. string.match(id, '^[^-]*')
    while s and tonumber(s[1]) <= now do
      fired = fired .. s[3]
      redis.call('XADD', KEYS[2], '*', 'type', s[2], 'referral', referral,
                 'event', h[5] .. s[4] .. ARGV[5])
      steps = steps + 1
      p = s[5]
      s = p < #plan and step(plan, p)
    end
    local next = s and s[1] or ''
    redis.call('HSET', key, 'fired', fired,
               'version', tostring(tonumber(h[1]) + 1), 'next', next,
               'step', tostring(p))
    if next == '' then
      removes[#removes + 1] = id
    else
      adds[#adds + 1] = next
      adds[#adds + 1] = id
    end
  end
end
if #adds > 2 then redis.call(unpack(adds)) end
if #removes > 2 then redis.call(unpack(removes)) end
return {#ids, steps, left}
)lua");
  return *kScript;
}

}  // namespace

absl::StatusOr<core::PlannedFiring> RedisReferralStore::FirePlanned(
    const std::string& region, absl::Time now, int limit) {
  v1::Event time;
  *time.mutable_time() = core::ToProtoTimestamp(now);
  ASSIGN_OR_RETURN(
      const RedisValue reply,
      pool_->Eval(FirePlannedScript(),
                  {keys::ClocksDue(region), keys::Events(region)},
                  {Millis(now), absl::StrCat(limit), keys::Clock(region, ""),
                   core::ReferralName{region, ""}.ToString(),
                   time.SerializeAsString()}));
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 3 ||
      reply.elements[2].type != RedisValue::Type::kArray) {
    return absl::InternalError(absl::StrCat(
        "redis: unexpected reply firing the clocks of region ", region));
  }
  core::PlannedFiring out;
  out.clocks = static_cast<int>(reply.elements[0].integer);
  out.steps = static_cast<int>(reply.elements[1].integer);
  out.unplanned = Strings(reply.elements[2]);
  return out;
}

}  // namespace slussen::store
