// `slussctl referrals import FILE.csv`: bulk import for agencies. Each row
// of the CSV becomes a CreateReferral (referral_import.h: the columns, the
// template, the request id derived from the row), several in flight
// (--parallel); a progress line on a terminal; a result file with each
// row's referral or refusal (the code, the column, the message). Running
// the same file again imports nothing twice. Exit 0 when every row is
// imported, 1 when some were refused, 130 when interrupted, 2 for a usage
// error (nothing sent).
#ifndef SLUSSEN_CLIENTS_CLI_IMPORT_COMMAND_H_
#define SLUSSEN_CLIENTS_CLI_IMPORT_COMMAND_H_

#include <string>
#include <vector>

#include "clients/cli/cli_context.h"

namespace slussen::cli {

// `words` follow "referrals": {"import", FILE}.
int RunReferralImport(const CliContext& context,
                      const std::vector<std::string>& words);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_IMPORT_COMMAND_H_
