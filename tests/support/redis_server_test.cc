#include "tests/support/redis_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/redis_cluster.h"

namespace slussen::testing {
namespace {

// Sets (or unsets, with nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    if (value.has_value()) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::unique_ptr<RedisServer> StartOrDie(RedisServer::Options options = {}) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      RedisServer::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// No such process at all (it was reaped).
bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

bool IsSocket(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

TEST(RedisServerTest, StartAnswersPingAndStoresKeys) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  EXPECT_TRUE(redis->running());
  EXPECT_GT(redis->pid(), 0);
  EXPECT_EQ(redis->address(), "unix:" + redis->socket_path());
  EXPECT_EQ(redis->socket_path(), redis->dir() + "/redis.sock");
  EXPECT_TRUE(IsSocket(redis->socket_path()));
  EXPECT_LE(redis->socket_path().size(), 107u);

  EXPECT_EQ(redis->Execute({"PING"}).value_or("?"), "PONG");
  EXPECT_EQ(redis->Execute({"SET", "k", "v w"}).value_or("?"), "OK");
  EXPECT_EQ(redis->Execute({"GET", "k"}).value_or("?"), "v w");
  EXPECT_EQ(redis->Execute({"INCR", "n"}).value_or("?"), "1");
  EXPECT_EQ(redis->Execute({"GET", "missing"}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(redis->Execute({"NOSUCHCOMMAND"}).status().code(),
            absl::StatusCode::kUnknown);
}

TEST(RedisServerTest, RunsWithAofAlwaysAndNoTcpPort) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  absl::StatusOr<std::string> persistence =
      redis->Execute({"INFO", "persistence"});
  ASSERT_TRUE(persistence.ok()) << persistence.status();
  EXPECT_TRUE(absl::StrContains(*persistence, "aof_enabled:1"));
  absl::StatusOr<std::string> server = redis->Execute({"INFO", "server"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(absl::StrContains(*server, "tcp_port:0"));
}

TEST(RedisServerTest, TwoServersAreIndependent) {
  std::unique_ptr<RedisServer> a = StartOrDie();
  std::unique_ptr<RedisServer> b = StartOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->socket_path(), b->socket_path());
  EXPECT_NE(a->dir(), b->dir());
  EXPECT_NE(a->pid(), b->pid());

  ASSERT_TRUE(a->Execute({"SET", "k", "in-a"}).ok());
  EXPECT_EQ(b->Execute({"GET", "k"}).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(b->Execute({"SET", "k", "in-b"}).ok());
  EXPECT_EQ(a->Execute({"GET", "k"}).value_or("?"), "in-a");
}

TEST(RedisServerTest, DestructorLeavesNoProcessAndNoDir) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  const pid_t pid = redis->pid();
  const std::string dir = redis->dir();
  ASSERT_TRUE(std::filesystem::exists(dir));

  redis.reset();

  EXPECT_TRUE(ProcessGone(pid)) << "redis-server " << pid << " still exists";
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

TEST(RedisServerTest, DestructorAfterKillLeavesNoDir) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  const std::string dir = redis->dir();
  ASSERT_TRUE(redis->Kill().ok());
  redis.reset();
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

TEST(RedisServerTest, KillThenRestartKeepsAcknowledgedWrite) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  const pid_t old_pid = redis->pid();
  const std::string socket = redis->socket_path();
  ASSERT_EQ(redis->Execute({"SET", "k", "before-crash"}).value_or("?"), "OK");

  ASSERT_TRUE(redis->Kill().ok());
  EXPECT_FALSE(redis->running());
  EXPECT_EQ(redis->pid(), 0);
  EXPECT_TRUE(ProcessGone(old_pid));

  absl::Status restarted = redis->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_TRUE(redis->running());
  EXPECT_NE(redis->pid(), old_pid);
  EXPECT_EQ(redis->socket_path(), socket);
  EXPECT_EQ(redis->Execute({"GET", "k"}).value_or("?"), "before-crash");
}

// Shows Restart() really starts a fresh process that knows only what is on
// disk: without the AOF, the key is gone.
TEST(RedisServerTest, KillThenRestartWithoutAofLosesData) {
  RedisServer::Options options;
  options.append_only = false;
  std::unique_ptr<RedisServer> redis = StartOrDie(options);
  ASSERT_NE(redis, nullptr);
  EXPECT_TRUE(absl::StrContains(
      redis->Execute({"INFO", "persistence"}).value_or(""), "aof_enabled:0"));
  ASSERT_TRUE(redis->Execute({"SET", "k", "v"}).ok());

  ASSERT_TRUE(redis->Kill().ok());
  absl::Status restarted = redis->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;

  EXPECT_EQ(redis->Execute({"GET", "k"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RedisServerTest, StopThenRestartKeepsData) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  const pid_t old_pid = redis->pid();
  ASSERT_TRUE(redis->Execute({"SET", "k", "before-stop"}).ok());

  absl::Status stopped = redis->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped;
  EXPECT_FALSE(redis->running());
  EXPECT_EQ(redis->pid(), 0);
  EXPECT_TRUE(ProcessGone(old_pid));
  EXPECT_TRUE(absl::StrContains(redis->LogTail(), "ready to exit, bye bye"))
      << redis->LogTail();

  absl::Status restarted = redis->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_EQ(redis->Execute({"GET", "k"}).value_or("?"), "before-stop");
}

TEST(RedisServerTest, StateChangesNeedTheRightState) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->Restart().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(redis->Stop().ok());
  EXPECT_EQ(redis->Stop().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(redis->Kill().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(redis->Execute({"PING"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RedisServerTest, NoticesAServerThatDiedOnItsOwn) {
  std::unique_ptr<RedisServer> redis = StartOrDie();
  ASSERT_NE(redis, nullptr);
  const pid_t pid = redis->pid();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (redis->running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(redis->running());
  EXPECT_EQ(redis->pid(), pid);  // Not reaped until Stop() or Kill().
  EXPECT_EQ(redis->Execute({"PING"}).status().code(),
            absl::StatusCode::kUnavailable);

  absl::Status stopped = redis->Stop();
  EXPECT_EQ(stopped.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(stopped.message(), "SIGKILL")) << stopped;
  EXPECT_TRUE(ProcessGone(pid));
}

TEST(RedisServerTest, StartFailsClearlyWhenBinaryIsMissing) {
  ScopedEnv env("SLUSSEN_REDIS_SERVER", "/nonexistent/redis-server");
  absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
  ASSERT_FALSE(redis.ok());
  EXPECT_EQ(redis.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(
      absl::StrContains(redis.status().message(),
                        "SLUSSEN_REDIS_SERVER=/nonexistent/redis-server"))
      << redis.status();
}

TEST(RedisServerTest, BinaryNameFromEnvIsLookedUpOnPath) {
  ScopedEnv env("SLUSSEN_REDIS_SERVER", "no-such-redis-server-binary");
  absl::StatusOr<std::unique_ptr<RedisServer>> missing = RedisServer::Start();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "PATH="))
      << missing.status();

  ScopedEnv found("SLUSSEN_REDIS_SERVER", "redis-server");
  EXPECT_NE(StartOrDie(), nullptr);
}

TEST(RedisServerTest, StartFailureIncludesRedisLog) {
  RedisServer::Options options;
  options.extra_args = {"--no-such-directive", "x"};
  absl::StatusOr<std::unique_ptr<RedisServer>> redis =
      RedisServer::Start(options);
  ASSERT_FALSE(redis.ok());
  EXPECT_TRUE(absl::StrContains(redis.status().message(), "Bad directive"))
      << redis.status();
  EXPECT_TRUE(absl::StrContains(redis.status().message(), "exit status 1"))
      << redis.status();
}

TEST(RedisServerTest, LongTmpdirFallsBackToShortSocketPath) {
  const std::string long_dir =
      absl::StrCat("/tmp/slussen-long-", getpid(), "-", std::string(100, 'x'));
  ASSERT_TRUE(std::filesystem::create_directories(long_dir));
  {
    ScopedEnv env("TMPDIR", long_dir);
    std::unique_ptr<RedisServer> redis = StartOrDie();
    ASSERT_NE(redis, nullptr);
    EXPECT_LE(redis->socket_path().size(), 107u);
    EXPECT_TRUE(absl::StartsWith(redis->dir(), "/tmp/slussen-redis-"))
        << redis->dir();
    EXPECT_EQ(redis->Execute({"PING"}).value_or("?"), "PONG");
  }
  std::filesystem::remove_all(long_dir);
}

// A test process that is killed runs no destructor; the server must still
// die (PR_SET_PDEATHSIG), or crashed tests would leave servers behind.
TEST(RedisServerTest, ServerDiesWithItsOwnerProcess) {
  // Orphans are adopted by us instead of init, so we can reap the server
  // and see what killed it.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
    const std::string report =
        redis.ok() ? absl::StrCat((*redis)->pid(), " ", (*redis)->dir())
                   : absl::StrCat("0 ", redis.status().ToString());
    ssize_t ignored = write(fds[1], report.data(), report.size());
    (void)ignored;
    _exit(redis.ok() ? 0 : 1);  // No destructors: like a crash.
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0)
    report.append(buffer, n);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(owner, &status, 0), owner);

  const size_t space = report.find(' ');
  ASSERT_NE(space, std::string::npos) << report;
  const pid_t redis_pid = std::atoi(report.substr(0, space).c_str());
  const std::string dir = report.substr(space + 1);
  ASSERT_GT(redis_pid, 0) << report;

  int redis_status = 0;
  pid_t reaped = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while ((reaped = waitpid(redis_pid, &redis_status, WNOHANG)) == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (reaped == 0) {
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, &redis_status, 0);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(reaped, redis_pid) << "redis-server " << redis_pid
                               << " outlived the process that started it";
  EXPECT_TRUE(WIFSIGNALED(redis_status) && WTERMSIG(redis_status) == SIGKILL)
      << "wait status " << redis_status;
}

// A listening socket on 127.0.0.1:`port` (another test's server), or -1.
int ListenOnLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(StartOnFreeLoopbackPortTest, APortTakenBeforeTheServerBindsItIsLeft) {
  // The first port picked is taken between the pick and Redis's bind, as
  // when another test process picks it too.
  std::vector<int> picked;
  int taken = -1;
  int port = 0;
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      StartOnFreeLoopbackPort({}, &port, 0, [&](int p) {
        picked.push_back(p);
        if (picked.size() == 1) taken = ListenOnLoopback(p);
        return std::vector<std::string>{};
      });
  ASSERT_NE(taken, -1);
  close(taken);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(picked.size(), 2u);
  EXPECT_NE(port, picked[0]);
  EXPECT_EQ(port, picked[1]);
  absl::StatusOr<std::string> info = (*server)->Execute({"INFO", "server"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(absl::StrContains(*info, absl::StrCat("tcp_port:", port, "\r")))
      << *info;
}

TEST(StartOnFreeLoopbackPortTest, AnotherFailureIsNotTriedAgain) {
  int calls = 0;
  int port = 0;
  absl::StatusOr<std::unique_ptr<RedisServer>> server =
      StartOnFreeLoopbackPort({}, &port, 0, [&](int) {
        ++calls;
        return std::vector<std::string>{"--no-such-directive", "1"};
      });
  EXPECT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "no-such-directive"))
      << server.status();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(port, 0);
}

}  // namespace
}  // namespace slussen::testing
