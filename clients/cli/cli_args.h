// The words and flags of one slussctl command line, as ParseCommandLine
// (command_line.h) found them: positional words, and the flags given, each
// a name and its values.
//
//   args.words();                      // {"referrals", "get", "regions/..."}
//   args.Get("server", "127.0.0.1:50051", "SLUSSEN_SERVER");
//
// Only declared flags can be read: asking for an undeclared one is a bug in
// slussctl and aborts, so a command cannot read a flag its --help and the
// parser do not know. Not thread-safe.
#ifndef SLUSSEN_CLIENTS_CLI_CLI_ARGS_H_
#define SLUSSEN_CLIENTS_CLI_CLI_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace slussen::cli {

class CliArgs {
 public:
  CliArgs() = default;
  // `flags`: name (without dashes) to value, a name once per value given;
  // a switch given has the value "true". `declared`: every name the
  // command takes.
  CliArgs(std::vector<std::string> words,
          std::multimap<std::string, std::string, std::less<>> flags,
          std::set<std::string, std::less<>> declared);

  const std::vector<std::string>& words() const { return words_; }

  bool Has(absl::string_view name) const;
  // The flag's value, else the environment variable `env` (if given), else
  // `fallback`.
  std::string Get(absl::string_view name, absl::string_view fallback = "",
                  const char* env = nullptr) const;
  // Every value given for a repeatable flag.
  std::vector<std::string> GetAll(absl::string_view name) const;
  bool Flag(absl::string_view name) const;

 private:
  void CheckDeclared(absl::string_view name) const;

  std::vector<std::string> words_;
  std::multimap<std::string, std::string, std::less<>> flags_;
  std::set<std::string, std::less<>> declared_;
};

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_CLI_ARGS_H_
