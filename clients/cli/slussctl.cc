// slussctl: the command-line client of Slussen.
//
//   slussctl --org=kommun-halmstad referrals create impulse --kommun=1380 ...
//   slussctl --org=kommun-halmstad referrals list --region=13
//
// Identity: over mutual TLS the client certificate (--certs, or
// --tls_ca_file, --tls_cert_file and --tls_key_file; see cli_channel.h);
// in development mode --org, --role, --region and --person, or the
// environment variables SLUSSEN_ORG, SLUSSEN_ROLE, SLUSSEN_REGION,
// SLUSSEN_PERSON. The server from --server or SLUSSEN_SERVER.
#include <grpcpp/channel.h>

#include <iostream>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "clients/cli/cli_args.h"
#include "clients/cli/cli_channel.h"
#include "clients/cli/coordinator_commands.h"
#include "clients/cli/directory_commands.h"
#include "clients/cli/placement_commands.h"
#include "clients/cli/privacy_commands.h"
#include "clients/cli/referral_commands.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

constexpr char kHelp[] = R"(slussctl: the command-line client of Slussen.

Usage: slussctl [global flags] <resource> <command> [flags]
  resources: referrals, offers, queue, catalog, providers, offerings,
             activity-types, capacity, worklist, clocks, reports, events,
             consents, audit, participants; and `health`
       slussctl [global flags] health [--service=slussen.v1.ReferralService]

Global flags (or environment variables):
  --server=HOST:PORT   broker address (SLUSSEN_SERVER; 127.0.0.1:50051)
  --org=ORG            calling organisation, e.g. kommun-halmstad-eb
                       (SLUSSEN_ORG)
  --role=ROLE          agency, provider, coordinator or admin
                       (SLUSSEN_ROLE; agency)
  --region=NN          caller's region, a two-digit län code
                       (SLUSSEN_REGION); also the default region of
                       commands
  --person=HANDLE      staff handle recorded with actions (SLUSSEN_PERSON)

Mutual TLS (a broker started with --tls_cert_file etc.): the client
certificate names the caller, and --org, --role and --region are not sent
(--region still sets the commands' default region).
  --certs=DIR          a `./dev certs` directory: uses DIR/ca.pem and the
                       client certificate DIR/<role>-<org>.pem with its key
                       DIR/<role>-<org>.key (SLUSSEN_CERTS)
  --tls_ca_file=FILE   the CA certificate that signed the broker's
                       (SLUSSEN_TLS_CA_FILE)
  --tls_cert_file=FILE the client certificate, PEM (SLUSSEN_TLS_CERT_FILE)
  --tls_key_file=FILE  its private key, PEM (SLUSSEN_TLS_KEY_FILE)
Without them slussctl speaks plaintext (development mode; also to a
broker's --admin_listen port for `health`).
  --json               print the answer as JSON (proto field names)
  --quiet              print only the names of referrals, one a line
  --timeout=SECONDS    give up after this long (10)
  --help               this text

Exit codes: 0 done (health: serving), 1 the broker refused or failed (the
status is printed; health: not serving or unreachable), 2 usage error.

)";

// Asks the broker's standard health service; prints SERVING or why not.
int Health(const std::shared_ptr<grpc::Channel>& channel,
           const slussen::cli::CliArgs& args, int timeout_seconds) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(args.Get("service"));
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(timeout_seconds));
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::cerr << "error: " << status.error_message() << "\n";
    return slussen::cli::kExitRpcError;
  }
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                   response.status())
            << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? slussen::cli::kExitOk
             : slussen::cli::kExitRpcError;
}

}  // namespace

int main(int argc, char** argv) {
  using slussen::cli::CliArgs;
  absl::StatusOr<CliArgs> args = CliArgs::Parse(
      argc, argv, {"json", "quiet", "help", "all", "history", "basic"});
  if (!args.ok()) {
    std::cerr << "usage error: " << args.status().message() << "\n";
    return slussen::cli::kExitUsage;
  }
  const std::vector<std::string>& words = args->words();
  if (args->Flag("help") || words.empty() || words[0] == "help") {
    std::cout << kHelp << slussen::cli::ReferralCommandsHelp() << "\n"
              << slussen::cli::PlacementCommandsHelp() << "\n"
              << slussen::cli::DirectoryCommandsHelp() << "\n"
              << slussen::cli::CoordinatorCommandsHelp() << "\n"
              << slussen::cli::PrivacyCommandsHelp();
    return words.empty() && !args->Flag("help") ? slussen::cli::kExitUsage
                                                : slussen::cli::kExitOk;
  }
  const std::set<std::string> directory = {"catalog", "providers", "offerings",
                                           "activity-types", "capacity"};
  const std::set<std::string> coordinator = {"worklist", "clocks", "reports",
                                             "events"};
  const std::set<std::string> privacy = {"consents", "audit", "participants"};
  const std::string resource = words[0];
  if (resource != "referrals" && resource != "health" && resource != "offers" &&
      resource != "queue" && directory.count(resource) == 0 &&
      coordinator.count(resource) == 0 && privacy.count(resource) == 0) {
    std::cerr << "usage error: unknown command \"" << resource
              << "\"; try slussctl --help\n";
    return slussen::cli::kExitUsage;
  }

  slussen::cli::CliContext context;
  context.args = &*args;
  context.json = args->Flag("json");
  context.quiet = args->Flag("quiet");
  context.out = &std::cout;
  context.err = &std::cerr;
  context.organisation = args->Get("org", "", "SLUSSEN_ORG");
  context.role = args->Get("role", "agency", "SLUSSEN_ROLE");
  context.region = args->Get("region", "", "SLUSSEN_REGION");
  context.person = args->Get("person", "", "SLUSSEN_PERSON");
  if (!absl::SimpleAtoi(args->Get("timeout", "10"), &context.timeout_seconds) ||
      context.timeout_seconds <= 0) {
    std::cerr << "usage error: --timeout must be a positive number of "
                 "seconds\n";
    return slussen::cli::kExitUsage;
  }
  const std::string server =
      args->Get("server", "127.0.0.1:50051", "SLUSSEN_SERVER");
  absl::StatusOr<slussen::cli::TlsFiles> tls =
      slussen::cli::TlsFilesFromArgs(*args, context.role, context.organisation);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
      tls.ok() ? slussen::cli::MakeChannel(server, *tls)
               : absl::StatusOr<std::shared_ptr<grpc::Channel>>(tls.status());
  if (!made.ok()) {
    std::cerr << "usage error: " << made.status().message() << "\n";
    return slussen::cli::kExitUsage;
  }
  context.tls = tls->enabled();
  const std::shared_ptr<grpc::Channel> channel = *std::move(made);
  auto referrals = slussen::v1::ReferralService::NewStub(channel);
  auto directory_stub = slussen::v1::ProviderDirectory::NewStub(channel);
  auto offers = slussen::v1::OfferService::NewStub(channel);
  auto queues = slussen::v1::QueueService::NewStub(channel);
  auto coordinator_stub = slussen::v1::CoordinatorService::NewStub(channel);
  auto events = slussen::v1::EventService::NewStub(channel);
  context.referrals = referrals.get();
  context.directory = directory_stub.get();
  context.offers = offers.get();
  context.queues = queues.get();
  context.coordinator = coordinator_stub.get();
  context.events = events.get();
  auto consents = slussen::v1::ConsentService::NewStub(channel);
  auto privacy_stub = slussen::v1::PrivacyService::NewStub(channel);
  context.consents = consents.get();
  context.privacy = privacy_stub.get();

  const std::vector<std::string> rest(words.begin() + 1, words.end());
  int exit_code;
  if (resource == "health") {
    exit_code = Health(channel, *args, context.timeout_seconds);
  } else if (resource == "referrals") {
    exit_code = slussen::cli::RunReferralCommand(context, rest);
  } else if (resource == "offers") {
    exit_code = slussen::cli::RunOfferCommand(context, rest);
  } else if (resource == "queue") {
    exit_code = slussen::cli::RunQueueCommand(context, rest);
  } else if (coordinator.count(resource) > 0) {
    exit_code = slussen::cli::RunCoordinatorCommand(context, words);
  } else if (privacy.count(resource) > 0) {
    exit_code = slussen::cli::RunPrivacyCommand(context, words);
  } else {
    exit_code = slussen::cli::RunDirectoryCommand(context, words);
  }
  if (const std::vector<std::string> unused = args->Unused();
      !unused.empty() && exit_code != slussen::cli::kExitUsage) {
    std::cerr << "warning: flags not used by this command: --"
              << absl::StrJoin(unused, ", --") << "\n";
  }
  return exit_code;
}
