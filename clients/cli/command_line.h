// slussctl's command line, declared once: the global flags, and every
// command with the flags it takes. The parser (CLI11), each command's
// --help, the bash and zsh completion and the man page all come from these
// declarations, so they cannot disagree.
//
//   ASSIGN_OR_RETURN(CommandLine line, ParseCommandLine(argc, argv));
//   if (!line.text.empty()) std::cout << line.text;   // --help, --version
//   line.args.words();   // {"offers", "decline", "regions/13/offers/..."}
//
// A flag the chosen command does not take is refused before anything runs,
// with the nearest flag it does take ("did you mean --reason?").
#ifndef SLUSSEN_CLIENTS_CLI_COMMAND_LINE_H_
#define SLUSSEN_CLIENTS_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/cli/cli_args.h"

namespace slussen::cli {

struct FlagSpec {
  std::string name;   // without the dashes: "reason"
  std::string value;  // what the value is, "REASON"; empty for a switch
  std::string help;
  bool repeated = false;  // may be given more than once
};

struct CommandSpec {
  std::string resource;   // "referrals"
  std::string command;    // "cancel"; empty when the resource is the command
  std::string arguments;  // the words after it: "NAME"; empty when none
  bool many_arguments = false;  // "FILE..."
  std::string help;
  std::vector<FlagSpec> flags;

  // "referrals cancel", or "worklist".
  std::string Path() const;
};

// The flags every command takes (--server, --json, ...).
const std::vector<FlagSpec>& GlobalFlags();
// Every command, in the order of the help.
const std::vector<CommandSpec>& Commands();

// What the command line asks for: a text to print (help, version,
// completion, man page) and exit 0, or a command to run.
struct CommandLine {
  std::string text;
  // words() = {resource, command (if any), arguments...}; the flags given,
  // global and the command's. A global flag the command also declares
  // (--region) is "global-<name>" when both are given: `--region=13
  // referrals list --region=12` is the caller of region 13 listing 12.
  CliArgs args;
  // "offers decline": what its usage errors point to for --help.
  std::string path;
};

// A usage error (INVALID_ARGUMENT, exit code 2) names what is wrong and,
// for a misspelling, what was probably meant.
absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv);

// Generated from the declarations above.
std::string BashCompletion();
std::string ZshCompletion();
std::string ManPage();

// The candidate nearest `word` by edit distance, if near enough to be a
// likely misspelling; empty otherwise.
std::string NearestWord(absl::string_view word,
                        const std::vector<std::string>& candidates);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_COMMAND_LINE_H_
