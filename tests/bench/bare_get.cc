// bare_get: the least any broker's GetReferral can cost, to measure the
// broker's against (tests/bench/get_bound.sh, BENCHMARKS.md). A gRPC
// server of that one method that reads the referral's stored data with one
// HMGET over a pool of blocking hiredis connections, as the broker's store
// does, and answers it as stored: no identity, rate limit, visibility,
// view, audit check, log line or metrics. gRPC's synchronous server as the
// broker runs it (its idle call threads kept); the bare echo of
// ../shared/bench is the same server with no Redis between.
//
// --mode=callback: the other model a broker could have, to see what it
// would bound: gRPC's callback API, whose handlers never block, and one
// Redis connection on a thread of its own that sends the reads of all
// calls waiting in one write (a pipeline) and answers each call as its
// reply comes.
//
// --create_template and --create_script (sync mode): CreateReferral too,
// the least a create can cost with the data the broker writes
// (tests/bench/create_bound.sh): each call runs the broker's own change
// script with the arguments a broker's create of an impulse sent it
// (captured by create_bound.sh), the referral's id in them replaced by a
// fresh one, and nothing else.
//
//   bare_get --port=50061 --redis_socket=/tmp/x/redis.sock [--mode=callback]
#include <grpcpp/grpcpp.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "broker/store/redis_keys.h"
#include "slussen/v1/referral_service.grpc.pb.h"

ABSL_FLAG(int, port, 50061, "TCP port to listen on, on 127.0.0.1");
ABSL_FLAG(std::string, redis_socket, "", "Redis's Unix socket");
ABSL_FLAG(int, pool_size, 32, "Redis connections at most");
ABSL_FLAG(std::string, mode, "sync", "sync or callback");
ABSL_FLAG(std::string, create_template, "",
          "a create's script arguments: a line with the referral id they "
          "hold, then each argument from the key count on as its length in "
          "decimal, a newline, its bytes and a newline");
ABSL_FLAG(std::string, create_script, "",
          "the broker's change script as sent to Redis (embed_lua.cmake)");
ABSL_FLAG(int, idle_call_threads, 32,
          "gRPC's MAX_POLLERS, as the broker's kIdleCallThreadsKept");

namespace {

namespace v1 = slussen::v1;

// The referral's key from its name, regions/<region>/referrals/<id>.
std::optional<std::string> KeyOf(const std::string& name) {
  const std::vector<std::string> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4) return std::nullopt;
  return slussen::store::keys::Referral(parts[1], parts[3]);
}

// An HMGET data version reply into `response`; false if not a referral.
bool Answer(const redisReply* r, v1::Referral* response) {
  const bool found =
      r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[0]->type == REDIS_REPLY_STRING &&
      response->ParseFromArray(r->element[0]->str, r->element[0]->len);
  if (found && r->element[1]->type == REDIS_REPLY_STRING) {
    response->set_etag(std::string(r->element[1]->str, r->element[1]->len));
  }
  return found;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A create's call of the change script, as --create_template holds it.
struct CreateTemplate {
  std::string id;                 // the referral id in the arguments
  std::vector<std::string> args;  // from the key count on
};

std::optional<CreateTemplate> ParseTemplate(const std::string& text) {
  CreateTemplate parsed;
  size_t pos = text.find('\n');
  if (pos == std::string::npos) return std::nullopt;
  parsed.id = text.substr(0, pos++);
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    if (end == std::string::npos) return std::nullopt;
    const size_t length = std::stoul(text.substr(pos, end - pos));
    if (end + 1 + length >= text.size()) return std::nullopt;
    parsed.args.push_back(text.substr(end + 1, length));
    pos = end + 2 + length;
  }
  if (parsed.id.empty() || parsed.args.empty()) return std::nullopt;
  return parsed;
}

class BareGet final : public v1::ReferralService::Service {
 public:
  explicit BareGet(std::string socket) : socket_(std::move(socket)) {}

  // Loads the create's script into Redis; false if it cannot.
  bool LoadCreate(CreateTemplate create, const std::string& script) {
    redisContext* c = Acquire();
    if (c == nullptr) return false;
    auto* r = static_cast<redisReply*>(
        redisCommand(c, "SCRIPT LOAD %b", script.data(), script.size()));
    const bool loaded = r != nullptr && r->type == REDIS_REPLY_STRING;
    if (loaded) sha_ = std::string(r->str, r->len);
    if (r != nullptr) freeReplyObject(r);
    Release(c, /*broken=*/r == nullptr);
    create_ = std::move(create);
    return loaded;
  }

  grpc::Status CreateReferral(grpc::ServerContext*,
                              const v1::CreateReferralRequest*,
                              v1::Referral* response) override {
    if (sha_.empty()) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no template");
    }
    // A fresh id of the same length, so that the lengths inside the
    // arguments' protobuf bytes still hold.
    std::string id = std::to_string(next_id_++);
    id.insert(0, create_.id.size() - std::min(id.size(), create_.id.size()),
              '0');
    std::vector<std::string> args = {"EVALSHA", sha_};
    for (const std::string& arg : create_.args) {
      args.push_back(absl::StrReplaceAll(arg, {{create_.id, id}}));
    }
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisContext* c = Acquire();
    if (c == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "");
    auto* r = static_cast<redisReply*>(redisCommandArgv(
        c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (r == nullptr) {
      Release(c, /*broken=*/true);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "redis");
    }
    // One change's reply: {1, ...} when written.
    const bool written =
        r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements > 0 &&
        r->element[0]->element[0]->type == REDIS_REPLY_INTEGER &&
        r->element[0]->element[0]->integer == 1;
    freeReplyObject(r);
    Release(c, /*broken=*/false);
    if (!written) return grpc::Status(grpc::StatusCode::INTERNAL, "script");
    response->set_name(absl::StrCat("regions/13/referrals/", id));
    return grpc::Status::OK;
  }

  grpc::Status GetReferral(grpc::ServerContext*,
                           const v1::GetReferralRequest* request,
                           v1::Referral* response) override {
    const std::optional<std::string> key = KeyOf(request->name());
    if (!key.has_value()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name");
    }
    redisContext* c = Acquire();
    if (c == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "");
    auto* r = static_cast<redisReply*>(
        redisCommand(c, "HMGET %b data version", key->data(), key->size()));
    if (r == nullptr) {
      Release(c, /*broken=*/true);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "redis");
    }
    const bool found = Answer(r, response);
    freeReplyObject(r);
    Release(c, /*broken=*/false);
    return found ? grpc::Status::OK
                 : grpc::Status(grpc::StatusCode::NOT_FOUND, "referral");
  }

 private:
  redisContext* Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      return !idle_.empty() || open_ < absl::GetFlag(FLAGS_pool_size);
    });
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    redisContext* c = redisConnectUnix(socket_.c_str());
    if (c == nullptr || c->err) {
      if (c != nullptr) redisFree(c);
      Release(nullptr, /*broken=*/true);
      return nullptr;
    }
    return c;
  }

  void Release(redisContext* c, bool broken) {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken) {
      if (c != nullptr) redisFree(c);
      --open_;
    } else {
      idle_.push_back(c);
    }
    cv_.notify_one();
  }

  const std::string socket_;
  CreateTemplate create_;
  std::string sha_;  // of the create's script; empty without one
  std::atomic<uint64_t> next_id_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<redisContext*> idle_;
  int open_ = 0;
};

// The callback model: calls queue their reads; one thread sends all that
// wait as one pipeline and finishes each call with its reply.
class PipelinedGet final : public v1::ReferralService::CallbackService {
 public:
  explicit PipelinedGet(const std::string& socket)
      : redis_(redisConnectUnix(socket.c_str())), sender_([this] { Send(); }) {}
  ~PipelinedGet() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    sender_.join();
    if (redis_ != nullptr) redisFree(redis_);
  }

  grpc::ServerUnaryReactor* GetReferral(grpc::CallbackServerContext* context,
                                        const v1::GetReferralRequest* request,
                                        v1::Referral* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::optional<std::string> key = KeyOf(request->name());
    if (!key.has_value()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name"));
      return reactor;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      waiting_.push_back({*std::move(key), response, reactor});
    }
    cv_.notify_one();
    return reactor;
  }

 private:
  struct Read {
    std::string key;
    v1::Referral* response;
    grpc::ServerUnaryReactor* reactor;
  };

  void Send() {
    std::vector<Read> batch;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
        if (stopping_) return;
        batch.swap(waiting_);
      }
      // Without Redis (it could not be reached), every call is UNAVAILABLE.
      const bool connected = redis_ != nullptr && !redis_->err;
      for (const Read& read : batch) {
        if (!connected) break;
        redisAppendCommand(redis_, "HMGET %b data version", read.key.data(),
                           read.key.size());
      }
      for (const Read& read : batch) {
        void* reply = nullptr;
        const bool got = connected && !redis_->err &&
                         redisGetReply(redis_, &reply) == REDIS_OK;
        auto* r = static_cast<redisReply*>(reply);
        read.reactor->Finish(
            !got ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "redis")
            : Answer(r, read.response)
                ? grpc::Status::OK
                : grpc::Status(grpc::StatusCode::NOT_FOUND, "referral"));
        if (r != nullptr) freeReplyObject(r);
      }
      batch.clear();
    }
  }

  redisContext* const redis_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Read> waiting_;
  bool stopping_ = false;
  std::thread sender_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_redis_socket).empty()) {
    std::fprintf(stderr, "--redis_socket is required\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "sync" && mode != "callback") {
    std::fprintf(stderr, "--mode must be sync or callback, not %s\n",
                 mode.c_str());
    return 2;
  }
  std::unique_ptr<grpc::Service> service;
  const std::string template_file = absl::GetFlag(FLAGS_create_template);
  if (template_file.empty() != absl::GetFlag(FLAGS_create_script).empty()) {
    std::fprintf(stderr, "--create_template and --create_script go together\n");
    return 2;
  }
  if (mode == "sync") {
    auto bare = std::make_unique<BareGet>(absl::GetFlag(FLAGS_redis_socket));
    if (!template_file.empty()) {
      std::optional<CreateTemplate> create =
          ParseTemplate(ReadFile(template_file));
      const std::string script = ReadFile(absl::GetFlag(FLAGS_create_script));
      if (!create.has_value() || script.empty() ||
          !bare->LoadCreate(*std::move(create), script)) {
        std::fprintf(stderr, "cannot load the create of %s with %s\n",
                     template_file.c_str(),
                     absl::GetFlag(FLAGS_create_script).c_str());
        return 2;
      }
    }
    service = std::move(bare);
  } else if (!template_file.empty()) {
    std::fprintf(stderr, "--create_template needs --mode=sync\n");
    return 2;
  } else {
    service = std::make_unique<PipelinedGet>(absl::GetFlag(FLAGS_redis_socket));
  }
  const std::string address =
      absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_port));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
      absl::GetFlag(FLAGS_idle_call_threads));
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "could not listen on %s\n", address.c_str());
    return 1;
  }
  std::printf("bare_get listening on %s\n", address.c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->Shutdown();
  return 0;
}
