// slussctl's commands on the provider directory:
//   catalog apply FILE..., providers list, offerings list,
//   activity-types list, capacity publish.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_DIRECTORY_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_DIRECTORY_COMMANDS_H_

#include <string>
#include <vector>

#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` start with the resource: "catalog", "providers", "offerings",
// "activity-types" or "capacity".
int RunDirectoryCommand(const CliContext& context,
                        const std::vector<std::string>& words);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_DIRECTORY_COMMANDS_H_
