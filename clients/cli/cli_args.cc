#include "clients/cli/cli_args.h"

#include <cstdlib>
#include <iostream>

namespace slussen::cli {

CliArgs::CliArgs(std::vector<std::string> words,
                 std::multimap<std::string, std::string, std::less<>> flags,
                 std::set<std::string, std::less<>> declared)
    : words_(std::move(words)),
      flags_(std::move(flags)),
      declared_(std::move(declared)) {}

void CliArgs::CheckDeclared(absl::string_view name) const {
  if (declared_.count(name) > 0) return;
  std::cerr << "slussctl bug: the command reads --" << name
            << ", which it does not declare (clients/cli/command_line.cc)\n";
  std::abort();
}

bool CliArgs::Has(absl::string_view name) const {
  CheckDeclared(name);
  return flags_.find(name) != flags_.end();
}

std::string CliArgs::Get(absl::string_view name, absl::string_view fallback,
                         const char* env) const {
  CheckDeclared(name);
  const auto it = flags_.find(name);
  if (it != flags_.end()) return it->second;
  if (env != nullptr) {
    if (const char* value = std::getenv(env)) return value;
  }
  return std::string(fallback);
}

std::vector<std::string> CliArgs::GetAll(absl::string_view name) const {
  CheckDeclared(name);
  std::vector<std::string> values;
  const auto [begin, end] = flags_.equal_range(name);
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

bool CliArgs::Flag(absl::string_view name) const {
  return Get(name, "false") == "true";
}

}  // namespace slussen::cli
