// A small, thread-safe Redis client over hiredis 0.14: a pool of blocking
// connections with timeouts, pipelining (of commands and of script calls),
// and Lua scripts run by SHA.
//
// Failure model. Every failure to reach Redis (refused, reset, timed out,
// Redis loading its data after a restart) is UNAVAILABLE, returned at once:
// callers fail fast instead of queueing behind a dead server. A connection
// that failed is closed, and so are the idle ones (they lead to the same
// server); the next call connects afresh, so the pool recovers by itself
// when Redis is back. A write whose connection broke after it was sent may
// or may not have been applied: UNAVAILABLE then means "unknown", and
// callers make writes safe to retry (request ids, version checks).
//
//   ASSIGN_OR_RETURN(RedisAddress address, RedisAddress::Parse(flag));
//   RedisPool pool({.address = address});
//   ASSIGN_OR_RETURN(RedisValue reply, pool.Command({"GET", key}));
//
// Redis Cluster. With `cluster` set, the address is one node of a cluster:
// each command goes to the primary serving its key's hash slot (the map
// read with CLUSTER SLOTS, followed on MOVED and ASK), a pipeline takes one
// round trip per primary it touches, and every primary has a pool of its
// own. All keys of one command or script call must share a slot: every
// Slussen key carries its region ({r13}) or the directory ({dir}) as its
// hash tag, so the regions spread over the primaries. Commands without a
// key (PING, INFO) go to any primary.
//
// Redis Sentinel. With `sentinels` set, the pool asks them for the current
// primary whenever it opens a connection; a failover shows as UNAVAILABLE
// for the calls under way (their connections break, or the old primary
// answers READONLY), after which the pool asks again.
//
// Thread-safe: any number of threads may call a pool at once; each call
// borrows its own connection.
#ifndef SLUSSEN_BROKER_STORE_REDIS_CLIENT_H_
#define SLUSSEN_BROKER_STORE_REDIS_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/store/lua_line_map.h"

struct redisContext;

namespace slussen::store {

// Where Redis listens: "unix:/path/to/redis.sock", "tcp://host:port" or
// "host:port".
struct RedisAddress {
  std::string unix_path;  // set for a Unix socket
  std::string host;       // set for TCP
  int port = 0;

  static absl::StatusOr<RedisAddress> Parse(absl::string_view text);
  std::string ToString() const;
  // "host:port", or "unix:/path/to/redis.sock": the server as the metrics
  // name it (and as a cluster's slot map does).
  std::string NodeName() const;
};

// One reply, copied out of hiredis so no raw pointers leave this file.
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  // For kString, kStatus and kError.
  std::string str;
  // For kInteger.
  long long integer = 0;
  // For kArray.
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::kNil; }
};

// A Lua script, run with EVALSHA and loaded on NOSCRIPT (the script cache is
// empty after a Redis restart). The store's scripts are made from the files
// of broker/store/lua/ (broker/store/lua/scripts.h, generated), each with
// the line map of its lines: an error Redis reports at a line of the script
// ("user_script:57") comes back, from Eval and EvalPipeline, naming the
// file and line instead. Immutable, thread-safe.
class RedisScript {
 public:
  explicit RedisScript(std::string source, LuaLineMap lines = LuaLineMap());
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }
  const LuaLineMap& lines() const { return lines_; }

 private:
  std::string source_;
  std::string sha1_;
  LuaLineMap lines_;
};

struct RedisOptions {
  RedisAddress address;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(2);
  // Connections open at most; a call waits up to command_timeout for one.
  int max_connections = 16;
  // Sent with AUTH after connecting, when not empty.
  std::string password;
  // `address` is a node of a Redis Cluster (see above); so are these,
  // asked for the slot map when it is not reachable.
  bool cluster = false;
  std::vector<RedisAddress> more_seeds;
  // Replicas that must hold a write before it counts as done. Redis
  // replicates asynchronously: a primary that fails over right after
  // acknowledging a write may take it along. With this set, a round trip
  // that may write ends with WAIT for that many replicas (at most
  // `replica_timeout`); fewer is UNAVAILABLE ("unknown", as a broken
  // connection: the write is on the primary, and callers retry it
  // safely). 0: no wait.
  int wait_replicas = 0;
  absl::Duration replica_timeout = absl::Milliseconds(500);
  // Redis Sentinel: when not empty, `address` is not used; each new
  // connection asks these Sentinels (in order, the first that knows) for
  // the primary of `sentinel_master`, and refuses it unless it says it is
  // a primary. After a failover the connections to the old primary fail
  // or answer READONLY; the pool drops them and asks again.
  std::vector<RedisAddress> sentinels;
  std::string sentinel_master = "slussen";
  // If set (metrics), told with the server concerned (RedisAddress::
  // NodeName: the primary, on a cluster the node asked; "unknown" when
  // the Sentinels named no primary to ask): of every round trip on a
  // connection, whether it was answered (false: UNAVAILABLE, the
  // connection failed or could not be made); of every error reply of
  // Redis's own in one (RedisErrorCode), however the caller takes it; and
  // of every connection opened (to a primary, a cluster node or a
  // Sentinel). Called on the calling thread, outside the pool's locks.
  std::function<void(const std::string& node, bool answered)> on_round_trip;
  std::function<void(const std::string& node, absl::string_view error)>
      on_error_reply;
  std::function<void(const std::string& node)> on_connection_opened;
};

// The code of an error reply Redis gives of its own ("OOM command not
// allowed..." is "OOM"), one of MOVED, ASK, NOSCRIPT, LOADING, READONLY,
// MASTERDOWN, CLUSTERDOWN, TRYAGAIN, BUSY, OOM, NOAUTH, WRONGPASS,
// WRONGTYPE, EXECABORT or ERR, "other" for any other; empty for the
// refusals the store's scripts answer by design (ABORTED, NOT_FOUND,
// ALREADY_EXISTS, FAILED_PRECONDITION: outcomes, not errors).
std::string RedisErrorCode(absl::string_view reply);

// Where `options` lead, for logs: "unix:/...", "cluster at tcp://...",
// or "primary \"slussen\" of Sentinels tcp://...,tcp://...".
std::string DescribeRedis(const RedisOptions& options);

// Whether `argv` may write: a script call, or a write command the store
// uses.
bool RedisMayWrite(const std::vector<std::string>& argv);

// The Redis Cluster hash slot of `key`, 0..16383: CRC-16 (XMODEM) of its
// hash tag (the text between the first '{' and the next '}', when not
// empty), else of the whole key.
int RedisHashSlot(absl::string_view key);

// The slot a command's keys are in (its first key's), or -1 for a command
// without a key. Knows EVAL/EVALSHA (KEYS come after numkeys), XREAD
// (after STREAMS), MEMORY USAGE and OBJECT (the key after the subcommand)
// and the server commands without keys; anything else has its key first.
int RedisCommandSlot(const std::vector<std::string>& argv);

class RedisPool {
 public:
  explicit RedisPool(RedisOptions options);
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // One command. An error reply is returned as a status (see
  // StatusFromErrorReply), never as a value.
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& argv);

  // Several commands in one round trip; replies in order. Error replies are
  // kept as values of type kError so the caller can tell which failed.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // EVALSHA, falling back to EVAL when Redis does not know the script. An
  // error reply is a status, as from Command, at the script's file lines.
  // (By value: a caller done with its keys and arguments moves them in,
  // which saves copying a large write's.)
  absl::StatusOr<RedisValue> Eval(const RedisScript& script,
                                  std::vector<std::string> keys,
                                  std::vector<std::string> args);

  // One call of a script: its keys and arguments.
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  // Several calls of `script` pipelined on one connection: one round trip
  // (two if Redis did not know the script: the calls it refused with
  // NOSCRIPT, and so did not run, are sent again with EVAL). Replies in
  // order; error replies kept as values of type kError, as in Pipeline,
  // at the script's file lines.
  absl::StatusOr<std::vector<RedisValue>> EvalPipeline(
      const RedisScript& script, const std::vector<ScriptCall>& calls);

  // PING to the server, or in cluster mode to every primary of the slot
  // map: each address with its outcome. (A primary down stops only its
  // regions, so health asks them all.)
  std::vector<std::pair<std::string, absl::Status>> PingEach();

  const RedisOptions& options() const { return options_; }

 private:
  struct Connection;

  // A connection, idle or new; `*node` is set to the server it leads to,
  // or the one it failed to reach ("unknown" if none was named).
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(std::string* node);
  // With Sentinels, at most once per kSentinelRecheck: asks them which
  // server is the primary now, and closes the idle connections to any
  // other. A broker cut off with the old primary would otherwise keep
  // writing there after the partition heals, until the Sentinels demote it
  // (some 10 s), and with wait_replicas 0 those writes are lost then.
  void RecheckSentinelPrimary();
  // Puts `connection` back, or closes it if it reaches a server the
  // Sentinels no longer name as the primary.
  void Release(std::unique_ptr<Connection> connection);
  // Closes `connection` and every idle connection: they reach the same
  // server, which just failed.
  void Discard(std::unique_ptr<Connection> connection);
  absl::StatusOr<std::unique_ptr<Connection>> Connect(std::string* node);
  // A connection to `address`, authenticated with `password` if not empty.
  absl::StatusOr<std::unique_ptr<Connection>> Open(
      const RedisAddress& address, const std::string& password) const;
  // One command on `connection`, outside any pool.
  absl::StatusOr<RedisValue> Ask(Connection& connection,
                                 const std::vector<std::string>& argv) const;
  // The primary the Sentinels name.
  absl::StatusOr<RedisAddress> AskSentinels() const;
  // Runs `commands` on one connection, or in cluster mode on one
  // connection per primary; UNAVAILABLE on I/O failure.
  absl::StatusOr<std::vector<RedisValue>> RoundTrip(
      const std::vector<std::vector<std::string>>& commands);
  // One connection's round trip, told to on_round_trip.
  absl::StatusOr<std::vector<RedisValue>> DirectRoundTrip(
      const std::vector<std::vector<std::string>>& commands);
  // The same, telling in `*node` which server it asked (Acquire).
  absl::StatusOr<std::vector<RedisValue>> UncountedRoundTrip(
      const std::vector<std::vector<std::string>>& commands, std::string* node);

  // Cluster mode.
  absl::StatusOr<std::vector<RedisValue>> ClusterRoundTrip(
      const std::vector<std::vector<std::string>>& commands);
  // The slot map: one primary address per slot ("" for none).
  using SlotMap = std::vector<std::string>;
  // The slot map to route with: read from the cluster first when there is
  // none yet, or when it may be out of date (a node failed, a slot moved),
  // unless another call read it meanwhile. If no node answers, the map in
  // hand is kept (a lost primary must not stop the others' slots);
  // UNAVAILABLE only when there is none at all.
  absl::StatusOr<std::shared_ptr<const SlotMap>> Slots();
  // Marks the map as possibly out of date: the next call reads it again,
  // and routes with the one in hand until then.
  void DistrustSlots();
  // Reads the slot map from the first node that answers CLUSTER SLOTS,
  // unless it was read since `outdated` was taken.
  absl::StatusOr<std::shared_ptr<const SlotMap>> RefreshSlots(
      const std::shared_ptr<const SlotMap>& outdated);
  // The pool of the node at `address` ("host:port"), made on first use.
  absl::StatusOr<RedisPool*> NodePool(const std::string& address);

  const RedisOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  // With Sentinels: the primary they named when last asked ("host:port";
  // empty before), and when to ask again.
  std::string sentinel_primary_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sentinel_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  absl::Mutex cluster_mu_;
  // The pool of each node met, by "host:port"; kept for the pool's life.
  std::map<std::string, std::unique_ptr<RedisPool>> nodes_
      ABSL_GUARDED_BY(cluster_mu_);
  // The primary of each slot; null until first read. Replaced whole, never
  // changed in place and never cleared, so a call routes with the map it
  // took while another reads the next.
  std::shared_ptr<const SlotMap> slots_ ABSL_GUARDED_BY(cluster_mu_);
  // Set when a node failed or a slot moved: read the map again.
  bool slots_distrusted_ ABSL_GUARDED_BY(cluster_mu_) = false;
  // One CLUSTER SLOTS read at a time: a burst of failures reads it once.
  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(cluster_mu_);
};

// The status for an error reply: script errors coded "ABORTED ...",
// "NOT_FOUND ...", "ALREADY_EXISTS ...", "FAILED_PRECONDITION ..." map to
// those codes; LOADING,
// MASTERDOWN, READONLY, TRYAGAIN and CLUSTERDOWN to UNAVAILABLE; OOM to
// RESOURCE_EXHAUSTED; anything else to INTERNAL.
absl::Status StatusFromErrorReply(absl::string_view message);

}  // namespace slussen::store

#endif  // SLUSSEN_BROKER_STORE_REDIS_CLIENT_H_
