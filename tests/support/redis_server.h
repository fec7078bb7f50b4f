// A private, real redis-server for tests that touch storage.
//
// Start() makes a fresh temp dir, runs redis-server in it on a Unix socket
// only (no TCP port, so parallel test processes never collide) and returns
// once PING answers. The destructor stops the server and removes the dir,
// also when the test fails. Fault tests Kill() it (SIGKILL: a crash) and
// Restart() it on the same dir, so the append-only file is reloaded.
//
//   absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
//   ASSERT_TRUE(redis.ok()) << redis.status();
//   // Point the code under test at (*redis)->address(): "unix:/tmp/.../sock".
//   ASSERT_TRUE((*redis)->Execute({"SET", "k", "v"}).ok());
//   ASSERT_TRUE((*redis)->Kill().ok());
//   ASSERT_TRUE((*redis)->Restart().ok());
//   EXPECT_EQ((*redis)->Execute({"GET", "k"}).value_or(""), "v");
//
// The binary is $SLUSSEN_REDIS_SERVER if set (a path, or a name looked up on
// PATH), else `redis-server` on PATH.
//
// No orphans: the server runs in its own process group, and is started with
// PR_SET_PDEATHSIG=SIGKILL, so it dies with the test process even when that
// is killed and no destructor runs. Linux delivers that signal when the
// *thread* that called Start()/Restart() exits, so call them from a thread
// that outlives the server (normally the test's main thread).
//
// Thread-safety: not thread-safe. One owner per test; do not call methods of
// one RedisServer from several threads at once. Separate instances are
// independent and may be used from different threads.
#ifndef SLUSSEN_TESTS_SUPPORT_REDIS_SERVER_H_
#define SLUSSEN_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"

namespace slussen::testing {

class RedisServer {
 public:
  struct Options {
    // AOF on, like production.
    bool append_only = true;
    // "always": no acknowledged write is lost by a crash.
    std::string appendfsync = "always";
    // Appended to the command line, e.g. {"--maxmemory", "10mb"}.
    std::vector<std::string> extra_args;
    // When not empty, written to redis.conf in the server's dir and named
    // first on the command line (a Sentinel, started with extra_args
    // {"--sentinel"}, needs a file it can rewrite).
    std::string config_file;
    // How long Start()/Restart() wait for PING to answer.
    absl::Duration start_timeout = absl::Seconds(10);
    // How long Stop() and the destructor wait after SIGTERM before SIGKILL.
    absl::Duration stop_timeout = absl::Seconds(5);
  };

  // Starts a server with default options, or with `options`. On failure the
  // error says why and includes the tail of redis's log; nothing is left
  // behind (no process, no temp dir).
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start();
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(Options options);

  // Stops the server if running (SIGTERM, then SIGKILL after
  // `stop_timeout`), reaps it and removes the temp dir recursively.
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Path of the Unix socket; stays the same across Restart().
  const std::string& socket_path() const { return socket_path_; }
  // "unix:" + socket_path(): the form the broker's --redis flag takes.
  std::string address() const { return "unix:" + socket_path_; }
  // `base` pointed at this server: what a RedisPool of the code under test
  // takes.
  store::RedisOptions ClientOptions(store::RedisOptions base = {}) const;
  // The data dir; the append-only file lives here.
  const std::string& dir() const { return dir_; }
  // redis's log file (inside dir()); also receives its stdout and stderr.
  const std::string& log_path() const { return log_path_; }
  // The server's pid until Stop(), Kill() or Restart() reaps it; 0 otherwise.
  pid_t pid() const { return pid_; }
  // True while the server process exists and has not exited (it may have
  // died on its own; this checks without reaping it).
  bool running() const;

  // SIGKILL to the server's process group, then reaps it: a crash. The data
  // dir is kept. FAILED_PRECONDITION if not started.
  absl::Status Kill();
  // Graceful: SIGTERM, wait up to `stop_timeout` (then SIGKILL), reap.
  // FAILED_PRECONDITION if not started; INTERNAL (with the log tail) if the
  // server had already died or did not exit cleanly. It is reaped either way.
  absl::Status Stop();
  // Starts the server again on the same dir and socket, so the AOF is
  // reloaded, and waits for PING. FAILED_PRECONDITION if it is running.
  absl::Status Restart();

  // Runs one command on a fresh connection and returns the reply as text:
  // strings and statuses as they are, integers in decimal. A nil reply is
  // NOT_FOUND, an error reply is UNKNOWN with redis's message, an array is
  // UNIMPLEMENTED (use hiredis directly), a failed connection UNAVAILABLE.
  absl::StatusOr<std::string> Execute(const std::vector<std::string>& args);

  // The last `max_bytes` (cut at a line start) of the log file, or a note
  // saying it could not be read. For error messages.
  std::string LogTail(size_t max_bytes = 2048) const;

 private:
  RedisServer(Options options, std::string binary, std::string dir);

  // Forks and execs redis-server; sets pid_. Does not wait for readiness.
  absl::Status Spawn();
  // Polls connect + PING until it answers, the child exits or the timeout.
  // On failure the child is killed and reaped.
  absl::Status WaitUntilReady();
  // Sends `signal` to the server (to its whole group when `group`), waits up
  // to `timeout` for it to exit, SIGKILLs the group if it did not, reaps it
  // and clears pid_. Returns how it ended, as waitpid's status.
  int Terminate(int signal, bool group, absl::Duration timeout);

  std::vector<std::string> CommandLine() const;
  std::string ConfigPath() const;

  const Options options_;
  const std::string binary_;
  const std::string dir_;
  const std::string socket_path_;
  const std::string log_path_;
  pid_t pid_ = 0;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_REDIS_SERVER_H_
