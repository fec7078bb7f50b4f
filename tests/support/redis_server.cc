#include "tests/support/redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/model/status_macros.h"

namespace slussen::testing {
namespace {

constexpr char kBinaryEnvVar[] = "SLUSSEN_REDIS_SERVER";
constexpr char kDefaultBinary[] = "redis-server";
constexpr char kSocketName[] = "redis.sock";
constexpr char kLogName[] = "redis.log";
// sun_path holds the path and its terminating NUL.
constexpr size_t kMaxSocketPathLength = sizeof(sockaddr_un::sun_path) - 1;
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);
constexpr absl::Duration kPingTimeout = absl::Milliseconds(200);
constexpr absl::Duration kCommandTimeout = absl::Seconds(5);

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

// $SLUSSEN_REDIS_SERVER (a path, or a name to look up on PATH), else
// redis-server on PATH. Resolved before forking so a missing binary is a
// clear NOT_FOUND rather than an exec failure.
absl::StatusOr<std::string> ResolveBinary() {
  const char* env = std::getenv(kBinaryEnvVar);
  const bool from_env = env != nullptr && *env != '\0';
  const std::string name = from_env ? env : kDefaultBinary;
  const std::string origin =
      from_env ? absl::StrCat(kBinaryEnvVar, "=", name) : name;
  if (name.find('/') != std::string::npos) {
    if (IsExecutableFile(name)) return name;
    return absl::NotFoundError(
        absl::StrCat(origin, " is not an executable file (", ErrnoText(errno),
                     "); point ", kBinaryEnvVar, " at a redis-server binary"));
  }
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env != nullptr ? path_env : "/usr/bin:/bin";
  for (absl::string_view entry : absl::StrSplit(path, ':')) {
    std::string candidate =
        entry.empty() ? name : absl::StrCat(entry, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(origin, " not found on PATH=", path,
                                          "; install redis-server or set ",
                                          kBinaryEnvVar, " to its path"));
}

// Makes the server's dir under $TMPDIR, or under /tmp when $TMPDIR would
// make the socket path longer than a sockaddr_un can hold.
absl::StatusOr<std::string> MakeTempDir() {
  std::vector<std::string> bases;
  if (const char* tmpdir = std::getenv("TMPDIR");
      tmpdir != nullptr && *tmpdir != '\0') {
    // redis chdirs to --dir, so every path we pass must be absolute.
    std::error_code ec;
    std::filesystem::path base = std::filesystem::absolute(tmpdir, ec);
    if (!ec) bases.push_back(base.lexically_normal().string());
  }
  bases.push_back("/tmp");
  std::string errors;
  for (std::string& base : bases) {
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    std::string dir = absl::StrCat(base, "/slussen-redis-XXXXXX");
    const size_t socket_length = dir.size() + 1 + strlen(kSocketName);
    if (socket_length > kMaxSocketPathLength) {
      absl::StrAppend(&errors, " ", base, ": socket path would be ",
                      socket_length, " bytes, limit ", kMaxSocketPathLength,
                      ";");
      continue;
    }
    if (mkdtemp(dir.data()) != nullptr) return dir;
    absl::StrAppend(&errors, " ", base, ": mkdtemp: ", ErrnoText(errno), ";");
  }
  return absl::InternalError(
      absl::StrCat("cannot make a temp dir for redis-server:", errors));
}

// Opens `path` close-on-exec at a descriptor above 2, so that dup2() onto
// 0..2 in the child never clobbers another of our descriptors.
absl::StatusOr<int> OpenAbove2(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", path, ": ", ErrnoText(errno)));
  }
  if (fd > 2) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const int error = errno;
  close(fd);
  if (moved < 0) {
    return absl::InternalError(
        absl::StrCat("fcntl(F_DUPFD_CLOEXEC) ", path, ": ", ErrnoText(error)));
  }
  return moved;
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// What the child needs, prepared before fork(): between fork() and exec()
// only async-signal-safe calls are allowed, as the test may have threads.
struct ChildSetup {
  const char* binary;
  char* const* argv;
  int stdin_fd;
  int log_fd;
  int error_fd;  // write end of a close-on-exec pipe; gets errno on failure
  pid_t parent;
  int max_fd;
};

[[noreturn]] void FailChild(int error_fd) {
  const int error = errno;
  ssize_t ignored = write(error_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

[[noreturn]] void ExecChild(const ChildSetup& setup) {
  // Its own process group, so Kill() also reaches any child redis forked
  // (an AOF rewrite) and terminal signals meant for the test do not.
  setpgid(0, 0);
  // Die with the test process, even when it is killed outright.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) FailChild(setup.error_fd);
  // The parent died before prctl() took effect: nobody would stop us.
  if (getppid() != setup.parent) _exit(127);
  // Blocked and ignored signals survive exec; give redis a clean slate.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int signal : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP}) {
    sigaction(signal, &default_action, nullptr);
  }
  if (dup2(setup.stdin_fd, STDIN_FILENO) < 0 ||
      dup2(setup.log_fd, STDOUT_FILENO) < 0 ||
      dup2(setup.log_fd, STDERR_FILENO) < 0) {
    FailChild(setup.error_fd);
  }
  // Inherited descriptors (the test's sockets, files) must not leak into
  // redis. Mark them close-on-exec rather than closing them, so the error
  // pipe stays usable until exec succeeds.
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < setup.max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  execv(setup.binary, setup.argv);
  FailChild(setup.error_fd);
}

// True once `pid` has exited (or cannot be waited for). Does not reap it,
// so its pid, and the process group id, cannot be reused meanwhile.
bool HasExited(pid_t pid) {
  siginfo_t info = {};
  if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno != EINTR;
  }
  return info.si_pid != 0;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return absl::StrCat(
        "killed by signal ", WTERMSIG(status),
        name != nullptr ? absl::StrCat(" (SIG", name, ")") : std::string());
  }
  return absl::StrCat("wait status ", status);
}

struct RedisContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

absl::StatusOr<RedisContextPtr> Connect(const std::string& socket_path,
                                        absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  RedisContextPtr context(redisConnectUnixWithTimeout(socket_path.c_str(), tv));
  if (context == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("connect ", socket_path, ": out of memory"));
  }
  if (context->err != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect ", socket_path, ": ", context->errstr));
  }
  if (redisSetTimeout(context.get(), tv) != REDIS_OK) {
    return absl::UnavailableError(
        absl::StrCat("set timeout on ", socket_path, ": ", context->errstr));
  }
  return context;
}

// OK once the server answers PONG; while it loads the AOF it answers
// -LOADING, which is not ready yet.
absl::Status Ping(const std::string& socket_path) {
  ASSIGN_OR_RETURN(RedisContextPtr context, Connect(socket_path, kPingTimeout));
  ReplyPtr reply(static_cast<redisReply*>(redisCommand(context.get(), "PING")));
  if (reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("PING: ", context->errstr));
  }
  const std::string text(reply->str != nullptr ? reply->str : "",
                         reply->str != nullptr ? reply->len : 0);
  // NOAUTH: a server started with --requirepass is up, and says so.
  if ((reply->type == REDIS_REPLY_STATUS && text == "PONG") ||
      (reply->type == REDIS_REPLY_ERROR && absl::StartsWith(text, "NOAUTH"))) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("PING answered: ", text));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    Options options) {
  ASSIGN_OR_RETURN(std::string binary, ResolveBinary());
  ASSIGN_OR_RETURN(std::string dir, MakeTempDir());
  // From here on the destructor cleans up, also when a step below fails.
  std::unique_ptr<RedisServer> server(
      new RedisServer(std::move(options), std::move(binary), std::move(dir)));
  if (!server->options_.config_file.empty()) {
    std::ofstream file(server->ConfigPath());
    file << server->options_.config_file;
    if (!file.good()) {
      return absl::InternalError(
          absl::StrCat("cannot write ", server->ConfigPath()));
    }
  }
  RETURN_IF_ERROR(server->Spawn());
  RETURN_IF_ERROR(server->WaitUntilReady());
  return server;
}

RedisServer::RedisServer(Options options, std::string binary, std::string dir)
    : options_(std::move(options)),
      binary_(std::move(binary)),
      dir_(std::move(dir)),
      socket_path_(absl::StrCat(dir_, "/", kSocketName)),
      log_path_(absl::StrCat(dir_, "/", kLogName)) {}

RedisServer::~RedisServer() {
  if (pid_ != 0) Terminate(SIGTERM, /*group=*/false, options_.stop_timeout);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (ec) {
    std::cerr << "RedisServer: cannot remove " << dir_ << ": " << ec.message()
              << "\n";
  }
}

bool RedisServer::running() const { return pid_ != 0 && !HasExited(pid_); }

std::string RedisServer::ConfigPath() const {
  return absl::StrCat(dir_, "/redis.conf");
}

std::vector<std::string> RedisServer::CommandLine() const {
  std::vector<std::string> args = {binary_};
  if (!options_.config_file.empty()) args.push_back(ConfigPath());
  args.insert(args.end(),
              {
                  "--port",
                  "0",  // Unix socket only: parallel tests cannot collide.
                  "--unixsocket",
                  socket_path_,
                  "--unixsocketperm",
                  "700",
                  "--dir",
                  dir_,
                  "--appendonly",
                  options_.append_only ? "yes" : "no",
                  "--appendfsync",
                  options_.appendfsync,
                  "--save",
                  "",  // No RDB snapshots: the AOF alone holds the data.
                  "--daemonize",
                  "no",
                  "--logfile",
                  log_path_,
              });
  args.insert(args.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  return args;
}

absl::Status RedisServer::Spawn() {
  std::vector<std::string> args = CommandLine();
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  ASSIGN_OR_RETURN(const int log_fd,
                   OpenAbove2(log_path_, O_WRONLY | O_CREAT | O_APPEND));
  Fd log(log_fd);
  ASSIGN_OR_RETURN(const int null_fd, OpenAbove2("/dev/null", O_RDONLY));
  Fd null(null_fd);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", ErrnoText(errno)));
  }
  Fd error_read(pipe_fds[0]);
  Fd error_write(pipe_fds[1]);
  rlimit limit = {};
  const int max_fd = getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
                             limit.rlim_cur != RLIM_INFINITY &&
                             limit.rlim_cur < 65536
                         ? static_cast<int>(limit.rlim_cur)
                         : 65536;
  const ChildSetup setup = {
      .binary = binary_.c_str(),
      .argv = argv.data(),
      .stdin_fd = null.get(),
      .log_fd = log.get(),
      .error_fd = error_write.get(),
      .parent = getpid(),
      .max_fd = max_fd,
  };

  const pid_t child = fork();
  if (child < 0) {
    return absl::InternalError(absl::StrCat("fork: ", ErrnoText(errno)));
  }
  if (child == 0) ExecChild(setup);

  // Also set here, so the group exists before we ever signal it.
  setpgid(child, child);
  pid_ = child;
  error_write.Close();
  int exec_error = 0;
  ssize_t n;
  do {
    n = read(error_read.get(), &exec_error, sizeof(exec_error));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(exec_error)) {
    Terminate(SIGKILL, /*group=*/true, options_.stop_timeout);
    return absl::InternalError(
        absl::StrCat("cannot exec ", binary_, ": ", ErrnoText(exec_error)));
  }
  return absl::OkStatus();
}

absl::Status RedisServer::WaitUntilReady() {
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  absl::Status last = absl::UnavailableError("not tried");
  while (true) {
    if (HasExited(pid_)) {
      const int status =
          Terminate(SIGKILL, /*group=*/true, absl::ZeroDuration());
      return absl::InternalError(absl::StrCat(
          binary_, " exited during startup (", DescribeExit(status),
          "); command line: ", absl::StrJoin(CommandLine(), " "),
          "\nlog ends with:\n", LogTail()));
    }
    last = Ping(socket_path_);
    if (last.ok()) return absl::OkStatus();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(kPollInterval);
  }
  Terminate(SIGKILL, /*group=*/true, options_.stop_timeout);
  return absl::DeadlineExceededError(absl::StrCat(
      binary_, " did not answer PING on ", socket_path_, " within ",
      absl::FormatDuration(options_.start_timeout), " (last attempt: ",
      last.message(), "); killed it. log ends with:\n", LogTail()));
}

int RedisServer::Terminate(int signal, bool group, absl::Duration timeout) {
  const pid_t pid = pid_;
  kill(group ? -pid : pid, signal);
  const absl::Time deadline = absl::Now() + timeout;
  while (!HasExited(pid) && absl::Now() < deadline)
    absl::SleepFor(kPollInterval);
  // The server is dead or a zombie (so its group id is still ours): sweep
  // anything left in its group, such as a forked AOF rewrite.
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = 0;
  return status;
}

absl::Status RedisServer::Kill() {
  if (pid_ == 0) {
    return absl::FailedPreconditionError(
        "Kill: redis-server is not running (not started, or already stopped "
        "or killed)");
  }
  Terminate(SIGKILL, /*group=*/true, options_.stop_timeout);
  return absl::OkStatus();
}

absl::Status RedisServer::Stop() {
  if (pid_ == 0) {
    return absl::FailedPreconditionError(
        "Stop: redis-server is not running (not started, or already stopped "
        "or killed)");
  }
  const bool died_before = HasExited(pid_);
  const int status = Terminate(SIGTERM, /*group=*/false, options_.stop_timeout);
  if (died_before) {
    return absl::InternalError(
        absl::StrCat("Stop: redis-server had already exited on its own (",
                     DescribeExit(status), "); log ends with:\n", LogTail()));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        "Stop: redis-server did not shut down cleanly on SIGTERM within ",
        absl::FormatDuration(options_.stop_timeout), " (", DescribeExit(status),
        "); log ends with:\n", LogTail()));
  }
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  if (pid_ != 0) {
    return absl::FailedPreconditionError(
        "Restart: redis-server has not been stopped; call Stop() or Kill() "
        "first");
  }
  // A killed server leaves its socket file behind; redis would replace it,
  // but removing it means PING cannot reach anything but the new server.
  if (unlink(socket_path_.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("unlink ", socket_path_, ": ", ErrnoText(errno)));
  }
  RETURN_IF_ERROR(Spawn());
  return WaitUntilReady();
}

absl::StatusOr<std::string> RedisServer::Execute(
    const std::vector<std::string>& args) {
  if (args.empty()) {
    return absl::InvalidArgumentError("Execute: args must name a command");
  }
  const std::string command = absl::StrJoin(args, " ");
  if (pid_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Execute ", command, ": redis-server is not running"));
  }
  ASSIGN_OR_RETURN(RedisContextPtr context,
                   Connect(socket_path_, kCommandTimeout));
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(context.get(), static_cast<int>(argv.size()),
                       argv.data(), lengths.data())));
  if (reply == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("Execute ", command, ": ", context->errstr));
  }
  const std::string text(reply->str != nullptr ? reply->str : "",
                         reply->str != nullptr ? reply->len : 0);
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return text;
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(reply->integer);
    case REDIS_REPLY_NIL:
      return absl::NotFoundError(absl::StrCat(command, ": nil reply"));
    case REDIS_REPLY_ERROR:
      return absl::UnknownError(absl::StrCat(command, ": ", text));
    case REDIS_REPLY_ARRAY:
      return absl::UnimplementedError(
          absl::StrCat(command, ": reply is an array of ", reply->elements,
                       " elements; Execute returns only single values"));
  }
  return absl::UnimplementedError(
      absl::StrCat(command, ": reply type ", reply->type));
}

std::string RedisServer::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary | std::ios::ate);
  if (!in) return absl::StrCat("(cannot read ", log_path_, ")");
  const std::streamoff size = in.tellg();
  const std::streamoff start =
      size > static_cast<std::streamoff>(max_bytes) ? size - max_bytes : 0;
  in.seekg(start);
  std::string tail(static_cast<size_t>(size - start), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  if (start > 0) {
    const size_t newline = tail.find('\n');
    if (newline != std::string::npos) tail.erase(0, newline + 1);
  }
  if (tail.empty()) return absl::StrCat("(", log_path_, " is empty)");
  return tail;
}

store::RedisOptions RedisServer::ClientOptions(store::RedisOptions base) const {
  base.address = store::RedisAddress{.unix_path = socket_path_};
  return base;
}

}  // namespace slussen::testing
