// Command-line parsing for slussctl: positional words and --flags, where a
// flag is "--name=value", "--name value", or, for the names declared
// boolean, "--name" alone. Flags may come anywhere among the words.
//
//   ASSIGN_OR_RETURN(CliArgs args, CliArgs::Parse(argc, argv, {"json"}));
//   args.words();                      // {"referrals", "get", "regions/..."}
//   args.Get("server", "127.0.0.1:50051");
//
// Every flag must be used: Unused() names the ones nobody asked for, so a
// misspelt flag is an error, not silently ignored. Not thread-safe.
#ifndef SLUSSEN_CLIENTS_CLI_CLI_ARGS_H_
#define SLUSSEN_CLIENTS_CLI_CLI_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slussen::cli {

class CliArgs {
 public:
  static absl::StatusOr<CliArgs> Parse(int argc, const char* const* argv,
                                       const std::set<std::string>& booleans);

  const std::vector<std::string>& words() const { return words_; }

  bool Has(absl::string_view name) const;
  // The flag's value, else the environment variable `env` (if given), else
  // `fallback`.
  std::string Get(absl::string_view name, absl::string_view fallback = "",
                  const char* env = nullptr) const;
  // Every value given for a repeatable flag.
  std::vector<std::string> GetAll(absl::string_view name) const;
  bool Flag(absl::string_view name) const;

  // Flags given but never read.
  std::vector<std::string> Unused() const;

 private:
  std::vector<std::string> words_;
  std::multimap<std::string, std::string, std::less<>> flags_;
  mutable std::set<std::string, std::less<>> read_;
};

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_CLI_ARGS_H_
