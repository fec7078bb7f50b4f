// slussctl's commands on referrals: create, get, list, cancel.
//
// Each command builds a request from flags (or a JSON file), calls the
// broker over gRPC, and prints the answer for a person, or as JSON with
// --json (protobuf's JSON mapping, proto field names), for scripts.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_REFERRAL_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_REFERRAL_COMMANDS_H_

#include <string>
#include <vector>

#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` follow "referrals": {"create", "impulse"}, {"get", name}, ...
int RunReferralCommand(const CliContext& context,
                       const std::vector<std::string>& words);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_REFERRAL_COMMANDS_H_
