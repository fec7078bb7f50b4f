// The clocks of RedisReferralStore: a hash per clock, and per region a
// sorted set of clocks by their next firing (the sweep's work list), one of
// open clocks by due time (the coordinator's worklist), and per referral the
// set of its clocks. A clock is written with a version check, together with
// the referral change that starts, meets or closes it, or alone when it
// fires or pauses; so of several replicas firing one clock, one wins.
//
// A clock's hash holds its `data` (the Clock), `version`, `next` firing,
// and its plan: the steps it takes as time passes (`plan`) and the event
// they announce (`event`, less type and time). A tick's due clocks are
// fired by a script inside Redis (FirePlanned) that appends their steps'
// events to the stream, a batch to an entry, and moves each clock's place
// in the due set to its next step: that place is all that changes. A reader
// takes the steps before the place as fired: the clock is `data` followed
// by those steps' fields (protobuf merges concatenated messages: the last
// value of a field wins), and its version counts them (a write stores the
// version it read plus one), so that a change read before a step fired is
// refused. No clock crosses the network to be fired, and no clock's hash
// is written when it fires. Clocks are read in one pipeline (GetClocks:
// hashes and places between two reads of the region's count of clock
// writes, so that a write between a hash and its place is seen), and
// those the keeper fires itself (without a plan) written in one
// (ApplyClocks), each clock still its own version-checked change.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "broker/core/deadlines.h"
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

// A plan as stored: its steps one after another, each four fields, each
// a byte of length and its bytes: when (ms), the event type (a number, as
// the stream's `type`), the Clock fields it sets (serialized), and the
// Event's type field (serialized). A plan that stops short of the clock's
// last step ends with a tail: a step with the time of the firing after
// and no type, which FirePlannedScript leaves to the keeper. Empty for no
// plan, and for one with a field of 256 bytes or more (none is near: the
// longest, the fields set, is a few bytes) or whose times go back.
std::string EncodePlan(const ClockWrite& write) {
  std::string out;
  if (!write.plan.empty() && write.record.next_fire != write.plan[0].at) {
    return out;
  }
  auto append = [&out](absl::string_view field) {
    if (field.size() > 255) return false;
    out.push_back(static_cast<char>(field.size()));
    out.append(field.data(), field.size());
    return true;
  };
  std::optional<absl::Time> last;
  for (const core::PlannedStep& step : write.plan) {
    if (last.has_value() && step.at < *last) return "";
    last = step.at;
    v1::Event type;
    type.set_type(step.type);
    for (const std::string& field :
         {Millis(step.at), absl::StrCat(step.type),
          step.set.SerializeAsString(), type.SerializeAsString()}) {
      if (!append(field)) return "";
    }
  }
  if (!out.empty() && write.after_plan.has_value()) {
    if (*write.after_plan < *last) return "";
    for (const std::string& field : {Millis(*write.after_plan), std::string(),
                                     std::string(), std::string()}) {
      append(field);
    }
  }
  return out;
}

// A stored plan's steps as a reader needs them: when, and the fields set.
struct StoredStep {
  int64_t at_ms = 0;
  absl::string_view set;
};

std::optional<std::vector<StoredStep>> DecodePlan(absl::string_view plan) {
  std::vector<StoredStep> out;
  size_t p = 0;
  while (p < plan.size()) {
    absl::string_view fields[4];
    for (absl::string_view& field : fields) {
      if (p >= plan.size()) return std::nullopt;
      const size_t n = static_cast<unsigned char>(plan[p]);
      if (p + 1 + n > plan.size()) return std::nullopt;
      field = plan.substr(p + 1, n);
      p += 1 + n;
    }
    StoredStep step{.set = fields[2]};
    if (!absl::SimpleAtoi(fields[0], &step.at_ms)) return std::nullopt;
    out.push_back(step);
  }
  return out;
}

// Rounds of reading a clock that a write keeps tearing before giving up.
constexpr int kReadRounds = 8;

// The clock its hash's fields (`hash`: data, version, next, plan) and its
// place in the due set tell of: `data` with the fields of the plan's steps
// before its place in the due set (those that have fired; all when it has none)
// merged in; nullopt when it does not exist.
absl::StatusOr<std::optional<ClockRecord>> DecodeClock(
    const std::string& region, const std::string& id, const RedisValue& hash,
    const RedisValue& place) {
  if (hash.type != RedisValue::Type::kArray || hash.elements.size() != 4) {
    return absl::InternalError(
        absl::StrCat("redis: unexpected reply reading clock ", id));
  }
  const std::vector<RedisValue>& read = hash.elements;
  if (read[0].is_nil()) return std::nullopt;
  const auto unreadable = [&] {
    return absl::DataLossError(
        absl::StrCat("clock ", id, " in region ", region, " is unreadable"));
  };
  ClockRecord record;
  record.region = region;
  record.id = id;
  const std::string& next = read[2].str;
  const std::optional<std::vector<StoredStep>> plan = DecodePlan(read[3].str);
  int64_t stored_version = 0;
  int64_t next_ms = 0;
  std::optional<int64_t> place_ms;
  if (!place.is_nil()) {
    double score = 0;
    if (!absl::SimpleAtod(place.str, &score)) return unreadable();
    place_ms = std::llround(score);
  }
  if (!plan.has_value() || !absl::SimpleAtoi(read[1].str, &stored_version) ||
      (!next.empty() && !absl::SimpleAtoi(next, &next_ms))) {
    return unreadable();
  }
  size_t fired = 0;
  while (fired < plan->size() &&
         (!place_ms.has_value() || (*plan)[fired].at_ms < *place_ms)) {
    ++fired;
  }
  bool parsed = false;
  if (fired == 0) {
    parsed = record.clock.ParseFromString(read[0].str);
  } else {
    std::string data = read[0].str;
    for (size_t k = 0; k < fired; ++k) absl::StrAppend(&data, (*plan)[k].set);
    parsed = record.clock.ParseFromString(data);
  }
  if (!parsed) return unreadable();
  // A write stores the version it read plus one; each step fired since
  // adds one: the version only grows, and a check of it sees both.
  record.version = stored_version + static_cast<int64_t>(fired);
  if (plan->empty()) {
    if (!next.empty()) record.next_fire = absl::FromUnixMillis(next_ms);
  } else if (place_ms.has_value()) {
    record.next_fire = absl::FromUnixMillis(*place_ms);
  }
  return record;
}

// The plan fields of a clock's hash as `write` sets them.
std::vector<std::pair<std::string, std::string>> PlanFields(
    const ClockWrite& write) {
  std::string plan = EncodePlan(write);
  const bool planned = !plan.empty();
  return {{"plan", std::move(plan)},
          {"event", planned ? write.plan_event.SerializeAsString() : ""}};
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
    change.ClockVersionEquals(
        key, keys::ClocksDue(r.region), r.id, r.version,
        absl::StrCat("clock ", r.clock.name(), " changed"));
  }
  RedisChange::Fields fields = {
      {"data", r.clock.SerializeAsString()},
      {"version", absl::StrCat(r.version + 1)},
      {"next", r.next_fire ? Millis(*r.next_fire) : ""}};
  for (auto& field : PlanFields(write)) fields.push_back(std::move(field));
  change.HSet(key, fields).HIncrBy(keys::ClockWrites(r.region), "count", 1);
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
// check, each step atomic on its own (a script call runs whole). KEYS: 1
// the region's clocks by next firing, 2 its open clocks by due time, 3 its
// events, 4 its count of clock writes, then the hash of each step's
// clock. ARGV, 10 a step: clock id,
// version read, data, next firing (ms; '' none), due (ms; '' closed),
// event type ('' none), referral, event, and the plan's two fields
// (PlanFields). The reply, a step each: the event's stream id ('' without
// an event), 0 when the clock is gone, or {version found} when it is not
// the one read.
const RedisScript& ClockStepScript() {
  static const RedisScript* const kScript =
      new RedisScript(absl::StrCat(kStepsFiredLua, R"lua(
local replies, written = {}, 0
for i = 1, #KEYS - 4 do
  local key, a = KEYS[4 + i], (i - 1) * 10
  local id = ARGV[a + 1]
  local h = redis.call('HMGET', key, 'version', 'plan')
  local version = h[1] and tonumber(h[1]) +
      steps_fired(h[2], redis.call('ZSCORE', KEYS[1], id))
  if not h[1] then
    replies[i] = 0
  elseif version ~= tonumber(ARGV[a + 2]) then
    replies[i] = {version}
  else
    redis.call('HSET', key, 'data', ARGV[a + 3], 'version',
               tostring(version + 1), 'next', ARGV[a + 4],
               'plan', ARGV[a + 9], 'event', ARGV[a + 10])
    written = written + 1
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
if written > 0 then redis.call('HINCRBY', KEYS[4], 'count', written) end
return replies
)lua"));
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
        return absl::AbortedError(absl::StrCat(
            "clock ", r.clock.name(), " changed (version ",
            reply.elements[0].integer, ", expected ", r.version, ")"));
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
                             keys::Events(region), keys::ClockWrites(region)};
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
  ASSIGN_OR_RETURN(std::vector<std::optional<ClockRecord>> read,
                   GetClocks(region, {id}));
  std::optional<ClockRecord>& record = read.at(0);
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
  // A clock is its hash and its place, which a write between their reads
  // would tear (its hash from before the write, its place from after); a
  // step fired between them moves only the place, so the clock read is the
  // one after the step. One pipeline: the region's count of clock writes,
  // each clock's hash, their places, the count again. The same count: no
  // clock was written meanwhile. Another: the clocks are read again, each
  // with its version after its place as well, and a clock whose two
  // versions differ is read again after that (a write moves the version).
  std::vector<std::optional<ClockRecord>> out(ids.size());
  std::vector<size_t> pending(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) pending[i] = i;
  const std::vector<std::string> count = {"HGET", keys::ClockWrites(region),
                                          "count"};
  for (int round = 0; !pending.empty(); ++round) {
    if (round == kReadRounds) {
      return absl::AbortedError(
          absl::StrCat("clock ", ids[pending[0]], " in region ", region,
                       " kept changing while it was read"));
    }
    const bool versions = round > 0;
    const size_t n = pending.size();
    std::vector<std::vector<std::string>> commands;
    commands.reserve((versions ? 2 : 1) * n + 3);
    commands.push_back(count);
    std::vector<std::string> places = {"ZMSCORE", keys::ClocksDue(region)};
    for (const size_t i : pending) {
      commands.push_back({"HMGET", keys::Clock(region, ids[i]), "data",
                          "version", "next", "plan"});
      places.push_back(ids[i]);
    }
    commands.push_back(std::move(places));
    commands.push_back(count);
    for (size_t k = 0; versions && k < n; ++k) {
      commands.push_back(
          {"HGET", keys::Clock(region, ids[pending[k]]), "version"});
    }
    ASSIGN_OR_RETURN(const std::vector<RedisValue> replies,
                     pool.Pipeline(commands));
    for (const RedisValue& reply : replies) {
      if (reply.type == RedisValue::Type::kError) {
        return StatusFromErrorReply(reply.str);
      }
    }
    const auto same = [](const RedisValue& a, const RedisValue& b) {
      return a.is_nil() == b.is_nil() && a.str == b.str;
    };
    const bool unwritten = same(replies[0], replies[n + 2]);
    if (!unwritten && !versions) continue;  // read again, with versions
    const std::vector<RedisValue>& place = replies[n + 1].elements;
    if (place.size() != n) {
      return absl::InternalError(absl::StrCat(
          "redis: unexpected reply reading clocks of region ", region));
    }
    std::vector<size_t> torn;
    for (size_t k = 0; k < n; ++k) {
      const RedisValue& hash = replies[1 + k];
      if (!unwritten && hash.elements.size() == 4 &&
          !same(hash.elements[1], replies[n + 3 + k])) {
        torn.push_back(pending[k]);
        continue;
      }
      ASSIGN_OR_RETURN(out[pending[k]],
                       DecodeClock(region, ids[pending[k]], hash, place[k]));
    }
    pending = std::move(torn);
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
// clocks at most, 3 the key of a clock less its id, 4 the Event's time
// field (serialized). Every key shares the region's hash tag, so a cluster
// node serves them all. For each clock due: its steps from the one at its
// place in the due set on, while their time has come, each add their
// event (the plan's `event`, the step's type and the time) to a batch;
// then its place moves to its next step (all clocks' places in one
// command at the end), and nothing else of the clock is written. The
// batch is one stream entry, its field `events` the events as protobuf
// lays out a repeated message field 1 (RedisEventLog reads it). A clock
// without a plan, or whose place is not one of its steps (stale), is left
// as it is, and so is one whose plan's tail is due (after firing the steps
// before it); a place without its clock is removed. The reply: clocks
// taken, steps fired, the ids left.
const RedisScript& FirePlannedScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE',
                       'LIMIT', 0, ARGV[2], 'WITHSCORES')
local byte, sub, char, floor = string.byte, string.sub, string.char,
                               math.floor
-- A protobuf varint (an event's length).
local function varint(n)
  local out = ''
  while n >= 128 do
    out = out .. char(n % 128 + 128)
    n = floor(n / 128)
  end
  return out .. char(n)
end
-- The batch, in pieces: each event's tag and length, then its parts.
local events, fired, left = {}, 0, {}
local time = ARGV[4]
local adds, removes = {'ZADD', KEYS[1]}, {'ZREM', KEYS[1]}
for i = 1, #due, 2 do
  local id, place = due[i], tonumber(due[i + 1])
  local h = redis.call('HMGET', ARGV[3] .. id, 'version', 'plan', 'event')
  if not h[1] then
    removes[#removes + 1] = id
  else
    -- The plan's steps (EncodePlan), read in place: each its time, type,
    -- clock fields and event field, a byte of length before each.
    local plan, event = h[2] or '', h[3] or ''
    local p, n, at_place, next, next_due = 1, #plan, false, nil, false
    while p < n do
      local l = byte(plan, p)
      local at = sub(plan, p + 1, p + l)
      local type_at = p + 1 + l
      local type_length = byte(plan, type_at)
      local event_at = type_at + 2 + type_length + byte(plan, type_at + 1 +
                                                         type_length)
      local event_length = byte(plan, event_at)
      local t = tonumber(at)
      if t >= place then
        if not at_place then
          if t ~= place then break end
          at_place = true
        end
        if type_length == 0 or t > now then
          next, next_due = at, type_length == 0 and t <= now
          break
        end
        events[#events + 1] = '\10' .. varint(#event + event_length + #time)
        events[#events + 1] = event
        events[#events + 1] = sub(plan, event_at + 1, event_at + event_length)
        events[#events + 1] = time
        fired = fired + 1
      end
      p = event_at + 1 + event_length
    end
    if not at_place then
      left[#left + 1] = id
    elseif not next then
      removes[#removes + 1] = id
    else
      adds[#adds + 1] = next
      adds[#adds + 1] = id
      if next_due then left[#left + 1] = id end
    end
  end
end
if #events > 0 then
  redis.call('XADD', KEYS[2], '*', 'events', table.concat(events))
end
if #adds > 2 then redis.call(unpack(adds)) end
if #removes > 2 then redis.call(unpack(removes)) end
return {#due / 2, fired, left}
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
