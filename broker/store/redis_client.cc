#include "broker/store/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "broker/core/model/status_macros.h"

namespace slussen::store {
namespace {

RedisValue CopyReply(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      value.type = RedisValue::Type::kString;
      value.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::kStatus;
      value.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      value.type = RedisValue::Type::kError;
      value.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      value.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i) {
        value.elements.push_back(CopyReply(reply->element[i]));
      }
      break;
    default:
      value.type = RedisValue::Type::kNil;
      break;
  }
  return value;
}

// hiredis 0.14 writes to its socket with write(2), so a peer that went away
// raises SIGPIPE, which would kill the process. A broken connection must be
// an UNAVAILABLE status instead.
void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

absl::StatusOr<RedisAddress> RedisAddress::Parse(absl::string_view text) {
  RedisAddress address;
  if (absl::ConsumePrefix(&text, "unix:")) {
    if (text.empty() || text.size() > 107) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis address \"unix:", text,
                       "\" must name a socket path of 1..107 bytes"));
    }
    address.unix_path = std::string(text);
    return address;
  }
  absl::ConsumePrefix(&text, "tcp://");
  const size_t colon = text.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      text.find_first_of("/, \t") != absl::string_view::npos ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 1 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis address \"", text,
        "\" must be unix:/path/to/socket, tcp://host:port or host:port"));
  }
  address.host = std::string(text.substr(0, colon));
  address.port = port;
  return address;
}

std::string RedisAddress::ToString() const {
  return unix_path.empty() ? absl::StrCat("tcp://", host, ":", port)
                           : absl::StrCat("unix:", unix_path);
}

std::string RedisAddress::NodeName() const {
  return unix_path.empty() ? absl::StrCat(host, ":", port)
                           : absl::StrCat("unix:", unix_path);
}

std::string RedisErrorCode(absl::string_view reply) {
  const absl::string_view code = reply.substr(0, reply.find(' '));
  if (code == "ABORTED" || code == "NOT_FOUND" || code == "ALREADY_EXISTS" ||
      code == "FAILED_PRECONDITION") {
    return "";
  }
  static const auto* const kCodes = new absl::flat_hash_set<std::string>{
      "MOVED",      "ASK",         "NOSCRIPT",  "LOADING",   "READONLY",
      "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN",  "BUSY",      "OOM",
      "NOAUTH",     "WRONGPASS",   "WRONGTYPE", "EXECABORT", "ERR"};
  return kCodes->contains(code) ? std::string(code) : "other";
}

RedisScript::RedisScript(std::string source, LuaLineMap lines)
    : source_(std::move(source)), lines_(std::move(lines)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(),
       digest);
  for (unsigned char byte : digest) absl::StrAppendFormat(&sha1_, "%02x", byte);
}

struct RedisPool::Connection {
  redisContext* context = nullptr;
  std::string where;  // the server's address, for messages
  std::string node;   // and as the metrics name it
  ~Connection() {
    if (context != nullptr) redisFree(context);
  }
};

RedisPool::RedisPool(RedisOptions options) : options_(std::move(options)) {
  IgnoreSigpipe();
}

RedisPool::~RedisPool() = default;

absl::StatusOr<std::unique_ptr<RedisPool::Connection>> RedisPool::Open(
    const RedisAddress& address, const std::string& password) const {
  auto connection = std::make_unique<Connection>();
  connection->where = address.ToString();
  connection->node = address.NodeName();
  const timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  connection->context =
      address.unix_path.empty()
          ? redisConnectWithTimeout(address.host.c_str(), address.port,
                                    connect_timeout)
          : redisConnectUnixWithTimeout(address.unix_path.c_str(),
                                        connect_timeout);
  if (connection->context == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate a redis connection");
  }
  if (connection->context->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("redis at ", address.ToString(),
                     " is unreachable: ", connection->context->errstr));
  }
  redisSetTimeout(connection->context,
                  absl::ToTimeval(options_.command_timeout));
  if (address.unix_path.empty()) redisEnableKeepAlive(connection->context);
  if (!password.empty()) {
    ASSIGN_OR_RETURN(const RedisValue reply,
                     Ask(*connection, {"AUTH", password}));
    if (reply.type == RedisValue::Type::kError) {
      return absl::PermissionDeniedError(absl::StrCat(
          "redis at ", address.ToString(), " refused the password"));
    }
  }
  if (options_.on_connection_opened) {
    options_.on_connection_opened(connection->node);
  }
  return connection;
}

absl::StatusOr<RedisValue> RedisPool::Ask(
    Connection& connection, const std::vector<std::string>& argv) const {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(connection.context, static_cast<int>(args.size()),
                       args.data(), lengths.data()));
  if (reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis at ", connection.where,
                                               " failed during ", argv[0], ": ",
                                               connection.context->errstr));
  }
  RedisValue value = CopyReply(reply);
  freeReplyObject(reply);
  return value;
}

absl::StatusOr<RedisAddress> RedisPool::AskSentinels() const {
  std::string errors;
  for (const RedisAddress& sentinel : options_.sentinels) {
    absl::StatusOr<std::unique_ptr<Connection>> connection = Open(sentinel, "");
    const absl::StatusOr<RedisValue> reply =
        connection.ok()
            ? Ask(**connection, {"SENTINEL", "get-master-addr-by-name",
                                 options_.sentinel_master})
            : absl::StatusOr<RedisValue>(connection.status());
    int port = 0;
    if (reply.ok() && reply->type == RedisValue::Type::kArray &&
        reply->elements.size() == 2 &&
        absl::SimpleAtoi(reply->elements[1].str, &port)) {
      RedisAddress master;
      master.host = reply->elements[0].str;
      master.port = port;
      return master;
    }
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", sentinel.ToString(),
                    ": ",
                    !reply.ok() ? reply.status().message()
                    : reply->type == RedisValue::Type::kError
                        ? absl::string_view(reply->str)
                        : absl::string_view("does not know it"));
  }
  return absl::UnavailableError(
      absl::StrCat("no Sentinel named the primary of \"",
                   options_.sentinel_master, "\" (", errors, ")"));
}

absl::StatusOr<std::unique_ptr<RedisPool::Connection>> RedisPool::Connect(
    std::string* node) {
  if (options_.sentinels.empty()) {
    *node = options_.address.NodeName();
    return Open(options_.address, options_.password);
  }
  *node = "unknown";
  ASSIGN_OR_RETURN(const RedisAddress primary, AskSentinels());
  *node = primary.NodeName();
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                   Open(primary, options_.password));
  // Right after a failover a Sentinel may still name the old primary,
  // now a replica: no writes there.
  ASSIGN_OR_RETURN(const RedisValue role, Ask(*connection, {"ROLE"}));
  if (role.type != RedisValue::Type::kArray || role.elements.empty() ||
      role.elements[0].str != "master") {
    return absl::UnavailableError(
        absl::StrCat("redis at ", connection->where,
                     ", which the Sentinels name as the "
                     "primary of \"",
                     options_.sentinel_master,
                     "\", is not a primary (a failover is under way)"));
  }
  return connection;
}

constexpr absl::Duration kSentinelRecheck = absl::Seconds(1);

void RedisPool::RecheckSentinelPrimary() {
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now < next_sentinel_check_) return;
    next_sentinel_check_ = now + kSentinelRecheck;
  }
  // No answer: keep the connections; a failing one is dropped on use.
  const absl::StatusOr<RedisAddress> primary = AskSentinels();
  if (!primary.ok()) return;
  std::vector<std::unique_ptr<Connection>> stale;
  {
    absl::MutexLock lock(&mu_);
    sentinel_primary_ = primary->ToString();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if ((*it)->where == sentinel_primary_) {
        ++it;
        continue;
      }
      stale.push_back(std::move(*it));
      it = idle_.erase(it);
      --open_;
    }
  }
  // `stale` closes its connections here, outside the lock.
}

absl::StatusOr<std::unique_ptr<RedisPool::Connection>> RedisPool::Acquire(
    std::string* node) {
  *node = options_.sentinels.empty() ? options_.address.NodeName() : "unknown";
  if (!options_.sentinels.empty()) RecheckSentinelPrimary();
  {
    absl::MutexLock lock(&mu_);
    const auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available),
                              options_.command_timeout)) {
      return absl::UnavailableError(
          absl::StrCat("all ", options_.max_connections,
                       " redis connections stayed busy for ",
                       absl::FormatDuration(options_.command_timeout)));
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      *node = connection->node;
      return connection;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(node);
  if (!connection.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return connection;
}

void RedisPool::Release(std::unique_ptr<Connection> connection) {
  absl::MutexLock lock(&mu_);
  if (!sentinel_primary_.empty() && connection->where != sentinel_primary_) {
    --open_;
    return;  // `connection` closes as it goes out of scope
  }
  idle_.push_back(std::move(connection));
}

void RedisPool::Discard(std::unique_ptr<Connection> connection) {
  std::vector<std::unique_ptr<Connection>> stale;
  {
    absl::MutexLock lock(&mu_);
    stale.swap(idle_);
    open_ -= static_cast<int>(stale.size()) + 1;
  }
  connection.reset();
  // `stale` closes its connections here, outside the lock.
}

absl::StatusOr<std::vector<RedisValue>> RedisPool::RoundTrip(
    const std::vector<std::vector<std::string>>& commands) {
  return options_.cluster ? ClusterRoundTrip(commands)
                          : DirectRoundTrip(commands);
}

std::string DescribeRedis(const RedisOptions& options) {
  if (!options.sentinels.empty()) {
    std::string sentinels;
    for (const RedisAddress& sentinel : options.sentinels) {
      absl::StrAppend(&sentinels, sentinels.empty() ? "" : ",",
                      sentinel.ToString());
    }
    return absl::StrCat("primary \"", options.sentinel_master,
                        "\" of Sentinels ", sentinels);
  }
  return absl::StrCat(options.cluster ? "cluster at " : "",
                      options.address.ToString());
}

bool RedisMayWrite(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  static const auto* const kWrites = new absl::flat_hash_set<std::string>{
      "APPEND",  "DEL",   "EVAL",   "EVALSHA", "EXPIRE",  "FCALL", "HDEL",
      "HINCRBY", "HSET",  "HSETNX", "INCR",    "INCRBY",  "LPUSH", "MSET",
      "PEXPIRE", "RPUSH", "SADD",   "SET",     "SETNX",   "SREM",  "UNLINK",
      "XADD",    "XDEL",  "XTRIM",  "ZADD",    "ZINCRBY", "ZREM"};
  return kWrites->contains(absl::AsciiStrToUpper(argv[0]));
}

absl::StatusOr<std::vector<RedisValue>> RedisPool::DirectRoundTrip(
    const std::vector<std::vector<std::string>>& commands) {
  std::string node;
  absl::StatusOr<std::vector<RedisValue>> replies =
      UncountedRoundTrip(commands, &node);
  if (options_.on_round_trip) {
    options_.on_round_trip(node, !absl::IsUnavailable(replies.status()));
  }
  if (options_.on_error_reply && replies.ok()) {
    for (const RedisValue& reply : *replies) {
      if (reply.type != RedisValue::Type::kError) continue;
      const std::string code = RedisErrorCode(reply.str);
      if (!code.empty()) options_.on_error_reply(node, code);
    }
  }
  return replies;
}

absl::StatusOr<std::vector<RedisValue>> RedisPool::UncountedRoundTrip(
    const std::vector<std::vector<std::string>>& commands, std::string* node) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Acquire(node));
  redisContext* context = connection->context;
  const bool waits =
      options_.wait_replicas > 0 &&
      std::any_of(commands.begin(), commands.end(), RedisMayWrite);
  std::vector<std::string> wait;
  if (waits) {
    wait = {"WAIT", absl::StrCat(options_.wait_replicas),
            absl::StrCat(absl::ToInt64Milliseconds(options_.replica_timeout))};
  }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (size_t i = 0; i < commands.size() + (waits ? 1 : 0); ++i) {
    const std::vector<std::string>& command =
        i < commands.size() ? commands[i] : wait;
    argv.clear();
    lengths.clear();
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                           lengths.data());
  }
  std::vector<RedisValue> replies;
  replies.reserve(commands.size() + 1);
  for (size_t i = 0; i < commands.size() + (waits ? 1 : 0); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
      const std::string error = context->errstr;
      const std::string where = connection->where;
      Discard(std::move(connection));
      return absl::UnavailableError(absl::StrCat(
          "redis at ", where, " failed: ", error.empty() ? "no reply" : error));
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(CopyReply(reply));
    freeReplyObject(reply);
  }
  const std::string where = connection->where;
  const bool demoted =
      !options_.sentinels.empty() &&
      std::any_of(replies.begin(), replies.end(), [](const RedisValue& r) {
        return r.type == RedisValue::Type::kError &&
               absl::StartsWith(r.str, "READONLY");
      });
  if (demoted) {
    // The primary became a replica (a failover): ask the Sentinels again.
    Discard(std::move(connection));
  } else {
    Release(std::move(connection));
  }
  if (waits) {
    const RedisValue acked = std::move(replies.back());
    replies.pop_back();
    if (acked.type != RedisValue::Type::kInteger ||
        acked.integer < options_.wait_replicas) {
      return absl::UnavailableError(absl::StrCat(
          "redis at ", where, ": ",
          acked.type == RedisValue::Type::kInteger
              ? absl::StrCat(acked.integer, " of ", options_.wait_replicas)
              : absl::StrCat("none of ", options_.wait_replicas, " (",
                             acked.str, ")"),
          " replicas confirmed the write within ",
          absl::FormatDuration(options_.replica_timeout),
          "; it is on the primary, maybe not on a replica (retry it)"));
    }
  }
  return replies;
}

absl::StatusOr<RedisValue> RedisPool::Command(
    const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, RoundTrip({argv}));
  if (replies[0].type == RedisValue::Type::kError) {
    return StatusFromErrorReply(replies[0].str);
  }
  return std::move(replies[0]);
}

absl::StatusOr<std::vector<RedisValue>> RedisPool::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (commands.empty()) return std::vector<RedisValue>();
  return RoundTrip(commands);
}

absl::StatusOr<RedisValue> RedisPool::Eval(const RedisScript& script,
                                           std::vector<std::string> keys,
                                           std::vector<std::string> args) {
  std::vector<std::vector<std::string>> commands(1);
  std::vector<std::string>& argv = commands[0];
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(absl::StrCat(keys.size()));
  std::move(keys.begin(), keys.end(), std::back_inserter(argv));
  std::move(args.begin(), args.end(), std::back_inserter(argv));
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, RoundTrip(commands));
  if (replies[0].type == RedisValue::Type::kError &&
      absl::StartsWith(replies[0].str, "NOSCRIPT")) {
    // EVAL runs the script and caches it for the next EVALSHA.
    argv[0] = "EVAL";
    argv[1] = script.source();
    ASSIGN_OR_RETURN(replies, RoundTrip(commands));
  }
  if (replies[0].type == RedisValue::Type::kError) {
    return StatusFromErrorReply(script.lines().Apply(replies[0].str));
  }
  return std::move(replies[0]);
}

absl::StatusOr<std::vector<RedisValue>> RedisPool::EvalPipeline(
    const RedisScript& script, const std::vector<ScriptCall>& calls) {
  const auto command = [&](const ScriptCall& call, bool by_sha) {
    std::vector<std::string> argv = {by_sha ? "EVALSHA" : "EVAL",
                                     by_sha ? script.sha1() : script.source(),
                                     absl::StrCat(call.keys.size())};
    argv.insert(argv.end(), call.keys.begin(), call.keys.end());
    argv.insert(argv.end(), call.args.begin(), call.args.end());
    return argv;
  };
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (const ScriptCall& call : calls) commands.push_back(command(call, true));
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, Pipeline(commands));
  // NOSCRIPT: the call did not run; EVAL runs it and caches the script.
  std::vector<size_t> unknown;
  commands.clear();
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].type == RedisValue::Type::kError &&
        absl::StartsWith(replies[i].str, "NOSCRIPT")) {
      unknown.push_back(i);
      commands.push_back(command(calls[i], false));
    }
  }
  if (!unknown.empty()) {
    ASSIGN_OR_RETURN(std::vector<RedisValue> retried, Pipeline(commands));
    for (size_t j = 0; j < unknown.size(); ++j) {
      replies[unknown[j]] = std::move(retried[j]);
    }
  }
  for (RedisValue& reply : replies) {
    if (reply.type == RedisValue::Type::kError) {
      reply.str = script.lines().Apply(reply.str);
    }
  }
  return replies;
}

// --- Redis Cluster ---

namespace {

constexpr int kSlots = 16384;
// MOVED and ASK followed for one command before giving up.
constexpr int kMaxRedirects = 5;

// CRC-16/XMODEM (polynomial 0x1021, initial 0), as Redis Cluster hashes.
uint16_t Crc16(absl::string_view data) {
  uint16_t crc = 0;
  for (const char c : data) {
    crc ^= static_cast<uint16_t>(static_cast<unsigned char>(c)) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

// "MOVED 3999 127.0.0.1:6381": the slot and the address.
bool ParseRedirect(absl::string_view error, absl::string_view kind, int* slot,
                   std::string* address) {
  if (!absl::ConsumePrefix(&error, kind) || !absl::ConsumePrefix(&error, " ")) {
    return false;
  }
  const size_t space = error.find(' ');
  if (space == absl::string_view::npos ||
      !absl::SimpleAtoi(error.substr(0, space), slot) || *slot < 0 ||
      *slot >= kSlots) {
    return false;
  }
  *address = std::string(error.substr(space + 1));
  return !address->empty();
}

}  // namespace

int RedisHashSlot(absl::string_view key) {
  const size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kSlots;
}

int RedisCommandSlot(const std::vector<std::string>& argv) {
  if (argv.size() < 2) return -1;
  const std::string name = absl::AsciiStrToUpper(argv[0]);
  if (name == "EVAL" || name == "EVALSHA" || name == "EVAL_RO" ||
      name == "EVALSHA_RO" || name == "FCALL" || name == "FCALL_RO") {
    int keys = 0;
    if (argv.size() > 3 && absl::SimpleAtoi(argv[2], &keys) && keys > 0) {
      return RedisHashSlot(argv[3]);
    }
    return -1;
  }
  if (name == "XREAD" || name == "XREADGROUP") {
    for (size_t i = 1; i + 1 < argv.size(); ++i) {
      if (absl::AsciiStrToUpper(argv[i]) == "STREAMS") {
        return RedisHashSlot(argv[i + 1]);
      }
    }
    return -1;
  }
  if (name == "MEMORY" || name == "OBJECT") {
    return argv.size() > 2 ? RedisHashSlot(argv[2]) : -1;
  }
  static const auto* const kKeyless = new absl::flat_hash_set<std::string>{
      "ACL",    "ASKING",   "AUTH",      "BGREWRITEAOF", "BGSAVE",
      "CLIENT", "CLUSTER",  "COMMAND",   "CONFIG",       "DBSIZE",
      "DEBUG",  "ECHO",     "FLUSHALL",  "FLUSHDB",      "FUNCTION",
      "HELLO",  "INFO",     "LASTSAVE",  "LATENCY",      "MONITOR",
      "PING",   "READONLY", "READWRITE", "ROLE",         "SAVE",
      "SCRIPT", "SELECT",   "SHUTDOWN",  "SLOWLOG",      "TIME",
      "WAIT"};
  if (kKeyless->contains(name)) return -1;
  return RedisHashSlot(argv[1]);
}

absl::StatusOr<RedisPool*> RedisPool::NodePool(const std::string& address) {
  absl::MutexLock lock(&cluster_mu_);
  auto it = nodes_.find(address);
  if (it == nodes_.end()) {
    ASSIGN_OR_RETURN(RedisAddress parsed, RedisAddress::Parse(address));
    RedisOptions options = options_;
    options.address = std::move(parsed);
    options.cluster = false;
    options.more_seeds.clear();
    it = nodes_.emplace(address, std::make_unique<RedisPool>(options)).first;
  }
  return it->second.get();
}

absl::StatusOr<std::shared_ptr<const RedisPool::SlotMap>> RedisPool::Slots() {
  std::shared_ptr<const SlotMap> slots;
  {
    absl::MutexLock lock(&cluster_mu_);
    if (slots_ != nullptr && !slots_distrusted_) return slots_;
    slots = slots_;
  }
  if (slots == nullptr) return RefreshSlots(nullptr);  // nothing to route by
  // One call reads it again; the others route with the map in hand
  // meanwhile, rather than wait on a node that may not answer.
  if (!refresh_mu_.TryLock()) return slots;
  refresh_mu_.Unlock();
  absl::StatusOr<std::shared_ptr<const SlotMap>> read = RefreshSlots(slots);
  if (!read.ok()) return slots;
  return read;
}

void RedisPool::DistrustSlots() {
  absl::MutexLock lock(&cluster_mu_);
  slots_distrusted_ = true;
}

absl::StatusOr<std::shared_ptr<const RedisPool::SlotMap>>
RedisPool::RefreshSlots(const std::shared_ptr<const SlotMap>& outdated) {
  absl::MutexLock refreshing(&refresh_mu_);
  {
    absl::MutexLock lock(&cluster_mu_);
    if (slots_ != nullptr && slots_ != outdated) return slots_;
  }
  // The configured nodes first, then every node met.
  std::vector<RedisPool*> seeds = {nullptr};
  for (const RedisAddress& seed : options_.more_seeds) {
    ASSIGN_OR_RETURN(RedisPool * pool, NodePool(seed.ToString()));
    seeds.push_back(pool);
  }
  {
    absl::MutexLock lock(&cluster_mu_);
    for (const auto& [address, pool] : nodes_) seeds.push_back(pool.get());
  }
  absl::Status last = absl::UnavailableError("no cluster node known");
  for (RedisPool* seed : seeds) {
    absl::StatusOr<std::vector<RedisValue>> reply =
        seed == nullptr ? DirectRoundTrip({{"CLUSTER", "SLOTS"}})
                        : seed->DirectRoundTrip({{"CLUSTER", "SLOTS"}});
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    const RedisValue& ranges = (*reply)[0];
    if (ranges.type == RedisValue::Type::kError) {
      last = StatusFromErrorReply(ranges.str);
      continue;
    }
    // A node that announces no address ("") is at the one asked.
    const std::string seed_host =
        seed == nullptr ? options_.address.host : seed->options().address.host;
    std::vector<std::string> slots(kSlots);
    for (const RedisValue& range : ranges.elements) {
      if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) {
        return absl::InternalError("redis: unexpected CLUSTER SLOTS reply");
      }
      const RedisValue& primary = range.elements[2];
      const std::string host =
          primary.elements[0].str.empty()
              ? (seed_host.empty() ? "127.0.0.1" : seed_host)
              : primary.elements[0].str;
      const std::string address =
          absl::StrCat(host, ":", primary.elements[1].integer);
      for (long long s = std::max(0LL, range.elements[0].integer);
           s <= std::min<long long>(kSlots - 1, range.elements[1].integer);
           ++s) {
        slots[s] = address;
      }
    }
    auto map = std::make_shared<const SlotMap>(std::move(slots));
    absl::MutexLock lock(&cluster_mu_);
    slots_ = map;
    slots_distrusted_ = false;
    return map;
  }
  return absl::UnavailableError(
      absl::StrCat("redis cluster at ", options_.address.ToString(),
                   ": no node gave its slot map: ", last.message()));
}

std::vector<std::pair<std::string, absl::Status>> RedisPool::PingEach() {
  if (!options_.cluster) {
    return {{DescribeRedis(options_), Command({"PING"}).status()}};
  }
  const absl::StatusOr<std::shared_ptr<const SlotMap>> slots = Slots();
  if (!slots.ok()) return {{options_.address.ToString(), slots.status()}};
  std::vector<std::string> primaries;
  for (const std::string& node : **slots) {
    if (!node.empty() && std::find(primaries.begin(), primaries.end(), node) ==
                             primaries.end()) {
      primaries.push_back(node);
    }
  }
  std::vector<std::pair<std::string, absl::Status>> out;
  for (const std::string& node : primaries) {
    absl::StatusOr<RedisPool*> pool = NodePool(node);
    absl::Status status = pool.status();
    if (pool.ok()) status = (*pool)->Command({"PING"}).status();
    // Read the map again next time: the node may have failed over.
    if (!status.ok()) DistrustSlots();
    out.emplace_back(node, std::move(status));
  }
  return out;
}

absl::StatusOr<std::vector<RedisValue>> RedisPool::ClusterRoundTrip(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<RedisValue> replies(commands.size());
  // Where a redirected command goes next (the node MOVED or ASK named),
  // and whether with ASKING.
  std::vector<std::string> target(commands.size());
  std::vector<bool> asking(commands.size(), false);
  std::vector<size_t> pending(commands.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  for (int round = 0; round <= kMaxRedirects && !pending.empty(); ++round) {
    ASSIGN_OR_RETURN(const std::shared_ptr<const SlotMap> slots, Slots());
    // The commands of each node, in order.
    std::map<std::string, std::vector<size_t>> by_node;
    for (const size_t i : pending) {
      if (!target[i].empty()) {
        by_node[target[i]].push_back(i);
        continue;
      }
      const int slot = RedisCommandSlot(commands[i]);
      std::string node = slot >= 0 ? (*slots)[slot] : "";
      for (size_t s = 0; slot < 0 && node.empty() && s < slots->size(); ++s) {
        node = (*slots)[s];  // a command without a key: any primary
      }
      if (node.empty()) {
        return absl::UnavailableError(
            absl::StrCat("redis cluster: no primary serves slot ", slot,
                         " (of ", commands[i][0], ")"));
      }
      by_node[node].push_back(i);
    }
    std::vector<size_t> redirected;
    bool moved = false;
    for (const auto& [node, indexes] : by_node) {
      ASSIGN_OR_RETURN(RedisPool * pool, NodePool(node));
      std::vector<std::vector<std::string>> batch;
      std::vector<size_t> reply_of;  // index into the batch's replies
      for (const size_t i : indexes) {
        // ASKING holds for the next command of the connection only.
        if (asking[i]) batch.push_back({"ASKING"});
        reply_of.push_back(batch.size());
        batch.push_back(commands[i]);
      }
      absl::StatusOr<std::vector<RedisValue>> got =
          pool->DirectRoundTrip(batch);
      if (!got.ok()) {
        // The node may have failed over: read the map again next time.
        DistrustSlots();
        return got.status();
      }
      for (size_t j = 0; j < indexes.size(); ++j) {
        const size_t i = indexes[j];
        RedisValue& reply = (*got)[reply_of[j]];
        int slot = 0;
        std::string address;
        target[i].clear();
        asking[i] = false;
        if (reply.type == RedisValue::Type::kError &&
            ParseRedirect(reply.str, "MOVED", &slot, &address)) {
          // Not run there: the slot has moved for good. The command goes
          // where it says; the map is read again below.
          moved = true;
          target[i] = address;
          redirected.push_back(i);
        } else if (reply.type == RedisValue::Type::kError &&
                   ParseRedirect(reply.str, "ASK", &slot, &address)) {
          // Not run there: the slot is migrating, this key already moved.
          target[i] = address;
          asking[i] = true;
          redirected.push_back(i);
        } else {
          replies[i] = std::move(reply);
        }
      }
    }
    // A slot moved: others may have too (a resharding); read the map
    // before the next round.
    if (moved) DistrustSlots();
    std::sort(redirected.begin(), redirected.end());
    pending = std::move(redirected);
  }
  if (!pending.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "redis cluster: ", commands[pending[0]][0], " still redirected after ",
        kMaxRedirects, " redirections"));
  }
  return replies;
}

absl::Status StatusFromErrorReply(absl::string_view message) {
  const size_t space = message.find(' ');
  const absl::string_view code = message.substr(0, space);
  const std::string rest(
      space == absl::string_view::npos ? "" : message.substr(space + 1));
  if (code == "ABORTED") return absl::AbortedError(rest);
  if (code == "NOT_FOUND") return absl::NotFoundError(rest);
  if (code == "ALREADY_EXISTS") return absl::AlreadyExistsError(rest);
  if (code == "FAILED_PRECONDITION") return absl::FailedPreconditionError(rest);
  const std::string text = absl::StrCat("redis: ", message);
  if (code == "LOADING" || code == "MASTERDOWN" || code == "READONLY" ||
      code == "TRYAGAIN" || code == "BUSY" || code == "CLUSTERDOWN") {
    return absl::UnavailableError(text);
  }
  if (code == "OOM") return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

}  // namespace slussen::store
