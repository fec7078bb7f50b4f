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

#include <csignal>
#include <iostream>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "clients/cli/capacity_commands.h"
#include "clients/cli/cli_args.h"
#include "clients/cli/cli_channel.h"
#include "clients/cli/command_line.h"
#include "clients/cli/coordinator_commands.h"
#include "clients/cli/directory_commands.h"
#include "clients/cli/placement_commands.h"
#include "clients/cli/privacy_commands.h"
#include "clients/cli/referral_commands.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

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
  // A reader that stops early (`slussctl referrals list | head -n 1`) is
  // not an error: writes to the closed pipe fail quietly instead of
  // killing the process, whose exit status then says how the call went.
  std::signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<slussen::cli::CommandLine> line =
      slussen::cli::ParseCommandLine(argc, argv);
  if (!line.ok()) {
    std::cerr << "usage error: " << line.status().message() << "\n";
    return slussen::cli::kExitUsage;
  }
  if (!line->text.empty()) {
    std::cout << line->text;
    return slussen::cli::kExitOk;
  }
  const slussen::cli::CliArgs* args = &line->args;
  const std::vector<std::string>& words = args->words();
  const std::string resource = words[0];
  if (resource == "completion") {
    if (words.size() != 2 || (words[1] != "bash" && words[1] != "zsh")) {
      std::cerr << "usage error: `slussctl completion` takes bash or zsh\n";
      return slussen::cli::kExitUsage;
    }
    std::cout << (words[1] == "bash" ? slussen::cli::BashCompletion()
                                     : slussen::cli::ZshCompletion());
    return slussen::cli::kExitOk;
  }
  if (resource == "man") {
    std::cout << slussen::cli::ManPage();
    return slussen::cli::kExitOk;
  }
  const std::set<std::string> coordinator = {"worklist", "clocks", "reports",
                                             "events"};
  const std::set<std::string> privacy = {"consents", "audit", "participants"};

  slussen::cli::CliContext context;
  context.args = args;
  context.command_path = line->path;
  context.json = args->Flag("json");
  context.quiet = args->Flag("quiet");
  context.out = &std::cout;
  context.err = &std::cerr;
  context.organisation = args->Get("org", "", "SLUSSEN_ORG");
  context.role = args->Get("role", "agency", "SLUSSEN_ROLE");
  context.region = args->Get("region", "", "SLUSSEN_REGION");
  // The caller's own region: the global --region when a command's
  // --region names another.
  context.caller_region =
      args->Has("global-region") ? args->Get("global-region") : context.region;
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
  // Under mutual TLS the certificate names the caller's region: the
  // commands' region unless --region says otherwise.
  if (context.tls && context.region.empty() && !tls->cert_file.empty()) {
    absl::StatusOr<std::string> region =
        slussen::cli::RegionOfCertificate(tls->cert_file);
    if (!region.ok()) {
      std::cerr << "usage error: " << region.status().message() << "\n";
      return slussen::cli::kExitUsage;
    }
    context.region = *region;
    context.caller_region = *region;
  }
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
  } else if (resource == "cohorts" || resource == "agreements" ||
             resource == "rule-sets" ||
             ((resource == "offerings" || resource == "providers") &&
              words.size() > 1 && words[1] == "update")) {
    exit_code = slussen::cli::RunCapacityCommand(context, words);
  } else {
    exit_code = slussen::cli::RunDirectoryCommand(context, words);
  }
  return exit_code;
}
