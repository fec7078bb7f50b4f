// One atomic change to Redis: checks, then writes, run by one Lua script.
//
// Every change the broker makes (a referral and its event, an offer taking
// a place, a provider's answer, new capacity) is described as data: the
// checks that must hold (the version read, a free unit, an absent key) and
// the writes that follow. The script runs all checks before the first
// write, so a change whose check fails writes nothing, and a change that
// passes is written whole: Redis runs a script atomically and the AOF
// keeps its effects as one transaction. One small script, audited once,
// instead of one per operation (broker/store/lua/change.lua, which says
// how a change is laid out for it).
//
//   RedisChange change;
//   change.FieldEquals(referral_key, "version", "3", "referral X changed")
//       .HasFreeUnit(offering_key, "u:-:", "no place left at Y")
//       .HSet(referral_key, {{"version", "4"}, {"state", "3"}})
//       .HIncrBy(offering_key, "u:-:held", 1)
//       .XAdd(stream_key, {{"type", "5"}, {"event", bytes}});
//   ASSIGN_OR_RETURN(RedisChange::Result result, change.Apply(pool));
//
// Failed checks come back as statuses: FieldEquals, ClockVersionEquals
// and Absent as ABORTED
// (a lost race: read again), HasFreeUnit and UnitFits as
// FAILED_PRECONDITION. Every key
// is declared to the script (as Redis Cluster requires); keys of one change
// must share a hash tag. Not thread-safe; build one per change.
//
// Many independent changes (a tick's clock steps) go together with
// ApplyEach: each is still checked and written on its own, exactly as by
// Apply, but they share a round trip, and the changes of one script call
// share Redis's fsync of the append-only file (with appendfsync always,
// Redis fsyncs once per event-loop turn, not once per change).
#ifndef SLUSSEN_BROKER_STORE_REDIS_CHANGE_H_
#define SLUSSEN_BROKER_STORE_REDIS_CHANGE_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/store/redis_client.h"

namespace slussen::store {

class RedisChange {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  struct Result {
    // Set when an IfExistsReturn key existed: its value; nothing was
    // written.
    std::optional<std::string> existing;
    // The ids XAdd wrote, in order.
    std::vector<std::string> stream_ids;
    // When written: the values ReadAlong read, in order (nullopt: no such
    // key).
    std::vector<std::optional<std::string>> reads;
  };

  // Reads the string at `key` in the same atomic step as the writes, for
  // a caller that must know what it held when the change was written
  // (Result::reads). Not a check: the change is written whatever it holds.
  RedisChange& ReadAlong(const std::string& key);

  // --- Checks (all run before any write) ---
  // If `key` exists, end at once with its (string) value and write nothing:
  // an idempotent replay.
  RedisChange& IfExistsReturn(const std::string& key);
  // `key` must not exist; otherwise ABORTED "<message>" (a create that
  // lost a race), or ALREADY_EXISTS when `already_exists`.
  RedisChange& Absent(const std::string& key, const std::string& message,
                      bool already_exists = false);
  // Hash field `field` of `key` must equal `value` ("" matches a missing
  // field); otherwise ABORTED "<message> (<field> <actual>, expected
  // <value>)", or NOT_FOUND "<message>" when the key is missing and
  // `missing_is_not_found`.
  RedisChange& FieldEquals(const std::string& key, const std::string& field,
                           const std::string& value, const std::string& message,
                           bool missing_is_not_found = false);
  // A clock's keys as its checks and writes need them: its hash, its
  // region's due set (where `id` has its place), how far the region's
  // planned steps have fired, and the key of its prepared events less the
  // instant (keys::ClockStepsPreparedAt(region, "")); for TallyClock its
  // region's open clocks, tallies, their moves' instants and the key of
  // their moves less the instant (keys::ClocksOpen, ClockTallies,
  // ClockTallyMoves, ClockTallyMovesAt(region, "")).
  struct ClockKeys {
    std::string hash;
    std::string due;
    std::string fired;
    std::string prepared_prefix;
    std::string id;
    std::string open;
    std::string tallies;
    std::string tally_moves;
    std::string tally_moves_prefix;
  };
  // The clock must be at `version`: its stored `version` plus the steps of
  // its plan (its field `plan`, laid out as lua/includes/clock_plan.lua
  // reads it) fired since; otherwise ABORTED "<message> (version <actual>,
  // expected <version>)" (a write or a step since it was read), or NOT_FOUND
  // "<message>" when the clock is missing.
  RedisChange& ClockVersionEquals(const ClockKeys& clock, int64_t version,
                                  const std::string& message);
  // The capacity unit of hash `key` whose fields start with `prefix` must
  // have room: <prefix>cap - <prefix>occupied - <prefix>held > 0;
  // otherwise FAILED_PRECONDITION "<message>".
  RedisChange& HasFreeUnit(const std::string& key, const std::string& prefix,
                           const std::string& message);
  // The unit must fit in `capacity`: <prefix>occupied + <prefix>held <=
  // capacity; otherwise FAILED_PRECONDITION "<message>".
  RedisChange& UnitFits(const std::string& key, const std::string& prefix,
                        int64_t capacity, const std::string& message);

  // --- Writes ---
  RedisChange& HSet(const std::string& key, Fields fields);
  RedisChange& HDel(const std::string& key, const std::string& field);
  // Removes the clock's prepared events of steps not yet fired (a write
  // replaces its plan, and with it what it will announce); before the
  // write of its new plan and place. Its prepared hashes are not declared
  // keys: they share the clock's hash tag.
  RedisChange& WithdrawPrepared(const ClockKeys& clock);
  // Counts the clock out of its region's tallies as its stored `tally`
  // and `plan` say, and in as `tally` ("<kind>:<stage>" of its new data;
  // empty when it closes) and `plan` (its new plan, as stored) say
  // (lua/includes/clock_tally.lua), and stores `tally`. Before the write
  // of its new plan and its place among the open clocks.
  RedisChange& TallyClock(const ClockKeys& clock, const std::string& tally,
                          const std::string& plan);
  RedisChange& HIncrBy(const std::string& key, const std::string& field,
                       int64_t delta);
  // Sets the capacity of the unit of hash `key` whose fields start with
  // `prefix` to what it holds: <prefix>cap = <prefix>occupied +
  // <prefix>held, as they are at this point of the writes, and marks it
  // so (<prefix>closed = 1).
  RedisChange& CloseUnit(const std::string& key, const std::string& prefix);
  RedisChange& ZAdd(const std::string& key, const std::string& score,
                    const std::string& member);
  RedisChange& ZRem(const std::string& key, const std::string& member);
  RedisChange& SAdd(const std::string& key, const std::string& member);
  RedisChange& SRem(const std::string& key, const std::string& member);
  // Appends `record` to the hash chain of stream `stream_key` whose head
  // (fields hash, count) is `head_key`: the entry holds r (the record), p
  // (the head's hash before) and h = SHA-1(p .. r), and the head moves to
  // it. When `subject_key` is not empty, the entry's id is pushed to that
  // list (an index of one subject's records). The link is computed inside
  // the script, so concurrent appends never fork the chain.
  RedisChange& AuditAppend(const std::string& stream_key,
                           const std::string& head_key,
                           const std::string& subject_key,
                           const std::string& record);
  RedisChange& SetWithTtl(const std::string& key, const std::string& value,
                          int64_t ttl_millis);
  RedisChange& XAdd(const std::string& key, Fields fields);

  // Runs the change.
  absl::StatusOr<Result> Apply(RedisPool& pool) const;

  // Changes sent in one script call at most by ApplyEach: enough to share
  // an fsync among many, few enough that one call holds Redis for a few
  // milliseconds only (Redis serves nobody else while a script runs).
  static constexpr int kChangesPerScript = 128;

  // Runs `changes` (the keys of all of them sharing one hash tag) in one
  // round trip: `per_script` to a script call, the calls pipelined. Each
  // change is atomic on its own, as with Apply; one whose check fails
  // writes nothing and does not stop the others. The outcome of each, in
  // order. The whole call fails only when Redis cannot be reached
  // (UNAVAILABLE: some changes may have been written).
  static absl::StatusOr<std::vector<absl::StatusOr<Result>>> ApplyEach(
      RedisPool& pool, const std::vector<RedisChange>& changes,
      int per_script = kChangesPerScript);

  bool empty() const { return ops_.empty(); }

 private:
  // The 1-based index of `key` among the declared keys.
  std::string KeyIndex(const std::string& key);
  // Appends an operation: its name, its argument count, its arguments.
  RedisChange& Op(absl::string_view name,
                  std::initializer_list<absl::string_view> args);
  // The same for an operation on `key` with field-value pairs (HSET, XADD).
  RedisChange& OpWithFields(absl::string_view name, const std::string& key,
                            Fields&& fields);
  // Appends this change to a script call: its keys after those already
  // there, its operations after a header telling the script where they
  // end and where its keys begin.
  void AppendTo(RedisPool::ScriptCall& call) const;

  std::vector<std::string> keys_;
  std::map<std::string, int> key_index_;
  std::vector<std::string> ops_;
};

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_CHANGE_H_
