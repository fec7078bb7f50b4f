// slussctl's commands for consent and privacy:
//   consents get|list|withdraw; audit list|verify; participants erase.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_PRIVACY_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_PRIVACY_COMMANDS_H_

#include <string>
#include <vector>

#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` start with the resource: "consents", "audit" or "participants".
int RunPrivacyCommand(const CliContext& context,
                      const std::vector<std::string>& words);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_PRIVACY_COMMANDS_H_
