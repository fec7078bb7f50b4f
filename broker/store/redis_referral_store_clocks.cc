// The clocks of RedisReferralStore: a hash per clock, and per region a
// sorted set of clocks by their next firing (the sweep's work list), one of
// open clocks by due time (the coordinator's worklist), and per referral the
// set of its clocks. A clock is written with a version check, together with
// the referral change that starts, meets or closes it, or alone when it
// fires or pauses; so of several replicas firing one clock, one wins.
//
// A clock's hash holds its `data` (the Clock), `version`, `next` firing,
// and its plan: the steps it takes as time passes (`plan`) and the event
// they announce (`event`, less type and time). Planned steps are fired by
// a script inside Redis (FirePlanned: lua/fire_planned_steps.lua) in two
// moves. Ahead of their instant (DeadlineKeeper::kPrepareAhead) their
// events are prepared: kept in a hash per instant, and the clock's place
// in the due set moved past them. When
// a call's now reaches the instant, the region's `clocks:fired` moves to it
// and the prepared events are appended to the stream, 256 to an entry: at
// midnight a burst of steps costs little more than its events' bytes. A
// step at or before `clocks:fired` when it is taken (the clock written
// late, a replica whose clock is behind) is appended at once.
//
// No clock's hash is written when it fires. A reader takes as fired the
// steps before the clock's place and at or before `clocks:fired`: the
// clock is `data` followed by those steps' fields (protobuf merges
// concatenated messages: the last value of a field wins), and its version
// counts them (a write stores the version it read plus one), so that a
// change read before a step fired is refused. A write withdraws its
// clock's prepared events, which its new plan replaces. Clocks are read in
// one pipeline (GetClocks: hashes, `clocks:fired` and places between two
// reads of the region's count of clock writes, so that a write between a
// hash and its place is seen), and those the keeper fires itself (without
// a plan) written in one (ApplyClocks), each clock still its own
// version-checked change.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_keys.h"
#include "broker/store/redis_referral_store.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using core::ClockRecord;
using core::ClockWrite;

std::string Millis(absl::Time t) { return absl::StrCat(absl::ToUnixMillis(t)); }

// A plan as stored: its steps one after another, each four fields, each
// a byte of length and its bytes: when (ms), the event type (a number, as
// the stream's `type`), the Clock fields it sets (serialized), and the
// Event's type field (serialized). A plan that stops short of the clock's
// last step ends with a tail: a step with the time of the firing after
// and no type, which lua/fire_planned_steps.lua leaves to the keeper. Empty
// for no plan, and for one with a field of 256 bytes or more (none is
// near: the longest, the fields set, is a few bytes) or whose times go
// back.
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

// The clock its hash's fields (`hash`: data, version, next, plan), its
// place in the due set and how far its region's planned steps have fired
// (`fired`) tell of: `data` with the fields of the plan's steps that have
// fired (as steps_fired in lua/includes/clock_plan.lua counts them) merged
// in; nullopt when it does not exist.
absl::StatusOr<std::optional<ClockRecord>> DecodeClock(
    const std::string& region, const std::string& id, const RedisValue& hash,
    const RedisValue& place, const std::optional<int64_t>& fired_ms) {
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
         (!place_ms.has_value() || (*plan)[fired].at_ms < *place_ms) &&
         (!fired_ms.has_value() || (*plan)[fired].at_ms <= *fired_ms)) {
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
  // Its next firing: the first of its plan's steps (or its tail) not
  // fired, which may be prepared (its place is then later).
  if (plan->empty()) {
    if (!next.empty()) record.next_fire = absl::FromUnixMillis(next_ms);
  } else if (fired < plan->size()) {
    record.next_fire = absl::FromUnixMillis((*plan)[fired].at_ms);
  }
  return record;
}

RedisChange::ClockKeys KeysOf(const std::string& region,
                              const std::string& id) {
  return {.hash = keys::Clock(region, id),
          .due = keys::ClocksDue(region),
          .fired = keys::ClocksFired(region),
          .prepared_prefix = keys::ClockStepsPreparedAt(region, ""),
          .id = id,
          .open = keys::ClocksOpen(region),
          .tallies = keys::ClockTallies(region),
          .tally_moves = keys::ClockTallyMoves(region),
          .tally_moves_prefix = keys::ClockTallyMovesAt(region, "")};
}

// The plan fields of a clock's hash as `write` sets them.
std::vector<std::pair<std::string, std::string>> PlanFields(
    const ClockWrite& write) {
  std::string plan = EncodePlan(write);
  const bool planned = !plan.empty();
  return {{"plan", std::move(plan)},
          {"event", planned ? write.plan_event.SerializeAsString() : ""}};
}

// How the region's tallies count `clock` (lua/includes/clock_tally.lua):
// "<kind>:<stage>" when it is open, empty when it is not.
std::string TallyOf(const v1::Clock& clock) {
  if (!core::IsOpen(clock)) return "";
  return absl::StrCat(static_cast<int>(clock.kind()), ":",
                      static_cast<int>(core::StageOf(clock)));
}

}  // namespace

void RedisReferralStore::ClockInto(RedisChange& change, const ClockWrite& write,
                                   bool named_by_caller) {
  const ClockRecord& r = write.record;
  const std::string key = keys::Clock(r.region, r.id);
  const RedisChange::ClockKeys clock = KeysOf(r.region, r.id);
  if (r.version == 0) {
    change.Absent(key, absl::StrCat("clock ", r.clock.name(), " exists"));
    if (!named_by_caller) {
      change.HSet(keys::Referral(r.region, keys::ReferralOfClock(r.id)),
                  {{keys::ClockField(r.id), ""}});
    }
    change.ZAdd(keys::ClocksStarted(r.region),
                Millis(core::ToAbslTime(r.clock.start_time())), r.id);
  } else {
    change
        .ClockVersionEquals(clock, r.version,
                            absl::StrCat("clock ", r.clock.name(), " changed"))
        .WithdrawPrepared(clock);
  }
  std::vector<std::pair<std::string, std::string>> plan = PlanFields(write);
  change.TallyClock(clock, TallyOf(r.clock), plan[0].second);
  RedisChange::Fields fields = {
      {"data", r.clock.SerializeAsString()},
      {"version", absl::StrCat(r.version + 1)},
      {"next", r.next_fire ? Millis(*r.next_fire) : ""}};
  for (auto& field : plan) fields.push_back(std::move(field));
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
    change.XAdd(keys::Events(r.region), EventEntry(*write.event));
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

// A tick's steps of clocks that exist go to lua/clock_steps.lua, lean (its
// header says why and how a step is laid out); steps to a script call: a
// call holds Redis for under a millisecond.
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
    call.args.push_back(write.event->SerializeAsString());
  } else {
    call.args.insert(call.args.end(), 2, "");
  }
  for (auto& [name, value] : PlanFields(write)) {
    call.args.push_back(std::move(value));
  }
  call.args.push_back(TallyOf(r.clock));
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
        calls.back().keys = {
            keys::ClocksDue(region),      keys::ClocksOpen(region),
            keys::Events(region),         keys::ClockWrites(region),
            keys::ClocksFired(region),    keys::ClockTallies(region),
            keys::ClockTallyMoves(region)};
        calls.back().args = {keys::ClockStepsPreparedAt(region, ""),
                             keys::ClockTallyMovesAt(region, "")};
      }
      AppendStep(calls.back(), writes[indexes[j]]);
    }
    ASSIGN_OR_RETURN(const std::vector<RedisValue> replies,
                     pool_->EvalPipeline(lua::ClockSteps(), calls));
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
  // A clock is its hash, how far its region has fired and its place, which
  // a write between their reads would tear (its hash from before the
  // write, its place from after). A firing between them moves only places
  // and how far the region has fired; whichever of those a read sees, it
  // takes as fired a first part of the plan, no fewer steps than had fired
  // before the firing and no more than after it, and a write from it is
  // refused if it missed one (its version counts them). One pipeline: the
  // region's count of clock writes, each clock's hash, how far the region
  // has fired, the clocks' places, the count again. The same count: no
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
    commands.reserve((versions ? 2 : 1) * n + 4);
    commands.push_back(count);
    std::vector<std::string> places = {"ZMSCORE", keys::ClocksDue(region)};
    for (const size_t i : pending) {
      commands.push_back({"HMGET", keys::Clock(region, ids[i]), "data",
                          "version", "next", "plan"});
      places.push_back(ids[i]);
    }
    commands.push_back({"GET", keys::ClocksFired(region)});
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
    const bool unwritten = same(replies[0], replies[n + 3]);
    if (!unwritten && !versions) continue;  // read again, with versions
    std::optional<int64_t> fired;
    if (!replies[n + 1].is_nil()) {
      int64_t ms = 0;
      if (!absl::SimpleAtoi(replies[n + 1].str, &ms)) {
        return absl::DataLossError(
            absl::StrCat("how far region ", region, " has fired (",
                         replies[n + 1].str, ") is not a time"));
      }
      fired = ms;
    }
    const std::vector<RedisValue>& place = replies[n + 2].elements;
    if (place.size() != n) {
      return absl::InternalError(absl::StrCat(
          "redis: unexpected reply reading clocks of region ", region));
    }
    std::vector<size_t> torn;
    for (size_t k = 0; k < n; ++k) {
      const RedisValue& hash = replies[1 + k];
      if (!unwritten && hash.elements.size() == 4 &&
          !same(hash.elements[1], replies[n + 4 + k])) {
        torn.push_back(pending[k]);
        continue;
      }
      ASSIGN_OR_RETURN(out[pending[k]], DecodeClock(region, ids[pending[k]],
                                                    hash, place[k], fired));
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
  ASSIGN_OR_RETURN(std::vector<std::vector<ClockRecord>> clocks,
                   ListClocksOfEach(region, {referral_id}));
  return std::move(clocks[0]);
}

absl::StatusOr<std::vector<std::vector<ClockRecord>>>
RedisReferralStore::ListClocksOfEach(
    const std::string& region, const std::vector<std::string>& referral_ids) {
  std::vector<std::vector<ClockRecord>> out(referral_ids.size());
  if (referral_ids.empty()) return out;
  // One pipeline for every referral's clock ids (the fields of its hash,
  // and the set they were kept in before 2026-12-07), one read of all
  // clocks.
  std::vector<std::vector<std::string>> commands;
  commands.reserve(2 * referral_ids.size());
  for (const std::string& id : referral_ids) {
    commands.push_back({"HKEYS", keys::Referral(region, id)});
    commands.push_back({"SMEMBERS", keys::ClocksOf(region, id)});
  }
  ASSIGN_OR_RETURN(const std::vector<RedisValue> replies,
                   pool_->Pipeline(commands));
  std::vector<std::string> all;
  std::vector<size_t> owner;
  for (size_t i = 0; i < referral_ids.size(); ++i) {
    std::set<std::string> ids;
    for (const std::string& field : Strings(replies[2 * i])) {
      if (absl::StartsWith(field, keys::kClockField)) {
        ids.insert(absl::StrCat(
            referral_ids[i],
            absl::string_view(field).substr(strlen(keys::kClockField))));
      }
    }
    for (std::string& id : Strings(replies[2 * i + 1])) {
      ids.insert(std::move(id));
    }
    for (const std::string& clock : ids) {
      all.push_back(clock);
      owner.push_back(i);
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<ClockRecord>> clocks,
                   ReadEach(*pool_, region, all));
  for (size_t k = 0; k < clocks.size(); ++k) {
    if (clocks[k].has_value()) out[owner[k]].push_back(*std::move(clocks[k]));
  }
  return out;
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
      pool_->Eval(lua::OpenClocksAfter(), {key},
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

// The counts of a clock_tallies.lua reply; nullopt when its epoch has not
// been swept yet.
absl::StatusOr<std::optional<std::vector<core::ClockTally>>> ParseTallies(
    const std::string& region, const RedisValue& reply) {
  const auto unexpected = [&] {
    return absl::InternalError(absl::StrCat(
        "redis: unexpected reply counting the clocks of region ", region));
  };
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() < 2 ||
      reply.elements.size() % 2 != 0) {
    return unexpected();
  }
  if (reply.elements[1].str != reply.elements[0].str) return std::nullopt;
  std::vector<core::ClockTally> out;
  for (size_t i = 2; i < reply.elements.size(); i += 2) {
    const std::vector<std::string> parts =
        absl::StrSplit(reply.elements[i].str, ':');
    int kind = 0, stage = 0;
    int64_t clocks = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &kind) ||
        !absl::SimpleAtoi(parts[1], &stage) ||
        !absl::SimpleAtoi(reply.elements[i + 1].str, &clocks) ||
        !v1::ClockKind_IsValid(kind) || stage < 0 ||
        stage >= core::kClockStages) {
      return unexpected();
    }
    if (clocks == 0) continue;
    out.push_back({.kind = static_cast<v1::ClockKind>(kind),
                   .stage = static_cast<core::ClockStage>(stage),
                   .clocks = clocks});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.kind, a.stage) < std::make_pair(b.kind, b.stage);
  });
  return out;
}

}  // namespace

absl::StatusOr<std::vector<core::ClockTally>> RedisReferralStore::CountClocks(
    const std::string& region) {
  const std::vector<std::string> tally_keys = {
      keys::ClockTallies(region), keys::ClockTallyMoves(region),
      keys::ClocksFired(region), keys::ClocksOpen(region)};
  // The counts; nullopt while the region's first count is not done.
  const auto read =
      [&]() -> absl::StatusOr<std::optional<std::vector<core::ClockTally>>> {
    ASSIGN_OR_RETURN(const RedisValue reply,
                     pool_->Eval(lua::ClockTallies(), tally_keys,
                                 {keys::ClockTallyMovesAt(region, "")}));
    return ParseTallies(region, reply);
  };
  {
    ASSIGN_OR_RETURN(std::optional<std::vector<core::ClockTally>> tallies,
                     read());
    if (tallies.has_value()) return *std::move(tallies);
  }
  // Clocks written before counts were kept: counted once, page by page.
  for (int page = 0; page < options_.count_pages_per_call; ++page) {
    ASSIGN_OR_RETURN(const RedisValue swept,
                     pool_->Eval(lua::TallyOpenClocks(), tally_keys,
                                 {keys::ClockTallyMovesAt(region, ""),
                                  keys::Clock(region, ""),
                                  absl::StrCat(options_.count_page)}));
    if (swept.type != RedisValue::Type::kArray || swept.elements.empty()) {
      return absl::InternalError(absl::StrCat(
          "redis: unexpected reply counting the clocks of region ", region));
    }
    if (swept.elements[0].str != "done") continue;
    ASSIGN_OR_RETURN(std::optional<std::vector<core::ClockTally>> tallies,
                     read());
    if (tallies.has_value()) return *std::move(tallies);
  }
  return absl::UnavailableError(absl::StrCat(
      "the open clocks of region ", region,
      " are still being counted the first time (written before counts were "
      "kept)"));
}

absl::StatusOr<core::PlannedFiring> RedisReferralStore::FirePlanned(
    const std::string& region, absl::Time now, absl::Time prepare_until,
    int limit) {
  ASSIGN_OR_RETURN(
      const RedisValue reply,
      pool_->Eval(lua::FirePlannedSteps(),
                  {keys::ClocksDue(region), keys::Events(region),
                   keys::ClocksFired(region), keys::ClockStepsPrepared(region)},
                  {Millis(now), Millis(std::max(now, prepare_until)),
                   absl::StrCat(limit), keys::Clock(region, ""),
                   keys::ClockStepsPreparedAt(region, "")}));
  const auto unexpected = [&] {
    return absl::InternalError(absl::StrCat(
        "redis: unexpected reply firing the clocks of region ", region));
  };
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 4 ||
      reply.elements[2].type != RedisValue::Type::kArray ||
      reply.elements[3].type != RedisValue::Type::kArray ||
      reply.elements[3].elements.size() % 2 != 0) {
    return unexpected();
  }
  core::PlannedFiring out;
  out.clocks = static_cast<int>(reply.elements[0].integer);
  out.steps = static_cast<int>(reply.elements[1].integer);
  out.unplanned = Strings(reply.elements[2]);
  const std::vector<RedisValue>& fired = reply.elements[3].elements;
  for (size_t i = 0; i < fired.size(); i += 2) {
    int64_t at_ms = 0;
    if (!absl::SimpleAtoi(fired[i].str, &at_ms)) return unexpected();
    out.fired.push_back({.at = absl::FromUnixMillis(at_ms),
                         .steps = static_cast<int>(fired[i + 1].integer)});
  }
  return out;
}

}  // namespace slussen::store
