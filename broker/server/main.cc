// slussen: the referral and matching broker.
//
// Configuration comes from flags (broker_flags.h), each of which may also be
// set by an environment variable SLUSSEN_<FLAG NAME IN CAPITALS> (a flag
// given on the command line wins). Run `slussen --help` for the list.
//
// Exit status: 0 after SIGTERM or SIGINT; 1 when the broker cannot start
// (and for a misspelt flag or --help, as absl has it); 2 for a bad
// environment variable, --log_level or TLS flag (RefusalExitStatus).
#include <signal.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/server/broker_flags.h"
#include "broker/service/broker_server.h"
#include "broker/service/json_log.h"
#include "broker/service/program.h"

namespace {

using slussen::service::Log;
using slussen::service::LogLevel;

// `listen`'s host with the port bound.
std::string Bound(const std::string& listen, int port) {
  return absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
}

// The line that says the broker serves, and where.
void LogListening(const slussen::service::BrokerOptions& options,
                  const slussen::service::BrokerServer& broker,
                  const std::string& key_id) {
  Log(LogLevel::kInfo, "listening",
      {{"address", Bound(options.listen, broker.port())},
       {"redis", slussen::store::DescribeRedis(options.redis)},
       {"identity", options.tls.has_value() ? "mutual TLS (client certificates)"
                                            : "development (request metadata)"},
       {"admin_address",
        options.admin_listen.empty()
            ? ""
            : Bound(options.admin_listen, broker.admin_port())},
       {"metrics_address",
        options.metrics_listen.empty()
            ? ""
            : Bound(options.metrics_listen, broker.metrics_port())},
       {"pnr_key_id", key_id}});
}

}  // namespace

int main(int argc, char** argv) {
  namespace server = slussen::server;
  namespace service = slussen::service;
  service::StopLockOrderTracking();
  service::SetProgramUsage(
      "slussen", server::kBrokerFlagsFile,
      "the referral and matching broker.\n"
      "Flags may also be set as SLUSSEN_<FLAG> environment variables.\n"
      "Example: slussen --listen=127.0.0.1:50051 --redis=unix:var/redis.sock "
      "--pnr_key_file=var/pnr.key");
  // (--testing_clock_start only on the command line: never by accident.)
  if (!service::ApplyEnvironment("SLUSSEN_", server::kBrokerFlagsFile,
                                 {"testing_clock_start"})) {
    return 2;
  }
  service::AcceptShortHelp(argc, argv);
  absl::ParseCommandLine(argc, argv);

  const server::BrokerFlags flags = server::ParsedBrokerFlags();
  absl::StatusOr<server::BrokerConfig> config =
      server::BrokerConfigFromFlags(flags);
  if (!config.ok()) {
    Log(LogLevel::kError, "bad flags", {{"error", config.status().message()}});
    return server::RefusalExitStatus(config.status());
  }
  service::SetMinLogLevel(config->log_level);
  for (const std::string& warning : config->warnings) {
    Log(LogLevel::kWarning, warning, {});
  }
  if (config->testing_clock != nullptr) {
    Log(LogLevel::kWarning,
        "testing clock: time stands still until a test sets it (never run "
        "this in production)",
        {{"start", flags.testing_clock_start}});
  }

  // SIGTERM and SIGINT are taken below, in this thread: blocked before any
  // other thread starts, so that none of them gets one.
  const sigset_t signals = service::BlockTerminationSignals();

  absl::StatusOr<slussen::core::Pseudonymizer> pseudonymizer =
      config->pnr_key_file.empty()
          ? slussen::core::Pseudonymizer::FromEnvironment("SLUSSEN_PNR_KEY")
          : slussen::core::Pseudonymizer::FromFile(config->pnr_key_file);
  if (!pseudonymizer.ok()) {
    return service::Fail("cannot load the personnummer key",
                         pseudonymizer.status());
  }
  if (config->tls_files.has_value()) {
    absl::StatusOr<service::TlsMaterial> tls =
        server::ReadTlsFiles(*config->tls_files);
    if (!tls.ok()) {
      Log(LogLevel::kError, "bad TLS flags",
          {{"error", tls.status().message()}});
      return server::RefusalExitStatus(tls.status());
    }
    config->options.tls = *std::move(tls);
  }

  const std::string key_id = pseudonymizer->key_id();
  absl::StatusOr<std::unique_ptr<service::BrokerServer>> broker =
      service::BrokerServer::Start(config->options, *std::move(pseudonymizer));
  if (!broker.ok()) return service::Fail("cannot start", broker.status());
  LogListening(config->options, **broker, key_id);

  service::AwaitTerminationSignal(signals);
  (*broker)->Shutdown(config->shutdown_grace);
  return 0;
}
