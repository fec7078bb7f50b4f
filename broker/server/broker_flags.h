// The flags of the `slussen` binary, and the one function that turns their
// values into what the broker runs with, so that every check and conversion
// is a unit test away (tests/unit/broker_flags_test.cc) instead of inside
// main().
//
//   absl::ParseCommandLine(argc, argv);  // main() parses, as absl does
//   const BrokerFlags flags = ParsedBrokerFlags();
//   ASSIGN_OR_RETURN(BrokerConfig config, BrokerConfigFromFlags(flags));
//   ... load the personnummer key from config.pnr_key_file,
//   ... config.options.tls from ReadTlsFiles(*config.tls_files),
//   ... BrokerServer::Start(std::move(config.options), ...)
//
// The flags themselves (ABSL_FLAG) are defined in broker_flags.cc, which is
// what `slussen --help` lists and what ApplyEnvironment reads SLUSSEN_<FLAG>
// variables for (kBrokerFlagsFile). Their defaults are BrokerFlags{}'s.
//
// BrokerConfigFromFlags has no side effects: it opens no file and no
// socket, starts nothing and logs nothing. Refusals are INVALID_ARGUMENT
// naming the flag, its value and the rule (FAILED_PRECONDITION from
// service::CheckListenAddresses for an address the broker may not serve on).
//
// Thread-safety: BrokerConfigFromFlags and RefusalExitStatus are pure and
// may be called from any thread. ParsedBrokerFlags reads the global flags:
// call it after parsing, as absl::GetFlag may be called from any thread.
#ifndef SLUSSEN_BROKER_SERVER_BROKER_FLAGS_H_
#define SLUSSEN_BROKER_SERVER_BROKER_FLAGS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/core/ports/clock.h"
#include "broker/service/broker_server.h"
#include "broker/service/json_log.h"
#include "broker/service/x509_certificate.h"

namespace slussen::server {

// The file that defines the flags, as --help names it and ApplyEnvironment
// finds them.
inline constexpr absl::string_view kBrokerFlagsFile =
    "broker/server/broker_flags.cc";

// The value of every flag, by its name; the defaults are the flags'
// defaults (what --help and docs/operating.md show).
struct BrokerFlags {
  std::string listen = "127.0.0.1:50051";
  std::string redis = "127.0.0.1:6379";
  bool redis_cluster = false;
  std::string redis_sentinels;
  std::string redis_master_name = "slussen";
  int redis_wait_replicas = 0;
  int redis_wait_timeout_ms = 500;
  int redis_pool_size = 16;
  int redis_connect_timeout_ms = 500;
  int redis_command_timeout_ms = 2000;
  int deadline_workers = 4;
  std::string pnr_key_file;
  std::string log_level = "info";
  int shutdown_grace_seconds = 10;
  int max_message_bytes = 1 << 20;
  double rate_limit_per_second = 200;
  int rate_limit_burst = 400;
  std::string metrics_listen;
  int max_watchers = 2000;
  std::string testing_clock_start;
  int retention_days = 365;
  int retention_sweep_seconds = 600;
  int shortfall_check_minutes = 60;
  bool insecure_allow_remote = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string admin_listen;
  // Not a flag: SLUSSEN_REDIS_PASSWORD, so that the password shows in no
  // process list.
  std::string redis_password;

  bool operator==(const BrokerFlags&) const = default;
};

// The files of --tls_cert_file, --tls_key_file and --tls_client_ca_file.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

// What the broker runs with. Move it, do not copy it: options.testing_clock
// points at testing_clock, so keep the config while the broker runs.
struct BrokerConfig {
  // Everything BrokerServer::Start takes, except `tls`, which
  // ReadTlsFiles(*tls_files) reads.
  service::BrokerOptions options;
  service::LogLevel log_level = service::LogLevel::kInfo;
  // How long in-flight calls may finish after SIGTERM.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // The personnummer key's file; empty: the key is SLUSSEN_PNR_KEY.
  std::string pnr_key_file;
  // Mutual TLS; nullopt: development identity.
  std::optional<TlsFiles> tls_files;
  // --testing_clock_start: the clock options.testing_clock points at.
  std::unique_ptr<core::ManualClock> testing_clock;
  // Flags given that have no effect together, for the log.
  std::vector<std::string> warnings;
};

// The values of the broker's flags as parsed (after ApplyEnvironment and
// absl::ParseCommandLine), and SLUSSEN_REDIS_PASSWORD.
BrokerFlags ParsedBrokerFlags();

// `flags` checked and turned into a BrokerConfig; the first refusal
// otherwise (see RefusalExitStatus). Checks every flag's range and form,
// the flags that go together or exclude each other, and the addresses as
// BrokerServer::Start will (service::CheckListenAddresses), so that a
// broker that would be refused is refused before it reads a file.
absl::StatusOr<BrokerConfig> BrokerConfigFromFlags(const BrokerFlags& flags);

// The content of the three TLS files: INVALID_ARGUMENT naming the flag and
// the file that cannot be read or is empty. Logs a warning when the key
// file is readable by other users. (Whether the content is a valid
// certificate and key is BrokerServer::Start's check.)
absl::StatusOr<service::TlsMaterial> ReadTlsFiles(const TlsFiles& files);

// The exit status of a broker refused by BrokerConfigFromFlags or
// ReadTlsFiles: 2 for --log_level and the TLS flags, 1 for the others, as
// it has been since before these functions (tests/e2e pin both).
int RefusalExitStatus(const absl::Status& refusal);

}  // namespace slussen::server

#endif  // SLUSSEN_BROKER_SERVER_BROKER_FLAGS_H_
