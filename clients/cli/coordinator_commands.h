// slussctl's commands for deadlines, the coordinator's view and events:
//   worklist; clocks get|pause|resume; reports queues|response-times|
//   outcomes; events watch|list.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_COORDINATOR_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_COORDINATOR_COMMANDS_H_

#include <string>
#include <vector>

#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` start with the resource: "worklist", "clocks", "reports" or
// "events".
int RunCoordinatorCommand(const CliContext& context,
                          const std::vector<std::string>& words);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_COORDINATOR_COMMANDS_H_
