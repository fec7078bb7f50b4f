// slussen: the referral and matching broker.
//
// Configuration comes from flags, each of which may also be set by an
// environment variable SLUSSEN_<FLAG NAME IN CAPITALS> (a flag given on the
// command line wins). Run `slussen --help` for the list.
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "broker/core/model/names.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/ports/clock.h"
#include "broker/service/broker_server.h"
#include "broker/service/json_log.h"
#include "broker/service/program.h"
#include "broker/service/rate_limiter.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC address to listen on, host:port (port 0 picks one)");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "Redis address: unix:/path/to/socket, tcp://host:port or host:port");
ABSL_FLAG(bool, redis_cluster, false,
          "--redis names a node of a Redis Cluster (or several, separated by "
          "commas): each region's keys go to the primary serving the "
          "region's hash slot");
ABSL_FLAG(std::string, redis_sentinels, "",
          "Redis Sentinels (host:port, separated by commas) to ask for the "
          "primary of --redis_master_name instead of using --redis");
ABSL_FLAG(std::string, redis_master_name, "slussen",
          "The name the Sentinels monitor Slussen's primary under");
ABSL_FLAG(int, redis_wait_replicas, 0,
          "Replicas that must hold a write before it is acknowledged (Redis "
          "WAIT after each write); 0: replication stays asynchronous");
ABSL_FLAG(int, redis_wait_timeout_ms, 500,
          "How long a write waits for --redis_wait_replicas; fewer is "
          "UNAVAILABLE");
ABSL_FLAG(int, redis_pool_size, 16,
          "Redis connections open at most (per primary of a cluster), "
          "1..1024");
ABSL_FLAG(int, redis_connect_timeout_ms, 500,
          "Give up connecting to Redis after this long, 1..60000");
ABSL_FLAG(int, redis_command_timeout_ms, 2000,
          "Give up on a Redis reply after this long");
ABSL_FLAG(int, deadline_workers, 4,
          "regions whose due deadline steps a tick fires at once, 1..21; on "
          "a Redis Cluster at least its number of primaries, so that they "
          "all fire at once");
ABSL_FLAG(std::string, pnr_key_file, "",
          "File holding the secret key for personnummer hashes (at least 32 "
          "bytes, mode 600); if empty, the key is read from the environment "
          "variable SLUSSEN_PNR_KEY");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "On SIGTERM, let in-flight calls finish for this long, 0..3600");
ABSL_FLAG(int, max_message_bytes, 1 << 20,
          "Largest request accepted, 1024..67108864 bytes; a larger one is "
          "refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(double, rate_limit_per_second, 200,
          "Calls each organisation may make a second on average, on this "
          "broker (with N replicas, N times this in all); over it, "
          "RESOURCE_EXHAUSTED saying when to retry. 0 turns the limit off");
ABSL_FLAG(int, rate_limit_burst, 400,
          "Calls each organisation may make at once after a quiet spell");
ABSL_FLAG(std::string, metrics_listen, "",
          "A plaintext HTTP address (host:port) serving the Prometheus "
          "metrics on GET /metrics; empty: none");
ABSL_FLAG(int, max_watchers, 2000,
          "Open WatchEvents calls this broker serves at most (1..100000); "
          "one more is refused with RESOURCE_EXHAUSTED. A watch costs "
          "memory, not a thread");
ABSL_FLAG(std::string, testing_clock_start, "",
          "TESTS ONLY: run on a clock that starts at this RFC 3339 time and "
          "moves only when slussen.v1.TestingService.SetTime sets it "
          "(loopback only)");
ABSL_FLAG(int, retention_days, 365,
          "Erase the personal data of a referral this many days after it "
          "finished (1..3650); state, kind, times and outcome reasons stay "
          "for the statistics");
ABSL_FLAG(int, retention_sweep_seconds, 600,
          "How often the retention sweep runs (1..86400)");
ABSL_FLAG(bool, insecure_allow_remote, false,
          "Allow development identity (from request metadata) on a "
          "non-loopback address. Anyone who reaches the port can then claim "
          "any identity: never in production");
ABSL_FLAG(std::string, tls_cert_file, "",
          "Mutual TLS: the server's certificate (PEM, then any intermediate "
          "certificates). With --tls_key_file and --tls_client_ca_file (all "
          "three or none) callers need a client certificate signed by the "
          "client CA, and their identity comes from it only");
ABSL_FLAG(std::string, tls_key_file, "",
          "Mutual TLS: the private key of --tls_cert_file (PEM, unencrypted; "
          "keep it mode 600)");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "Mutual TLS: the CA certificate(s) (PEM) client certificates must "
          "be signed by");
ABSL_FLAG(std::string, admin_listen, "",
          "A plaintext loopback address (host:port) serving only gRPC health "
          "and reflection, for operators; empty: none");

namespace {

using slussen::service::Fail;
using slussen::service::Log;
using slussen::service::LogLevel;

// The value of the int flag `--name`, which must be within lo..hi; refused
// naming the flag, its value and the range.
absl::StatusOr<int> IntFlagWithin(const absl::Flag<int>& flag,
                                  absl::string_view name, int lo, int hi) {
  const int value = absl::GetFlag(flag);
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", value, " is not within ", lo, "..", hi));
  }
  return value;
}

// The content of the file `--flag` names.
absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, "=", path, " cannot be read: ", strerror(errno)));
  }
  if (content.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", path, " is empty or cannot be read"));
  }
  return content;
}

// The TLS material of --tls_cert_file, --tls_key_file and
// --tls_client_ca_file: nullopt when none is given, INVALID_ARGUMENT when
// only some are or a file cannot be read.
absl::StatusOr<std::optional<slussen::service::TlsMaterial>> ReadTlsFlags() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  const std::string ca = absl::GetFlag(FLAGS_tls_client_ca_file);
  const int given = !cert.empty() + !key.empty() + !ca.empty();
  if (given == 0) return std::nullopt;
  if (given != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert_file, --tls_key_file and --tls_client_ca_file go "
        "together (all three or none); got --tls_cert_file=\"",
        cert, "\" --tls_key_file=\"", key, "\" --tls_client_ca_file=\"", ca,
        "\""));
  }
  slussen::service::TlsMaterial material;
  ASSIGN_OR_RETURN(material.certificate_chain_pem,
                   ReadFlagFile("tls_cert_file", cert));
  ASSIGN_OR_RETURN(material.private_key_pem, ReadFlagFile("tls_key_file", key));
  ASSIGN_OR_RETURN(material.client_ca_pem,
                   ReadFlagFile("tls_client_ca_file", ca));
  struct stat info;
  // Group-readable is the usual way to share a key with a service's group
  // (Debian's ssl-cert; Kubernetes secrets with fsGroup); other users may
  // not read it.
  if (stat(key.c_str(), &info) == 0 && (info.st_mode & 007) != 0) {
    Log(LogLevel::kWarning,
        "the TLS private key file is readable by other users; chmod o-rwx it",
        {{"tls_key_file", key}});
  }
  return material;
}

}  // namespace

int main(int argc, char** argv) {
  slussen::service::SetProgramUsage(
      "slussen", "broker/server/main.cc",
      "the referral and matching broker.\n"
      "Flags may also be set as SLUSSEN_<FLAG> environment variables.\n"
      "Example: slussen --listen=127.0.0.1:50051 --redis=unix:var/redis.sock "
      "--pnr_key_file=var/pnr.key");
  // (--testing_clock_start only on the command line: never by accident.)
  if (!slussen::service::ApplyEnvironment("SLUSSEN_", "broker/server/main.cc",
                                          {"testing_clock_start"})) {
    return 2;
  }
  slussen::service::AcceptShortHelp(argc, argv);
  absl::ParseCommandLine(argc, argv);

  LogLevel level;
  if (!slussen::service::ParseLogLevel(absl::GetFlag(FLAGS_log_level),
                                       &level)) {
    Log(LogLevel::kError,
        "--log_level (or SLUSSEN_LOG_LEVEL) must be debug, info, warning or "
        "error",
        {{"got", absl::GetFlag(FLAGS_log_level)}});
    return 2;
  }
  slussen::service::SetMinLogLevel(level);

  // SIGTERM and SIGINT are taken below, in this thread: blocked before any
  // other thread starts, so that none of them gets one.
  const sigset_t signals = slussen::service::BlockTerminationSignals();

  const std::string key_file = absl::GetFlag(FLAGS_pnr_key_file);
  absl::StatusOr<slussen::core::Pseudonymizer> pseudonymizer =
      key_file.empty()
          ? slussen::core::Pseudonymizer::FromEnvironment("SLUSSEN_PNR_KEY")
          : slussen::core::Pseudonymizer::FromFile(key_file);
  if (!pseudonymizer.ok()) {
    return Fail("cannot load the personnummer key", pseudonymizer.status());
  }

  slussen::service::BrokerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.redis.cluster = absl::GetFlag(FLAGS_redis_cluster);
  if (!options.redis.cluster &&
      absl::StrContains(absl::GetFlag(FLAGS_redis), ',')) {
    return Fail("bad --redis",
                absl::InvalidArgumentError(absl::StrCat(
                    "--redis=\"", absl::GetFlag(FLAGS_redis),
                    "\" names several addresses, which only a Redis Cluster "
                    "has (--redis_cluster)")));
  }
  const std::vector<std::string> redis_addresses =
      options.redis.cluster
          ? absl::StrSplit(absl::GetFlag(FLAGS_redis), ',')
          : std::vector<std::string>{absl::GetFlag(FLAGS_redis)};
  for (size_t i = 0; i < redis_addresses.size(); ++i) {
    absl::StatusOr<slussen::store::RedisAddress> redis =
        slussen::store::RedisAddress::Parse(redis_addresses[i]);
    if (!redis.ok()) return Fail("bad --redis", redis.status());
    if (i == 0) {
      options.redis.address = *redis;
    } else {
      options.redis.more_seeds.push_back(*redis);
    }
  }
  const std::string sentinels = absl::GetFlag(FLAGS_redis_sentinels);
  if (!sentinels.empty()) {
    if (options.redis.cluster) {
      return Fail("bad --redis_sentinels",
                  absl::InvalidArgumentError(
                      "--redis_sentinels and --redis_cluster exclude each "
                      "other: a Redis Cluster fails over by itself"));
    }
    for (absl::string_view text : absl::StrSplit(sentinels, ',')) {
      absl::StatusOr<slussen::store::RedisAddress> sentinel =
          slussen::store::RedisAddress::Parse(text);
      if (!sentinel.ok()) {
        return Fail("bad --redis_sentinels", sentinel.status());
      }
      options.redis.sentinels.push_back(*sentinel);
    }
    options.redis.sentinel_master = absl::GetFlag(FLAGS_redis_master_name);
  }
  // 0: no wait.
  absl::StatusOr<int> wait_replicas =
      IntFlagWithin(FLAGS_redis_wait_replicas, "redis_wait_replicas", 0, 16);
  if (!wait_replicas.ok()) {
    return Fail("bad --redis_wait_replicas", wait_replicas.status());
  }
  const int wait_timeout_ms = absl::GetFlag(FLAGS_redis_wait_timeout_ms);
  if (wait_timeout_ms < 1 ||
      wait_timeout_ms >= absl::GetFlag(FLAGS_redis_command_timeout_ms)) {
    return Fail("bad --redis_wait_timeout_ms",
                absl::InvalidArgumentError(absl::StrCat(
                    "--redis_wait_timeout_ms=", wait_timeout_ms,
                    " must be at least 1 and below "
                    "--redis_command_timeout_ms (",
                    absl::GetFlag(FLAGS_redis_command_timeout_ms), ")")));
  }
  options.redis.wait_replicas = *wait_replicas;
  options.redis.replica_timeout = absl::Milliseconds(wait_timeout_ms);
  absl::StatusOr<int> pool_size =
      IntFlagWithin(FLAGS_redis_pool_size, "redis_pool_size", 1, 1024);
  if (!pool_size.ok()) return Fail("bad --redis_pool_size", pool_size.status());
  options.redis.max_connections = *pool_size;
  absl::StatusOr<int> connect_timeout_ms = IntFlagWithin(
      FLAGS_redis_connect_timeout_ms, "redis_connect_timeout_ms", 1, 60000);
  if (!connect_timeout_ms.ok()) {
    return Fail("bad --redis_connect_timeout_ms", connect_timeout_ms.status());
  }
  options.redis.connect_timeout = absl::Milliseconds(*connect_timeout_ms);
  options.redis.command_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_redis_command_timeout_ms));
  if (const char* password = std::getenv("SLUSSEN_REDIS_PASSWORD")) {
    options.redis.password = password;
  }
  const int deadline_workers = absl::GetFlag(FLAGS_deadline_workers);
  const int regions = static_cast<int>(slussen::core::RegionCodes().size());
  if (deadline_workers < 1 || deadline_workers > regions) {
    return Fail("bad --deadline_workers",
                absl::InvalidArgumentError(
                    absl::StrCat("--deadline_workers=", deadline_workers,
                                 " must be 1 to ", regions, " (the regions)")));
  }
  options.deadlines.workers = deadline_workers;
  absl::StatusOr<int> max_watchers =
      IntFlagWithin(FLAGS_max_watchers, "max_watchers", 1, 100000);
  if (!max_watchers.ok()) {
    return Fail("bad --max_watchers", max_watchers.status());
  }
  options.events.max_watchers = *max_watchers;
  absl::StatusOr<int> grace_seconds = IntFlagWithin(
      FLAGS_shutdown_grace_seconds, "shutdown_grace_seconds", 0, 3600);
  if (!grace_seconds.ok()) {
    return Fail("bad --shutdown_grace_seconds", grace_seconds.status());
  }
  options.rate_limit.per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  options.rate_limit.burst = absl::GetFlag(FLAGS_rate_limit_burst);
  if (absl::Status valid =
          slussen::service::RateLimiter::Validate(options.rate_limit);
      !valid.ok()) {
    return Fail("bad --rate_limit_per_second or --rate_limit_burst", valid);
  }
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  absl::StatusOr<int> retention_days =
      IntFlagWithin(FLAGS_retention_days, "retention_days", 1, 3650);
  if (!retention_days.ok()) {
    return Fail("bad --retention_days", retention_days.status());
  }
  absl::StatusOr<int> sweep_seconds = IntFlagWithin(
      FLAGS_retention_sweep_seconds, "retention_sweep_seconds", 1, 86400);
  if (!sweep_seconds.ok()) {
    return Fail("bad --retention_sweep_seconds", sweep_seconds.status());
  }
  options.retention.retention = absl::Hours(24) * *retention_days;
  options.retention.interval = absl::Seconds(*sweep_seconds);
  options.allow_remote_development_identity =
      absl::GetFlag(FLAGS_insecure_allow_remote);
  options.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  absl::StatusOr<std::optional<slussen::service::TlsMaterial>> tls =
      ReadTlsFlags();
  if (!tls.ok()) {
    Log(LogLevel::kError, "bad TLS flags", {{"error", tls.status().message()}});
    return 2;
  }
  options.tls = *std::move(tls);
  if (options.tls.has_value() && options.allow_remote_development_identity) {
    Log(LogLevel::kWarning,
        "--insecure_allow_remote has no effect with mutual TLS: identities "
        "come from client certificates only",
        {});
  }

  std::unique_ptr<slussen::core::ManualClock> testing_clock;
  if (const std::string start = absl::GetFlag(FLAGS_testing_clock_start);
      !start.empty()) {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, start, &time, &error)) {
      return Fail("bad --testing_clock_start",
                  absl::InvalidArgumentError(
                      absl::StrCat("must be an RFC 3339 time such as "
                                   "2026-12-23T09:00:00+01:00: ",
                                   error)));
    }
    testing_clock = std::make_unique<slussen::core::ManualClock>(time);
    options.testing_clock = testing_clock.get();
    Log(LogLevel::kWarning,
        "testing clock: time stands still until a test sets it (never run "
        "this in production)",
        {{"start", start}});
  }

  const std::string key_id = pseudonymizer->key_id();
  absl::StatusOr<std::unique_ptr<slussen::service::BrokerServer>> broker =
      slussen::service::BrokerServer::Start(options, *std::move(pseudonymizer));
  if (!broker.ok()) return Fail("cannot start", broker.status());
  const auto bound = [](const std::string& listen, int port) {
    return absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
  };
  Log(LogLevel::kInfo, "listening",
      {{"address", bound(options.listen, (*broker)->port())},
       {"redis", slussen::store::DescribeRedis(options.redis)},
       {"identity", options.tls.has_value() ? "mutual TLS (client certificates)"
                                            : "development (request metadata)"},
       {"admin_address",
        options.admin_listen.empty()
            ? ""
            : bound(options.admin_listen, (*broker)->admin_port())},
       {"metrics_address",
        options.metrics_listen.empty()
            ? ""
            : bound(options.metrics_listen, (*broker)->metrics_port())},
       {"pnr_key_id", key_id}});

  slussen::service::AwaitTerminationSignal(signals);
  (*broker)->Shutdown(absl::Seconds(*grace_seconds));
  return 0;
}
