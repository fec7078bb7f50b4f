#include "clients/cli/cli_args.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace slussen::cli {

absl::StatusOr<CliArgs> CliArgs::Parse(int argc, const char* const* argv,
                                       const std::set<std::string>& booleans) {
  CliArgs args;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) args.words_.emplace_back(argv[i]);
      break;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      args.words_.emplace_back(arg);
      continue;
    }
    const size_t equals = arg.find('=');
    std::string name(arg.substr(0, equals));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed flag \"", argv[i], "\""));
    }
    if (equals != absl::string_view::npos) {
      args.flags_.emplace(name, std::string(arg.substr(equals + 1)));
    } else if (booleans.count(name)) {
      args.flags_.emplace(name, "true");
    } else if (i + 1 < argc && !absl::StartsWith(argv[i + 1], "--")) {
      args.flags_.emplace(name, argv[++i]);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
  }
  return args;
}

bool CliArgs::Has(absl::string_view name) const {
  read_.emplace(name);
  return flags_.find(name) != flags_.end();
}

std::string CliArgs::Get(absl::string_view name, absl::string_view fallback,
                         const char* env) const {
  read_.emplace(name);
  const auto it = flags_.find(name);
  if (it != flags_.end()) return it->second;
  if (env != nullptr) {
    if (const char* value = std::getenv(env)) return value;
  }
  return std::string(fallback);
}

std::vector<std::string> CliArgs::GetAll(absl::string_view name) const {
  read_.emplace(name);
  std::vector<std::string> values;
  const auto [begin, end] = flags_.equal_range(name);
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

bool CliArgs::Flag(absl::string_view name) const {
  const std::string value = Get(name, "false");
  return value == "true" || value == "1" || value == "yes";
}

std::vector<std::string> CliArgs::Unused() const {
  std::vector<std::string> unused;
  for (auto it = flags_.begin(); it != flags_.end();
       it = flags_.upper_bound(it->first)) {
    if (!read_.count(it->first)) unused.push_back(it->first);
  }
  return unused;
}

}  // namespace slussen::cli
