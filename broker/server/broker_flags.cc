#include "broker/server/broker_flags.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/names.h"
#include "broker/core/model/status_macros.h"
#include "broker/service/rate_limiter.h"
#include "broker/store/redis_client.h"

// Each flag's default is BrokerFlags{}'s, so that the struct the tests
// build and the command line start from the same values.
using slussen::server::BrokerFlags;

ABSL_FLAG(std::string, listen, BrokerFlags().listen,
          "gRPC address to listen on, host:port (port 0 picks one)");
ABSL_FLAG(std::string, redis, BrokerFlags().redis,
          "Redis address: unix:/path/to/socket, tcp://host:port or host:port");
ABSL_FLAG(bool, redis_cluster, BrokerFlags().redis_cluster,
          "--redis names a node of a Redis Cluster (or several, separated by "
          "commas): each region's keys go to the primary serving the "
          "region's hash slot");
ABSL_FLAG(std::string, redis_sentinels, BrokerFlags().redis_sentinels,
          "Redis Sentinels (host:port, separated by commas) to ask for the "
          "primary of --redis_master_name instead of using --redis");
ABSL_FLAG(std::string, redis_master_name, BrokerFlags().redis_master_name,
          "The name the Sentinels monitor Slussen's primary under");
ABSL_FLAG(int, redis_wait_replicas, BrokerFlags().redis_wait_replicas,
          "Replicas that must hold a write before it is acknowledged (Redis "
          "WAIT after each write), 0..16; 0: replication stays asynchronous");
ABSL_FLAG(int, redis_wait_timeout_ms, BrokerFlags().redis_wait_timeout_ms,
          "How long a write waits for --redis_wait_replicas (at least 1, "
          "below --redis_command_timeout_ms); fewer is UNAVAILABLE");
ABSL_FLAG(int, redis_pool_size, BrokerFlags().redis_pool_size,
          "Redis connections open at most (per primary of a cluster), "
          "1..1024");
ABSL_FLAG(int, redis_connect_timeout_ms, BrokerFlags().redis_connect_timeout_ms,
          "Give up connecting to Redis after this long, 1..60000");
ABSL_FLAG(int, redis_command_timeout_ms, BrokerFlags().redis_command_timeout_ms,
          "Give up on a Redis reply after this long");
ABSL_FLAG(int, deadline_workers, BrokerFlags().deadline_workers,
          "regions whose due deadline steps a tick fires at once, 1..21; on "
          "a Redis Cluster at least its number of primaries, so that they "
          "all fire at once");
ABSL_FLAG(std::string, pnr_key_file, BrokerFlags().pnr_key_file,
          "File holding the secret key for personnummer hashes (at least 32 "
          "bytes, mode 600); if empty, the key is read from the environment "
          "variable SLUSSEN_PNR_KEY");
ABSL_FLAG(std::string, log_level, BrokerFlags().log_level,
          "debug, info, warning or error");
ABSL_FLAG(int, shutdown_grace_seconds, BrokerFlags().shutdown_grace_seconds,
          "On SIGTERM, let in-flight calls finish for this long, 0..3600");
ABSL_FLAG(int, max_message_bytes, BrokerFlags().max_message_bytes,
          "Largest request accepted, 1024..67108864 bytes; a larger one is "
          "refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(double, rate_limit_per_second, BrokerFlags().rate_limit_per_second,
          "Calls each organisation may make a second on average, on this "
          "broker (with N replicas, N times this in all); over it, "
          "RESOURCE_EXHAUSTED saying when to retry. 0 turns the limit off");
ABSL_FLAG(int, rate_limit_burst, BrokerFlags().rate_limit_burst,
          "Calls each organisation may make at once after a quiet spell");
ABSL_FLAG(std::string, metrics_listen, BrokerFlags().metrics_listen,
          "A plaintext HTTP address (host:port) serving the Prometheus "
          "metrics on GET /metrics; empty: none");
ABSL_FLAG(int, max_watchers, BrokerFlags().max_watchers,
          "Open WatchEvents calls this broker serves at most (1..100000); "
          "one more is refused with RESOURCE_EXHAUSTED. A watch costs "
          "memory, not a thread");
ABSL_FLAG(std::string, testing_clock_start, BrokerFlags().testing_clock_start,
          "TESTS ONLY: run on a clock that starts at this RFC 3339 time and "
          "moves only when slussen.v1.TestingService.SetTime sets it "
          "(loopback only)");
ABSL_FLAG(int, retention_days, BrokerFlags().retention_days,
          "Erase the personal data of a referral this many days after it "
          "finished (1..3650); state, kind, times and outcome reasons stay "
          "for the statistics. Events this old are removed too");
ABSL_FLAG(int, retention_sweep_seconds, BrokerFlags().retention_sweep_seconds,
          "How often the retention sweep runs (1..86400)");
ABSL_FLAG(int, shortfall_check_minutes, BrokerFlags().shortfall_check_minutes,
          "How often each region's queue forecasts are checked against their "
          "activity types' warning thresholds, in minutes (0..10080; 0: "
          "never)");
ABSL_FLAG(bool, insecure_allow_remote, BrokerFlags().insecure_allow_remote,
          "Allow development identity (from request metadata) on a "
          "non-loopback address. Anyone who reaches the port can then claim "
          "any identity: never in production");
ABSL_FLAG(std::string, tls_cert_file, BrokerFlags().tls_cert_file,
          "Mutual TLS: the server's certificate (PEM, then any intermediate "
          "certificates). With --tls_key_file and --tls_client_ca_file (all "
          "three or none) callers need a client certificate signed by the "
          "client CA, and their identity comes from it only");
ABSL_FLAG(std::string, tls_key_file, BrokerFlags().tls_key_file,
          "Mutual TLS: the private key of --tls_cert_file (PEM, unencrypted; "
          "keep it mode 600)");
ABSL_FLAG(std::string, tls_client_ca_file, BrokerFlags().tls_client_ca_file,
          "Mutual TLS: the CA certificate(s) (PEM) client certificates must "
          "be signed by");
ABSL_FLAG(std::string, admin_listen, BrokerFlags().admin_listen,
          "A plaintext loopback address (host:port) serving only gRPC "
          "health, reflection and channelz, for operators; empty: none");

namespace slussen::server {
namespace {

using service::Log;
using service::LogLevel;

// Marks a refusal that main() answers with exit status 2 (RefusalExitStatus).
constexpr absl::string_view kExitStatus2 = "slussen.server/exit_status_2";

absl::Status ExitStatus2(absl::Status status) {
  status.SetPayload(kExitStatus2, absl::Cord("2"));
  return status;
}

// OK if `value` of --`name` is within lo..hi; otherwise naming the flag,
// its value and the range.
absl::Status Within(absl::string_view name, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, "=", value, " is not within ", lo, "..", hi));
}

// The addresses of --redis (one, or several with --redis_cluster) and
// --redis_sentinels into `redis`.
absl::Status ConvertRedisAddresses(const BrokerFlags& flags,
                                   store::RedisOptions& redis) {
  redis.cluster = flags.redis_cluster;
  if (!redis.cluster && absl::StrContains(flags.redis, ',')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--redis=\"", flags.redis,
        "\" names several addresses, which only a Redis Cluster has "
        "(--redis_cluster)"));
  }
  bool first = true;
  for (absl::string_view text : absl::StrSplit(flags.redis, ',')) {
    absl::StatusOr<store::RedisAddress> address =
        store::RedisAddress::Parse(text);
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis: ", address.status().message()));
    }
    if (first) {
      redis.address = *std::move(address);
      first = false;
    } else {
      redis.more_seeds.push_back(*std::move(address));
    }
  }
  if (flags.redis_sentinels.empty()) return absl::OkStatus();
  if (redis.cluster) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--redis_sentinels=\"", flags.redis_sentinels,
        "\": --redis_sentinels and --redis_cluster exclude each other: a "
        "Redis Cluster fails over by itself"));
  }
  for (absl::string_view text : absl::StrSplit(flags.redis_sentinels, ',')) {
    absl::StatusOr<store::RedisAddress> sentinel =
        store::RedisAddress::Parse(text);
    if (!sentinel.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis_sentinels: ", sentinel.status().message()));
    }
    redis.sentinels.push_back(*std::move(sentinel));
  }
  if (flags.redis_master_name.empty()) {
    return absl::InvalidArgumentError(
        "--redis_master_name=\"\" must name the primary the Sentinels "
        "monitor");
  }
  redis.sentinel_master = flags.redis_master_name;
  return absl::OkStatus();
}

// The Redis flags into `redis`.
absl::Status ConvertRedis(const BrokerFlags& flags,
                          store::RedisOptions& redis) {
  RETURN_IF_ERROR(ConvertRedisAddresses(flags, redis));
  RETURN_IF_ERROR(
      Within("redis_wait_replicas", flags.redis_wait_replicas, 0, 16));
  // A wait as long as the command's would end the command first.
  if (flags.redis_wait_timeout_ms < 1 ||
      flags.redis_wait_timeout_ms >= flags.redis_command_timeout_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--redis_wait_timeout_ms=", flags.redis_wait_timeout_ms,
        " must be at least 1 and below --redis_command_timeout_ms (",
        flags.redis_command_timeout_ms, ")"));
  }
  RETURN_IF_ERROR(Within("redis_pool_size", flags.redis_pool_size, 1, 1024));
  RETURN_IF_ERROR(Within("redis_connect_timeout_ms",
                         flags.redis_connect_timeout_ms, 1, 60000));
  redis.wait_replicas = flags.redis_wait_replicas;
  redis.replica_timeout = absl::Milliseconds(flags.redis_wait_timeout_ms);
  redis.max_connections = flags.redis_pool_size;
  redis.connect_timeout = absl::Milliseconds(flags.redis_connect_timeout_ms);
  redis.command_timeout = absl::Milliseconds(flags.redis_command_timeout_ms);
  redis.password = flags.redis_password;
  return absl::OkStatus();
}

// The flags of the broker's own work (deadlines, watches, requests, rate
// limit, retention) into `options`.
absl::Status ConvertLimits(const BrokerFlags& flags,
                           service::BrokerOptions& options) {
  const int regions = static_cast<int>(core::RegionCodes().size());
  if (flags.deadline_workers < 1 || flags.deadline_workers > regions) {
    return absl::InvalidArgumentError(
        absl::StrCat("--deadline_workers=", flags.deadline_workers,
                     " must be 1 to ", regions, " (the regions)"));
  }
  RETURN_IF_ERROR(Within("max_watchers", flags.max_watchers, 1, 100000));
  RETURN_IF_ERROR(Within("max_message_bytes", flags.max_message_bytes,
                         service::kMinReceiveMessageBytes,
                         service::kMaxReceiveMessageBytes));
  RETURN_IF_ERROR(Within("retention_days", flags.retention_days, 1, 3650));
  RETURN_IF_ERROR(Within("retention_sweep_seconds",
                         flags.retention_sweep_seconds, 1, 86400));
  RETURN_IF_ERROR(Within("shortfall_check_minutes",
                         flags.shortfall_check_minutes, 0, 10080));
  options.deadlines.workers = flags.deadline_workers;
  options.events.max_watchers = flags.max_watchers;
  options.max_receive_message_bytes = flags.max_message_bytes;
  options.retention.retention = absl::Hours(24) * flags.retention_days;
  options.retention.interval = absl::Seconds(flags.retention_sweep_seconds);
  options.shortfall_check_interval =
      absl::Minutes(flags.shortfall_check_minutes);
  options.rate_limit.per_second = flags.rate_limit_per_second;
  options.rate_limit.burst = flags.rate_limit_burst;
  if (absl::Status valid = service::RateLimiter::Validate(options.rate_limit);
      !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rate_limit_per_second=", flags.rate_limit_per_second,
        " --rate_limit_burst=", flags.rate_limit_burst, ": ", valid.message()));
  }
  return absl::OkStatus();
}

// --tls_cert_file, --tls_key_file and --tls_client_ca_file: all three or
// none.
absl::StatusOr<std::optional<TlsFiles>> ConvertTls(const BrokerFlags& flags) {
  const int given = !flags.tls_cert_file.empty() + !flags.tls_key_file.empty() +
                    !flags.tls_client_ca_file.empty();
  if (given == 0) return std::nullopt;
  if (given != 3) {
    return ExitStatus2(absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert_file, --tls_key_file and --tls_client_ca_file go "
        "together (all three or none); got --tls_cert_file=\"",
        flags.tls_cert_file, "\" --tls_key_file=\"", flags.tls_key_file,
        "\" --tls_client_ca_file=\"", flags.tls_client_ca_file, "\"")));
  }
  return TlsFiles{.cert_file = flags.tls_cert_file,
                  .key_file = flags.tls_key_file,
                  .client_ca_file = flags.tls_client_ca_file};
}

// --testing_clock_start as a clock standing at that time; nullptr without.
absl::StatusOr<std::unique_ptr<core::ManualClock>> ConvertTestingClock(
    const std::string& start) {
  if (start.empty()) return nullptr;
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, start, &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--testing_clock_start=", start,
                     " must be an RFC 3339 time such as "
                     "2026-12-23T09:00:00+01:00: ",
                     error));
  }
  return std::make_unique<core::ManualClock>(time);
}

// Flags that are valid but do nothing together, said at start so that an
// operator does not believe them in force.
std::vector<std::string> Warnings(const BrokerFlags& flags,
                                  const BrokerConfig& config) {
  std::vector<std::string> warnings;
  if (config.tls_files.has_value() && flags.insecure_allow_remote) {
    warnings.push_back(
        "--insecure_allow_remote has no effect with mutual TLS: identities "
        "come from client certificates only");
  }
  if (flags.redis_sentinels.empty() &&
      flags.redis_master_name != BrokerFlags().redis_master_name) {
    warnings.push_back(absl::StrCat(
        "--redis_master_name=", flags.redis_master_name,
        " has no effect without --redis_sentinels: the primary is --redis"));
  }
  return warnings;
}

// The content of the file `--flag` names.
absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return ExitStatus2(absl::InvalidArgumentError(absl::StrCat(
        "--", flag, "=", path, " cannot be read: ", strerror(errno))));
  }
  if (content.empty()) {
    return ExitStatus2(absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", path, " is empty or cannot be read")));
  }
  return content;
}

}  // namespace

BrokerFlags ParsedBrokerFlags() {
  BrokerFlags flags;
  flags.listen = absl::GetFlag(FLAGS_listen);
  flags.redis = absl::GetFlag(FLAGS_redis);
  flags.redis_cluster = absl::GetFlag(FLAGS_redis_cluster);
  flags.redis_sentinels = absl::GetFlag(FLAGS_redis_sentinels);
  flags.redis_master_name = absl::GetFlag(FLAGS_redis_master_name);
  flags.redis_wait_replicas = absl::GetFlag(FLAGS_redis_wait_replicas);
  flags.redis_wait_timeout_ms = absl::GetFlag(FLAGS_redis_wait_timeout_ms);
  flags.redis_pool_size = absl::GetFlag(FLAGS_redis_pool_size);
  flags.redis_connect_timeout_ms =
      absl::GetFlag(FLAGS_redis_connect_timeout_ms);
  flags.redis_command_timeout_ms =
      absl::GetFlag(FLAGS_redis_command_timeout_ms);
  flags.deadline_workers = absl::GetFlag(FLAGS_deadline_workers);
  flags.pnr_key_file = absl::GetFlag(FLAGS_pnr_key_file);
  flags.log_level = absl::GetFlag(FLAGS_log_level);
  flags.shutdown_grace_seconds = absl::GetFlag(FLAGS_shutdown_grace_seconds);
  flags.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  flags.rate_limit_per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  flags.rate_limit_burst = absl::GetFlag(FLAGS_rate_limit_burst);
  flags.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  flags.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  flags.testing_clock_start = absl::GetFlag(FLAGS_testing_clock_start);
  flags.retention_days = absl::GetFlag(FLAGS_retention_days);
  flags.retention_sweep_seconds = absl::GetFlag(FLAGS_retention_sweep_seconds);
  flags.shortfall_check_minutes = absl::GetFlag(FLAGS_shortfall_check_minutes);
  flags.insecure_allow_remote = absl::GetFlag(FLAGS_insecure_allow_remote);
  flags.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  flags.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  flags.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  flags.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  if (const char* password = std::getenv("SLUSSEN_REDIS_PASSWORD")) {
    flags.redis_password = password;
  }
  return flags;
}

absl::StatusOr<BrokerConfig> BrokerConfigFromFlags(const BrokerFlags& flags) {
  BrokerConfig config;
  if (!service::ParseLogLevel(flags.log_level, &config.log_level)) {
    return ExitStatus2(absl::InvalidArgumentError(
        absl::StrCat("--log_level=", flags.log_level,
                     " (or SLUSSEN_LOG_LEVEL) must be debug, info, warning "
                     "or error")));
  }
  RETURN_IF_ERROR(
      Within("shutdown_grace_seconds", flags.shutdown_grace_seconds, 0, 3600));
  config.shutdown_grace = absl::Seconds(flags.shutdown_grace_seconds);
  config.pnr_key_file = flags.pnr_key_file;

  service::BrokerOptions& options = config.options;
  options.listen = flags.listen;
  options.admin_listen = flags.admin_listen;
  options.metrics_listen = flags.metrics_listen;
  options.allow_remote_development_identity = flags.insecure_allow_remote;
  RETURN_IF_ERROR(ConvertRedis(flags, options.redis));
  RETURN_IF_ERROR(ConvertLimits(flags, options));
  ASSIGN_OR_RETURN(config.tls_files, ConvertTls(flags));
  ASSIGN_OR_RETURN(config.testing_clock,
                   ConvertTestingClock(flags.testing_clock_start));
  options.testing_clock = config.testing_clock.get();

  // Where the broker may listen, as BrokerServer::Start checks it; the TLS
  // material counts by being there, its content is read later.
  service::BrokerOptions listening = options;
  if (config.tls_files.has_value()) listening.tls.emplace();
  RETURN_IF_ERROR(service::CheckListenAddresses(listening));

  config.warnings = Warnings(flags, config);
  return config;
}

absl::StatusOr<service::TlsMaterial> ReadTlsFiles(const TlsFiles& files) {
  service::TlsMaterial material;
  ASSIGN_OR_RETURN(material.certificate_chain_pem,
                   ReadFlagFile("tls_cert_file", files.cert_file));
  ASSIGN_OR_RETURN(material.private_key_pem,
                   ReadFlagFile("tls_key_file", files.key_file));
  ASSIGN_OR_RETURN(material.client_ca_pem,
                   ReadFlagFile("tls_client_ca_file", files.client_ca_file));
  struct stat info;
  // Group-readable is the usual way to share a key with a service's group
  // (Debian's ssl-cert; Kubernetes secrets with fsGroup); other users may
  // not read it.
  if (stat(files.key_file.c_str(), &info) == 0 && (info.st_mode & 007) != 0) {
    Log(LogLevel::kWarning,
        "the TLS private key file is readable by other users; chmod o-rwx it",
        {{"tls_key_file", files.key_file}});
  }
  return material;
}

int RefusalExitStatus(const absl::Status& refusal) {
  return refusal.GetPayload(kExitStatus2).has_value() ? 2 : 1;
}

}  // namespace slussen::server
