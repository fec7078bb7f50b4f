// The broker's flags (broker/server/broker_flags.h): every flag, set on the
// command line's flags as absl::ParseCommandLine sets it, takes effect on
// what the broker runs with; the defaults are those --help shows and
// docs/operating.md lists; a bad value is refused naming the flag, the
// value and the rule, with the exit status main() has always given it.
//
// (A misspelt flag is absl::ParseCommandLine's refusal, in main() before
// any of this: tests/e2e/broker_flags_test.sh runs the binary with one.)
#include "broker/server/broker_flags.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using FlagValues = std::vector<std::pair<std::string, std::string>>;

// The flags defined in broker_flags.cc, by name.
std::map<std::string, absl::CommandLineFlag*> BrokerFlagsByName() {
  std::map<std::string, absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), kBrokerFlagsFile)) {
      flags.emplace(std::string(name), flag);
    }
  }
  return flags;
}

// Sets every flag of the broker back to its default. (absl::FlagSaver
// would too, logging every flag it restores.)
void ResetBrokerFlags() {
  for (const auto& [name, flag] : BrokerFlagsByName()) {
    std::string error;
    EXPECT_TRUE(flag->ParseFrom(flag->DefaultValue(), &error)) << error;
  }
}

// Each test sets the command line's flags as absl::ParseCommandLine would
// and reads them as main() does; they are back at their defaults after it.
class BrokerFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override { ResetBrokerFlags(); }

  // The config of the broker run with `values` (the other flags at their
  // defaults), through ParsedBrokerFlags and BrokerConfigFromFlags.
  static absl::StatusOr<BrokerConfig> ConfigWith(const FlagValues& values) {
    ResetBrokerFlags();
    for (const auto& [name, value] : values) {
      absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      if (flag == nullptr) {
        ADD_FAILURE() << "no flag --" << name;
        continue;
      }
      std::string error;
      EXPECT_TRUE(flag->ParseFrom(value, &error))
          << "--" << name << "=" << value << ": " << error;
    }
    return BrokerConfigFromFlags(ParsedBrokerFlags());
  }

  // The message of the refusal of `values`, and its exit status.
  static std::pair<std::string, int> RefusalOf(const FlagValues& values) {
    absl::StatusOr<BrokerConfig> config = ConfigWith(values);
    if (config.ok()) return {"accepted", 0};
    return {std::string(config.status().message()),
            RefusalExitStatus(config.status())};
  }
};

// A flag set to a value other than its default (with the flags it needs),
// and what that changes: `took_effect` holds with the value, and not with
// every flag at its default.
struct Effect {
  std::string flag;
  std::string value;
  FlagValues with;
  std::function<bool(const BrokerConfig&)> took_effect;
};

const std::vector<Effect>& Effects() {
  static const std::vector<Effect>* const effects = new std::vector<Effect>{
      {"listen",
       "127.0.0.2:6000",
       {},
       [](const BrokerConfig& c) {
         return c.options.listen == "127.0.0.2:6000";
       }},
      {"redis",
       "unix:/run/redis/redis.sock",
       {},
       [](const BrokerConfig& c) {
         return c.options.redis.address.unix_path == "/run/redis/redis.sock";
       }},
      {"redis_cluster",
       "true",
       {{"redis", "10.0.0.1:7000,10.0.0.2:7001"}},
       [](const BrokerConfig& c) {
         const store::RedisOptions& redis = c.options.redis;
         return redis.cluster && redis.address.host == "10.0.0.1" &&
                redis.address.port == 7000 && redis.more_seeds.size() == 1 &&
                redis.more_seeds[0].host == "10.0.0.2" &&
                redis.more_seeds[0].port == 7001;
       }},
      {"redis_sentinels",
       "10.0.0.5:26379,tcp://10.0.0.6:26380",
       {},
       [](const BrokerConfig& c) {
         const store::RedisOptions& redis = c.options.redis;
         return redis.sentinels.size() == 2 &&
                redis.sentinels[0].host == "10.0.0.5" &&
                redis.sentinels[1].port == 26380 &&
                redis.sentinel_master == "slussen";
       }},
      {"redis_master_name",
       "slussen-east",
       {{"redis_sentinels", "s:26379"}},
       [](const BrokerConfig& c) {
         return c.options.redis.sentinel_master == "slussen-east";
       }},
      {"redis_wait_replicas",
       "2",
       {},
       [](const BrokerConfig& c) {
         return c.options.redis.wait_replicas == 2;
       }},
      {"redis_wait_timeout_ms",
       "750",
       {},
       [](const BrokerConfig& c) {
         return c.options.redis.replica_timeout == absl::Milliseconds(750);
       }},
      {"redis_pool_size",
       "3",
       {},
       [](const BrokerConfig& c) {
         return c.options.redis.max_connections == 3;
       }},
      {"redis_connect_timeout_ms",
       "1500",
       {},
       [](const BrokerConfig& c) {
         return c.options.redis.connect_timeout == absl::Milliseconds(1500);
       }},
      {"redis_command_timeout_ms",
       "30000",
       {},
       [](const BrokerConfig& c) {
         return c.options.redis.command_timeout == absl::Seconds(30);
       }},
      {"deadline_workers",
       "21",
       {},
       [](const BrokerConfig& c) { return c.options.deadlines.workers == 21; }},
      {"pnr_key_file",
       "keys/pnr.key",
       {},
       [](const BrokerConfig& c) { return c.pnr_key_file == "keys/pnr.key"; }},
      {"log_level",
       "warning",
       {},
       [](const BrokerConfig& c) {
         return c.log_level == service::LogLevel::kWarning;
       }},
      {"shutdown_grace_seconds",
       "0",
       {},
       [](const BrokerConfig& c) {
         return c.shutdown_grace == absl::ZeroDuration();
       }},
      {"max_message_bytes",
       "4096",
       {},
       [](const BrokerConfig& c) {
         return c.options.max_receive_message_bytes == 4096;
       }},
      {"rate_limit_per_second",
       "0.5",
       {},
       [](const BrokerConfig& c) {
         return c.options.rate_limit.per_second == 0.5;
       }},
      {"rate_limit_burst",
       "3",
       {},
       [](const BrokerConfig& c) { return c.options.rate_limit.burst == 3; }},
      {"metrics_listen",
       "127.0.0.1:9464",
       {},
       [](const BrokerConfig& c) {
         return c.options.metrics_listen == "127.0.0.1:9464";
       }},
      {"max_watchers",
       "7",
       {},
       [](const BrokerConfig& c) {
         return c.options.events.max_watchers == 7;
       }},
      {"testing_clock_start",
       "2026-12-23T09:00:00+01:00",
       {},
       [](const BrokerConfig& c) {
         return c.testing_clock != nullptr &&
                c.options.testing_clock == c.testing_clock.get() &&
                c.testing_clock->Now() ==
                    absl::FromCivil(absl::CivilSecond(2026, 12, 23, 8, 0, 0),
                                    absl::UTCTimeZone());
       }},
      {"retention_days",
       "3",
       {},
       [](const BrokerConfig& c) {
         return c.options.retention.retention == absl::Hours(72);
       }},
      {"retention_sweep_seconds",
       "1",
       {},
       [](const BrokerConfig& c) {
         return c.options.retention.interval == absl::Seconds(1);
       }},
      {"shortfall_check_minutes",
       "5",
       {},
       [](const BrokerConfig& c) {
         return c.options.shortfall_check_interval == absl::Minutes(5);
       }},
      // What it allows: MayListenBeyondLoopbackOnlyWithTlsOrForced.
      {"insecure_allow_remote",
       "true",
       {},
       [](const BrokerConfig& c) {
         return c.options.allow_remote_development_identity;
       }},
      {"tls_cert_file",
       "certs/server.pem",
       {{"tls_key_file", "certs/server.key"},
        {"tls_client_ca_file", "certs/ca.pem"}},
       [](const BrokerConfig& c) {
         return c.tls_files.has_value() &&
                c.tls_files->cert_file == "certs/server.pem";
       }},
      {"tls_key_file",
       "certs/server.key",
       {{"tls_cert_file", "certs/server.pem"},
        {"tls_client_ca_file", "certs/ca.pem"}},
       [](const BrokerConfig& c) {
         return c.tls_files.has_value() &&
                c.tls_files->key_file == "certs/server.key";
       }},
      {"tls_client_ca_file",
       "certs/ca.pem",
       {{"tls_cert_file", "certs/server.pem"},
        {"tls_key_file", "certs/server.key"}},
       [](const BrokerConfig& c) {
         return c.tls_files.has_value() &&
                c.tls_files->client_ca_file == "certs/ca.pem";
       }},
      {"admin_listen",
       "127.0.0.1:50052",
       {},
       [](const BrokerConfig& c) {
         return c.options.admin_listen == "127.0.0.1:50052";
       }},
  };
  return *effects;
}

TEST_F(BrokerFlagsTest, EveryFlagTakesEffectOnWhatTheBrokerRunsWith) {
  absl::StatusOr<BrokerConfig> defaults = ConfigWith({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  for (const Effect& effect : Effects()) {
    SCOPED_TRACE("--" + effect.flag + "=" + effect.value);
    EXPECT_FALSE(effect.took_effect(*defaults));
    FlagValues values = effect.with;
    values.emplace_back(effect.flag, effect.value);
    absl::StatusOr<BrokerConfig> with = ConfigWith(values);
    ASSERT_TRUE(with.ok()) << with.status();
    EXPECT_TRUE(effect.took_effect(*with));
  }
}

// So that a flag added without an entry above (or without being read by
// ParsedBrokerFlags) fails here.
TEST_F(BrokerFlagsTest, EveryFlagOfTheBrokerIsAmongThoseChecked) {
  std::set<std::string> checked;
  for (const Effect& effect : Effects()) checked.insert(effect.flag);
  std::set<std::string> defined;
  for (const auto& [name, flag] : BrokerFlagsByName()) defined.insert(name);
  EXPECT_EQ(checked, defined);
}

TEST_F(BrokerFlagsTest, TheRedisPasswordComesFromTheEnvironmentOnly) {
  ASSERT_EQ(setenv("SLUSSEN_REDIS_PASSWORD", "hemligt", 1), 0);
  absl::StatusOr<BrokerConfig> config = ConfigWith({});
  unsetenv("SLUSSEN_REDIS_PASSWORD");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->options.redis.password, "hemligt");
  EXPECT_EQ(absl::FindCommandLineFlag("redis_password"), nullptr);

  config = ConfigWith({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->options.redis.password, "");
}

TEST_F(BrokerFlagsTest, UnsetFlagsAreTheDefaultsOfBrokerFlags) {
  unsetenv("SLUSSEN_REDIS_PASSWORD");
  EXPECT_TRUE(ParsedBrokerFlags() == BrokerFlags());
}

TEST_F(BrokerFlagsTest, TheDefaultsAreWhatTheOperatorsGuideSays) {
  absl::StatusOr<BrokerConfig> config = ConfigWith({});
  ASSERT_TRUE(config.ok()) << config.status();
  const service::BrokerOptions& options = config->options;
  EXPECT_EQ(options.listen, "127.0.0.1:50051");
  EXPECT_EQ(options.redis.address.ToString(), "tcp://127.0.0.1:6379");
  EXPECT_FALSE(options.redis.cluster);
  EXPECT_THAT(options.redis.more_seeds, IsEmpty());
  EXPECT_THAT(options.redis.sentinels, IsEmpty());
  EXPECT_EQ(options.redis.wait_replicas, 0);
  EXPECT_EQ(options.redis.replica_timeout, absl::Milliseconds(500));
  EXPECT_EQ(options.redis.max_connections, 16);
  EXPECT_EQ(options.redis.connect_timeout, absl::Milliseconds(500));
  EXPECT_EQ(options.redis.command_timeout, absl::Milliseconds(2000));
  EXPECT_EQ(options.deadlines.workers, 4);
  EXPECT_EQ(config->pnr_key_file, "");
  EXPECT_EQ(config->log_level, service::LogLevel::kInfo);
  EXPECT_EQ(config->shutdown_grace, absl::Seconds(10));
  EXPECT_EQ(options.max_receive_message_bytes, 1048576);
  EXPECT_EQ(options.events.max_watchers, 2000);
  EXPECT_EQ(options.retention.retention, absl::Hours(24 * 365));
  EXPECT_EQ(options.retention.interval, absl::Seconds(600));
  EXPECT_FALSE(config->tls_files.has_value());
  EXPECT_FALSE(options.tls.has_value());
  EXPECT_EQ(options.metrics_listen, "");
  EXPECT_EQ(options.admin_listen, "");
  EXPECT_EQ(options.rate_limit.per_second, 200);
  EXPECT_EQ(options.rate_limit.burst, 400);
  EXPECT_FALSE(options.allow_remote_development_identity);
  EXPECT_EQ(config->testing_clock, nullptr);
  EXPECT_EQ(options.testing_clock, nullptr);
  EXPECT_THAT(config->warnings, IsEmpty());
}

// The broker's table in docs/operating.md ("| flag (environment variable)
// | default | meaning |"): each flag named in a row's first cell, with its
// default from the second ("500, 2000" for two flags), backticks removed.
std::map<std::string, std::string> DocumentedDefaults() {
  std::ifstream in(SLUSSEN_OPERATING_DOC);
  EXPECT_TRUE(in.good()) << SLUSSEN_OPERATING_DOC;
  std::map<std::string, std::string> defaults;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (!in_table) {
      in_table = absl::StartsWith(line, "| flag (environment variable) |");
      continue;
    }
    if (!absl::StartsWith(line, "|")) break;
    if (absl::StartsWith(line, "|---")) continue;
    const std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() < 4) {
      ADD_FAILURE() << "not a row of flag, default, meaning: " << line;
      continue;
    }
    std::vector<std::string> names;
    for (absl::string_view piece : absl::StrSplit(cells[1], '`')) {
      if (absl::ConsumePrefix(&piece, "--")) names.emplace_back(piece);
    }
    const std::string cell(absl::StripAsciiWhitespace(cells[2]));
    std::vector<std::string> values = absl::StrSplit(cell, ", ");
    if (cell.empty()) values.assign(names.size(), "");
    if (values.size() != names.size()) {
      ADD_FAILURE() << "not a default for each flag: " << line;
      continue;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      defaults[names[i]] = absl::StrReplaceAll(values[i], {{"`", ""}});
    }
  }
  return defaults;
}

TEST_F(BrokerFlagsTest, HelpAndTheOperatorsGuideShowTheSameDefaults) {
  const std::map<std::string, std::string> documented = DocumentedDefaults();
  std::set<std::string> names;
  for (const auto& [name, flag] : BrokerFlagsByName()) {
    names.insert(name);
    const auto row = documented.find(name);
    if (row == documented.end()) {
      ADD_FAILURE() << "--" << name << " is not in docs/operating.md";
      continue;
    }
    // What --help prints as the default.
    EXPECT_EQ(flag->DefaultValue(), row->second) << "--" << name;
  }
  for (const auto& [name, value] : documented) {
    EXPECT_TRUE(names.contains(name))
        << "docs/operating.md lists --" << name << ", no flag of the broker";
  }
}

// Every refusal names the flag and the value it was given, and says the
// rule.
TEST_F(BrokerFlagsTest, BadValuesAreRefusedNamingTheFlagTheValueAndTheRule) {
  const struct {
    FlagValues values;
    std::string expected;
    int exit_status = 1;
  } kCases[] = {
      {{{"log_level", "loud"}},
       "--log_level=loud (or SLUSSEN_LOG_LEVEL) must be debug, info, warning "
       "or error",
       2},
      {{{"shutdown_grace_seconds", "-1"}},
       "--shutdown_grace_seconds=-1 is not within 0..3600"},
      {{{"shutdown_grace_seconds", "3601"}},
       "--shutdown_grace_seconds=3601 is not within 0..3600"},
      {{{"redis", "127.0.0.1:7001,127.0.0.1:7002"}},
       "--redis=\"127.0.0.1:7001,127.0.0.1:7002\" names several addresses, "
       "which only a Redis Cluster has (--redis_cluster)"},
      {{{"redis", "redis.internal"}},
       "--redis: redis address \"redis.internal\" must be "
       "unix:/path/to/socket, tcp://host:port or host:port"},
      {{{"redis_cluster", "true"}, {"redis", "10.0.0.1:7000,10.0.0.2"}},
       "--redis: redis address \"10.0.0.2\" must be"},
      {{{"redis_sentinels", "s:26379,s:0"}},
       "--redis_sentinels: redis address \"s:0\" must be"},
      {{{"redis_sentinels", "s:26379"}, {"redis_cluster", "true"}},
       "--redis_sentinels=\"s:26379\": --redis_sentinels and --redis_cluster "
       "exclude each other"},
      {{{"redis_sentinels", "s:26379"}, {"redis_master_name", ""}},
       "--redis_master_name=\"\" must name the primary the Sentinels "
       "monitor"},
      {{{"redis_wait_replicas", "-1"}},
       "--redis_wait_replicas=-1 is not within 0..16"},
      {{{"redis_wait_replicas", "17"}},
       "--redis_wait_replicas=17 is not within 0..16"},
      {{{"redis_wait_timeout_ms", "0"}},
       "--redis_wait_timeout_ms=0 must be at least 1 and below "
       "--redis_command_timeout_ms (2000)"},
      {{{"redis_wait_timeout_ms", "2000"}},
       "--redis_wait_timeout_ms=2000 must be at least 1 and below "
       "--redis_command_timeout_ms (2000)"},
      {{{"redis_command_timeout_ms", "400"}},
       "--redis_wait_timeout_ms=500 must be at least 1 and below "
       "--redis_command_timeout_ms (400)"},
      {{{"redis_pool_size", "0"}}, "--redis_pool_size=0 is not within 1..1024"},
      {{{"redis_pool_size", "1025"}},
       "--redis_pool_size=1025 is not within 1..1024"},
      {{{"redis_connect_timeout_ms", "0"}},
       "--redis_connect_timeout_ms=0 is not within 1..60000"},
      {{{"redis_connect_timeout_ms", "60001"}},
       "--redis_connect_timeout_ms=60001 is not within 1..60000"},
      {{{"deadline_workers", "0"}},
       "--deadline_workers=0 must be 1 to 21 (the regions)"},
      {{{"deadline_workers", "22"}},
       "--deadline_workers=22 must be 1 to 21 (the regions)"},
      {{{"max_watchers", "0"}}, "--max_watchers=0 is not within 1..100000"},
      {{{"max_watchers", "100001"}},
       "--max_watchers=100001 is not within 1..100000"},
      {{{"max_message_bytes", "1023"}},
       "--max_message_bytes=1023 is not within 1024..67108864"},
      {{{"max_message_bytes", "67108865"}},
       "--max_message_bytes=67108865 is not within 1024..67108864"},
      {{{"retention_days", "0"}}, "--retention_days=0 is not within 1..3650"},
      {{{"retention_days", "3651"}},
       "--retention_days=3651 is not within 1..3650"},
      {{{"retention_sweep_seconds", "0"}},
       "--retention_sweep_seconds=0 is not within 1..86400"},
      {{{"retention_sweep_seconds", "86401"}},
       "--retention_sweep_seconds=86401 is not within 1..86400"},
      {{{"shortfall_check_minutes", "-1"}},
       "--shortfall_check_minutes=-1 is not within 0..10080"},
      {{{"shortfall_check_minutes", "10081"}},
       "--shortfall_check_minutes=10081 is not within 0..10080"},
      {{{"rate_limit_per_second", "-1"}},
       "--rate_limit_per_second=-1 --rate_limit_burst=400: rate limit "
       "per_second must be 0 (off) or more, got -1"},
      {{{"rate_limit_per_second", "inf"}},
       "--rate_limit_per_second=inf --rate_limit_burst=400: rate limit "
       "per_second must be 0 (off) or more"},
      {{{"rate_limit_burst", "0"}},
       "--rate_limit_per_second=200 --rate_limit_burst=0: rate limit burst "
       "must be 1 or more when a rate is set, got 0"},
      {{{"tls_cert_file", "certs/server.pem"}},
       "--tls_cert_file, --tls_key_file and --tls_client_ca_file go together "
       "(all three or none); got --tls_cert_file=\"certs/server.pem\" "
       "--tls_key_file=\"\" --tls_client_ca_file=\"\"",
       2},
      {{{"tls_key_file", "k"}, {"tls_client_ca_file", "ca"}},
       "(all three or none); got --tls_cert_file=\"\" --tls_key_file=\"k\" "
       "--tls_client_ca_file=\"ca\"",
       2},
      {{{"testing_clock_start", "2026-13-45"}},
       "--testing_clock_start=2026-13-45 must be an RFC 3339 time such as "
       "2026-12-23T09:00:00+01:00"},
      // Where the broker may listen, as BrokerServer::Start would refuse it.
      {{{"testing_clock_start", "2026-12-23T09:00:00+01:00"},
        {"listen", "0.0.0.0:0"}},
       "refusing the testing clock on 0.0.0.0:0"},
      {{{"listen", "0.0.0.0:50051"}},
       "refusing to listen on 0.0.0.0:50051 with development identity"},
      {{{"admin_listen", "0.0.0.0:50052"}},
       "refusing the admin port on 0.0.0.0:50052"},
  };
  for (const auto& c : kCases) {
    std::vector<std::string> given;
    for (const auto& [name, value] : c.values) {
      given.push_back(absl::StrCat("--", name, "=", value));
    }
    SCOPED_TRACE(absl::StrJoin(given, " "));
    const auto [message, exit_status] = RefusalOf(c.values);
    EXPECT_THAT(message, HasSubstr(c.expected));
    EXPECT_EQ(exit_status, c.exit_status);
  }
}

// The limits of each range are accepted: the refusals above are of the
// values beyond them only.
TEST_F(BrokerFlagsTest, TheEndsOfEachRangeAreAccepted) {
  for (const FlagValues& values : std::vector<FlagValues>{
           {{"shutdown_grace_seconds", "0"},
            {"redis_wait_replicas", "0"},
            {"redis_wait_timeout_ms", "1"},
            {"redis_pool_size", "1"},
            {"redis_connect_timeout_ms", "1"},
            {"deadline_workers", "1"},
            {"max_watchers", "1"},
            {"max_message_bytes", "1024"},
            {"retention_days", "1"},
            {"retention_sweep_seconds", "1"},
            {"rate_limit_per_second", "0"},
            {"rate_limit_burst", "0"}},
           {{"shutdown_grace_seconds", "3600"},
            {"redis_wait_replicas", "16"},
            {"redis_wait_timeout_ms", "1999"},
            {"redis_pool_size", "1024"},
            {"redis_connect_timeout_ms", "60000"},
            {"deadline_workers", "21"},
            {"max_watchers", "100000"},
            {"max_message_bytes", "67108864"},
            {"retention_days", "3650"},
            {"retention_sweep_seconds", "86400"}},
       }) {
    absl::StatusOr<BrokerConfig> config = ConfigWith(values);
    EXPECT_TRUE(config.ok()) << config.status();
  }
}

TEST_F(BrokerFlagsTest, ANumberThatIsNotOneIsRefusedByTheParseNamingIt) {
  std::string error;
  EXPECT_FALSE(
      absl::FindCommandLineFlag("max_watchers")->ParseFrom("many", &error));
  EXPECT_THAT(error, HasSubstr("many"));
}

// (Development identity beyond loopback unforced: refused above.)
TEST_F(BrokerFlagsTest, MayListenBeyondLoopbackOnlyWithTlsOrForced) {
  absl::StatusOr<BrokerConfig> config =
      ConfigWith({{"listen", "0.0.0.0:50051"},
                  {"tls_cert_file", "certs/server.pem"},
                  {"tls_key_file", "certs/server.key"},
                  {"tls_client_ca_file", "certs/ca.pem"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->warnings, IsEmpty());
  // Read later, by ReadTlsFiles.
  EXPECT_FALSE(config->options.tls.has_value());

  config = ConfigWith(
      {{"listen", "0.0.0.0:50051"}, {"insecure_allow_remote", "true"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->options.allow_remote_development_identity);
}

TEST_F(BrokerFlagsTest, FlagsThatDoNothingTogetherAreWarnedOf) {
  absl::StatusOr<BrokerConfig> config =
      ConfigWith({{"insecure_allow_remote", "true"},
                  {"tls_cert_file", "certs/server.pem"},
                  {"tls_key_file", "certs/server.key"},
                  {"tls_client_ca_file", "certs/ca.pem"},
                  {"redis_master_name", "slussen-east"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(
      config->warnings,
      ElementsAre("--insecure_allow_remote has no effect with mutual TLS: "
                  "identities come from client certificates only",
                  "--redis_master_name=slussen-east has no effect without "
                  "--redis_sentinels: the primary is --redis"));
}

// A file with `content` in a directory of the test's, removed at its end.
class TestFile {
 public:
  TestFile(absl::string_view name, absl::string_view content)
      : path_(absl::StrCat(::testing::TempDir(), "broker_flags_", getpid(), "_",
                           name)) {
    std::ofstream(path_, std::ios::binary) << content;
    chmod(path_.c_str(), 0600);
  }
  ~TestFile() { unlink(path_.c_str()); }
  TestFile(const TestFile&) = delete;
  TestFile& operator=(const TestFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ReadTlsFilesTest, ReadsTheThreeFiles) {
  const TestFile cert("cert.pem", "CERT");
  const TestFile key("key.pem", "KEY");
  const TestFile ca("ca.pem", "CA");
  absl::StatusOr<service::TlsMaterial> material =
      ReadTlsFiles({.cert_file = cert.path(),
                    .key_file = key.path(),
                    .client_ca_file = ca.path()});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_EQ(material->certificate_chain_pem, "CERT");
  EXPECT_EQ(material->private_key_pem, "KEY");
  EXPECT_EQ(material->client_ca_pem, "CA");
}

TEST(ReadTlsFilesTest, AFileThatCannotBeReadOrIsEmptyIsRefusedNamingIt) {
  const TestFile cert("cert.pem", "CERT");
  const TestFile empty("empty.pem", "");
  const std::string missing = ::testing::TempDir() + "no/such/ca.pem";
  absl::StatusOr<service::TlsMaterial> material =
      ReadTlsFiles({.cert_file = cert.path(),
                    .key_file = empty.path(),
                    .client_ca_file = missing});
  ASSERT_FALSE(material.ok());
  EXPECT_THAT(material.status().message(),
              HasSubstr("--tls_key_file=" + empty.path() +
                        " is empty or cannot be read"));
  EXPECT_EQ(RefusalExitStatus(material.status()), 2);

  material = ReadTlsFiles({.cert_file = cert.path(),
                           .key_file = cert.path(),
                           .client_ca_file = missing});
  ASSERT_FALSE(material.ok());
  EXPECT_THAT(material.status().message(),
              HasSubstr("--tls_client_ca_file=" + missing));
  EXPECT_EQ(RefusalExitStatus(material.status()), 2);
}

}  // namespace
}  // namespace slussen::server
