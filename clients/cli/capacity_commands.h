// slussctl for the providers' capacity and the admins' directory: cohorts
// (list, add, decide), updates of an offering or a provider by field
// (--set PATH=VALUE, or --file with --field), framework agreements and
// deadline rule sets. `capacity publish` (directory_commands.cc) reads its
// JSON with ParseCapacityJson.
#ifndef SLUSSEN_CLIENTS_CLI_CAPACITY_COMMANDS_H_
#define SLUSSEN_CLIENTS_CLI_CAPACITY_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` from the resource: {"cohorts", "add", OFFERING},
// {"offerings", "update", OFFERING}, {"agreements", "list"}, ...
int RunCapacityCommand(const CliContext& context,
                       const std::vector<std::string>& words);

// A Capacity from JSON as a person writes it: {"places": {"total": 8}},
// {"caseload": {"max_open_cases": 40}}, or cohorts as a list with dates as
// text, {"cohorts": [{"start_date": "2027-01-11", "min_size": 6,
// "max_size": 12}]} (protobuf's own form works too). INVALID_ARGUMENT with
// examples otherwise.
absl::StatusOr<slussen::v1::Capacity> ParseCapacityJson(
    const std::string& json);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_CAPACITY_COMMANDS_H_
