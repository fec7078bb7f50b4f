// slussctl's commands on offers and queues:
//   offers list|get|accept|decline, queue position|list.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_PLACEMENT_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_PLACEMENT_COMMANDS_H_

#include <string>
#include <vector>

#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` follow "offers".
int RunOfferCommand(const CliContext& context,
                    const std::vector<std::string>& words);
// `words` follow "queue".
int RunQueueCommand(const CliContext& context,
                    const std::vector<std::string>& words);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_PLACEMENT_COMMANDS_H_
