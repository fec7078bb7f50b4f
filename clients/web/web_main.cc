// slussen-web: the HTTP front door (see clients/web/gateway.h and README,
// "The web gateway"). Flags may also be set as SLUSSEN_WEB_<FLAG>
// environment variables; a flag on the command line wins.
#include <signal.h>

#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/service/json_log.h"
#include "broker/service/program.h"
#include "clients/web/gateway.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "host:port to serve HTTP (HTTPS with --tls_cert_file) on");
ABSL_FLAG(std::string, brokers, "127.0.0.1:50051",
          "comma-separated host:port of the brokers");
ABSL_FLAG(std::string, broker_ca_file, "",
          "mutual TLS to the brokers: the CA of their certificates");
ABSL_FLAG(std::string, broker_cert_file, "",
          "mutual TLS to the brokers: the gateway's certificate (URI SAN "
          "urn:slussen:gateway:<name>)");
ABSL_FLAG(std::string, broker_key_file, "",
          "mutual TLS to the brokers: the gateway's key");
ABSL_FLAG(int, broker_timeout_ms, 10000, "deadline of each call to a broker");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "Redis for sessions: host:port or unix:/path (password from "
          "SLUSSEN_WEB_REDIS_PASSWORD)");
ABSL_FLAG(bool, redis_cluster, false, "--redis is a node of a Redis Cluster");
ABSL_FLAG(std::string, sign_in, "development",
          "how people sign in: development (loopback only), certificate or "
          "proxy");
ABSL_FLAG(std::string, users_file, "",
          "who may sign in: key organisation role region person name, a "
          "line each (see docs/security.md)");
ABSL_FLAG(std::string, static_dir, "",
          "the web desks' files (clients/web/static); empty serves none");
ABSL_FLAG(std::string, tls_cert_file, "", "HTTPS: the gateway's certificate");
ABSL_FLAG(std::string, tls_key_file, "", "HTTPS: the gateway's key");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "HTTPS: ask for client certificates signed by this CA (needed by "
          "--sign_in=certificate)");
ABSL_FLAG(std::string, proxy_user_header, "X-Forwarded-User",
          "--sign_in=proxy: the header with the user's name");
ABSL_FLAG(std::string, trusted_proxies, "",
          "--sign_in=proxy: comma-separated addresses the header is trusted "
          "from");
ABSL_FLAG(bool, cookie_secure, false,
          "mark the session cookie Secure although the gateway serves plain "
          "HTTP: a proxy in front serves HTTPS (it is Secure anyway when "
          "the gateway serves HTTPS)");
ABSL_FLAG(bool, insecure_allow_remote, false,
          "allow --sign_in=development on an address other than loopback");
ABSL_FLAG(int, session_idle_seconds, 1800, "a session unused this long ends");
ABSL_FLAG(int, session_absolute_seconds, 36000,
          "a session ends this long after sign-in, used or not");
ABSL_FLAG(int, max_body_bytes, 1 << 20, "the largest request body accepted");
ABSL_FLAG(int, max_connections, 4096,
          "connections served at once (each holds a thread)");
ABSL_FLAG(int, events_kept, 1024,
          "events each live feed keeps for pages that reconnect");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(int, shutdown_grace_seconds, 5,
          "on SIGTERM, how long open requests may take to finish");

namespace {

using slussen::service::Fail;
using slussen::service::Log;
using slussen::service::LogLevel;

absl::Status Positive(absl::string_view flag, int value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "=", value, " must be above 0"));
}

}  // namespace

int main(int argc, char** argv) {
  slussen::service::StopLockOrderTracking();
  slussen::service::SetProgramUsage(
      "slussen-web", "clients/web/web_main.cc",
      "the HTTP front door of Slussen (Connect JSON, live "
      "events, the web desks).\nFlags may also be set as SLUSSEN_WEB_<FLAG> "
      "environment variables.\n");
  // Any other SLUSSEN_WEB_ variable is a misspelling, refused, but the
  // Redis password, which is no flag.
  if (!slussen::service::ApplyEnvironment(
          "SLUSSEN_WEB_", "clients/web/web_main.cc", {},
          /*refuse_unknown=*/true, {"redis_password"})) {
    return 2;
  }
  slussen::service::AcceptShortHelp(argc, argv);
  absl::ParseCommandLine(argc, argv);
  LogLevel level;
  if (!slussen::service::ParseLogLevel(absl::GetFlag(FLAGS_log_level),
                                       &level)) {
    return Fail("bad --log_level",
                absl::InvalidArgumentError(
                    "--log_level must be debug, info, warning or error"));
  }
  slussen::service::SetMinLogLevel(level);

  const sigset_t signals = slussen::service::BlockTerminationSignals();

  slussen::web::GatewayOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<slussen::web::SignInMode> mode =
      slussen::web::ParseSignInMode(absl::GetFlag(FLAGS_sign_in));
  if (!mode.ok()) return Fail("bad --sign_in", mode.status());
  options.sign_in = *mode;
  if (const std::string path = absl::GetFlag(FLAGS_users_file); !path.empty()) {
    absl::StatusOr<slussen::web::UsersFile> users =
        slussen::web::UsersFile::Load(path);
    if (!users.ok()) return Fail("bad --users_file", users.status());
    options.users = *std::move(users);
  }
  options.static_dir = absl::GetFlag(FLAGS_static_dir);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.proxy_user_header = absl::GetFlag(FLAGS_proxy_user_header);
  options.trusted_proxies = absl::StrSplit(absl::GetFlag(FLAGS_trusted_proxies),
                                           ',', absl::SkipWhitespace());
  options.insecure_allow_remote = absl::GetFlag(FLAGS_insecure_allow_remote);
  options.cookie_secure = absl::GetFlag(FLAGS_cookie_secure);
  options.brokers.targets =
      absl::StrSplit(absl::GetFlag(FLAGS_brokers), ',', absl::SkipWhitespace());
  options.brokers.ca_file = absl::GetFlag(FLAGS_broker_ca_file);
  options.brokers.cert_file = absl::GetFlag(FLAGS_broker_cert_file);
  options.brokers.key_file = absl::GetFlag(FLAGS_broker_key_file);
  for (const auto& [flag, value] :
       {std::pair<const char*, int>{"broker_timeout_ms",
                                    absl::GetFlag(FLAGS_broker_timeout_ms)},
        {"session_idle_seconds", absl::GetFlag(FLAGS_session_idle_seconds)},
        {"session_absolute_seconds",
         absl::GetFlag(FLAGS_session_absolute_seconds)},
        {"max_body_bytes", absl::GetFlag(FLAGS_max_body_bytes)},
        {"max_connections", absl::GetFlag(FLAGS_max_connections)},
        {"events_kept", absl::GetFlag(FLAGS_events_kept)},
        {"shutdown_grace_seconds",
         absl::GetFlag(FLAGS_shutdown_grace_seconds)}}) {
    if (absl::Status ok = Positive(flag, value); !ok.ok()) {
      return Fail(absl::StrCat("bad --", flag), ok);
    }
  }
  options.brokers.timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_broker_timeout_ms));
  absl::StatusOr<slussen::store::RedisAddress> redis =
      slussen::store::RedisAddress::Parse(absl::GetFlag(FLAGS_redis));
  if (!redis.ok()) return Fail("bad --redis", redis.status());
  options.redis.address = *redis;
  options.redis.cluster = absl::GetFlag(FLAGS_redis_cluster);
  if (const char* password = std::getenv("SLUSSEN_WEB_REDIS_PASSWORD")) {
    options.redis.password = password;
  }
  options.sessions.idle =
      absl::Seconds(absl::GetFlag(FLAGS_session_idle_seconds));
  options.sessions.absolute =
      absl::Seconds(absl::GetFlag(FLAGS_session_absolute_seconds));
  options.max_body_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.events_kept = static_cast<size_t>(absl::GetFlag(FLAGS_events_kept));

  absl::StatusOr<std::unique_ptr<slussen::web::Gateway>> gateway =
      slussen::web::Gateway::Start(std::move(options));
  if (!gateway.ok()) return Fail("cannot start", gateway.status());

  slussen::service::AwaitTerminationSignal(signals);
  (*gateway)->Shutdown(
      absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  Log(LogLevel::kInfo, "stopped");
  return 0;
}
