// slussctl's commands on referrals: create, get, list, cancel.
//
// Each command builds a request from flags (or a JSON file), calls the
// broker over gRPC, and prints the answer for a person, or as JSON with
// --json (protobuf's JSON mapping, proto field names), for scripts.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_REFERRAL_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_REFERRAL_COMMANDS_H_

#include <grpcpp/client_context.h>

#include <iosfwd>
#include <string>
#include <vector>

#include "clients/cli/cli_args.h"
#include "slussen/v1/referral_service.grpc.pb.h"

namespace slussen::cli {

// What every command needs.
struct CliContext {
  const CliArgs* args;
  slussen::v1::ReferralService::StubInterface* referrals;
  bool json = false;
  // Print only resource names, one a line (for shell scripts).
  bool quiet = false;
  std::ostream* out;
  std::ostream* err;
  // Identity metadata and deadline for one call.
  std::string organisation;
  std::string role;
  std::string region;
  std::string person;
  int timeout_seconds = 10;

  void Prepare(grpc::ClientContext* context) const;
};

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;
inline constexpr int kExitUsage = 2;

// `words` follow "referrals": {"create", "impulse"}, {"get", name}, ...
int RunReferralCommand(const CliContext& context,
                       const std::vector<std::string>& words);

// The help text of the referral commands.
const char* ReferralCommandsHelp();

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_REFERRAL_COMMANDS_H_
