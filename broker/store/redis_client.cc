#include "broker/store/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/time.h>

#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "broker/core/status_macros.h"

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
      text.find('/') != absl::string_view::npos ||
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

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(),
       digest);
  for (unsigned char byte : digest) absl::StrAppendFormat(&sha1_, "%02x", byte);
}

struct RedisPool::Connection {
  redisContext* context = nullptr;
  ~Connection() {
    if (context != nullptr) redisFree(context);
  }
};

RedisPool::RedisPool(RedisOptions options) : options_(std::move(options)) {
  IgnoreSigpipe();
}

RedisPool::~RedisPool() = default;

absl::StatusOr<std::unique_ptr<RedisPool::Connection>> RedisPool::Connect() {
  auto connection = std::make_unique<Connection>();
  const timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  const RedisAddress& address = options_.address;
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
  if (!options_.password.empty()) {
    const char* argv[] = {"AUTH", options_.password.c_str()};
    const size_t lengths[] = {4, options_.password.size()};
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(connection->context, 2, argv, lengths));
    if (reply == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("redis at ", address.ToString(),
                       " failed during AUTH: ", connection->context->errstr));
    }
    const bool refused = reply->type == REDIS_REPLY_ERROR;
    freeReplyObject(reply);
    if (refused) {
      return absl::PermissionDeniedError(absl::StrCat(
          "redis at ", address.ToString(), " refused the password"));
    }
  }
  return connection;
}

absl::StatusOr<std::unique_ptr<RedisPool::Connection>> RedisPool::Acquire() {
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
      return connection;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect();
  if (!connection.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return connection;
}

void RedisPool::Release(std::unique_ptr<Connection> connection) {
  absl::MutexLock lock(&mu_);
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
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Acquire());
  redisContext* context = connection->context;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::vector<std::string>& command : commands) {
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
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
      const std::string error = context->errstr;
      Discard(std::move(connection));
      return absl::UnavailableError(
          absl::StrCat("redis at ", options_.address.ToString(),
                       " failed: ", error.empty() ? "no reply" : error));
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(CopyReply(reply));
    freeReplyObject(reply);
  }
  Release(std::move(connection));
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

absl::StatusOr<RedisValue> RedisPool::Eval(
    const RedisScript& script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"EVALSHA", script.sha1(),
                                   absl::StrCat(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, RoundTrip({argv}));
  if (replies[0].type == RedisValue::Type::kError &&
      absl::StartsWith(replies[0].str, "NOSCRIPT")) {
    // EVAL runs the script and caches it for the next EVALSHA.
    argv[0] = "EVAL";
    argv[1] = script.source();
    ASSIGN_OR_RETURN(replies, RoundTrip({argv}));
  }
  if (replies[0].type == RedisValue::Type::kError) {
    return StatusFromErrorReply(replies[0].str);
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
  if (unknown.empty()) return replies;
  ASSIGN_OR_RETURN(std::vector<RedisValue> retried, Pipeline(commands));
  for (size_t j = 0; j < unknown.size(); ++j) {
    replies[unknown[j]] = std::move(retried[j]);
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
      code == "TRYAGAIN" || code == "BUSY") {
    return absl::UnavailableError(text);
  }
  if (code == "OOM") return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

}  // namespace slussen::store
