#include "clients/cli/command_line.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "slussen_version.h"

namespace slussen::cli {
namespace {

FlagSpec Value(std::string name, std::string value, std::string help) {
  return {std::move(name), std::move(value), std::move(help), false};
}
FlagSpec Repeated(std::string name, std::string value, std::string help) {
  return {std::move(name), std::move(value), std::move(help), true};
}
FlagSpec Switch(std::string name, std::string help) {
  return {std::move(name), "", std::move(help), false};
}

// The flags several commands share.
FlagSpec RequestId() {
  return Value("request-id", "ID",
               "makes a retry safe: the same id with the same request is done "
               "once");
}
FlagSpec Note() { return Value("note", "TEXT", "a note kept in the history"); }
FlagSpec Etag() {
  return Value("etag", "ETAG",
               "act only if the referral is still at this version (its etag); "
               "otherwise refused");
}
FlagSpec PageSizeFlag() {
  return Value("page-size", "N", "ask for N at a time (50); all are printed");
}
FlagSpec RegionFlag(std::string help) {
  return Value("region", "NN", std::move(help));
}

// What SUS registers at the start (`at_start`) or at the end.
std::vector<FlagSpec> SusFlags(bool at_start) {
  std::vector<FlagSpec> flags = {Repeated(
      "income", "SOURCE",
      absl::StrCat("SUS: a source of income ", at_start ? "before" : "after",
                   ": employment, own-business, sickness-benefit, "
                   "sickness-compensation, activity-support, "
                   "unemployment-benefit, financial-assistance, study-support, "
                   "none, other; one or more"))};
  if (at_start) {
    flags.push_back(Value("education", "LEVEL",
                          "SUS: primary-incomplete, primary, upper-secondary, "
                          "post-secondary-short or post-secondary"));
  } else {
    flags.push_back(Value("work", "KIND",
                          "SUS: the work the participant has: unsubsidised, "
                          "subsidised, sheltered or own-business"));
    flags.push_back(Switch("studies", "SUS: the participant studies"));
    flags.push_back(Switch("af", "SUS: registered with Arbetsförmedlingen"));
  }
  return flags;
}

std::vector<FlagSpec> ProviderActionFlags(bool outcomes, bool required) {
  std::vector<FlagSpec> flags = {Note(), Etag(), RequestId()};
  if (outcomes) {
    flags.push_back(Repeated(
        "outcome", "OUTCOME",
        absl::StrCat(required ? "(required) " : "",
                     "work, studies, af-programme, own-business, "
                     "social-enterprise, sickness-compensation-granted, "
                     "sickness-benefit, new-sick-leave, programme-completed, "
                     "consent-withdrawn, other, registration-error; one or "
                     "more")));
  }
  return flags;
}

std::vector<FlagSpec> Joined(std::vector<FlagSpec> a,
                             const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<CommandSpec> MakeCommands() {
  const FlagSpec list_region = RegionFlag(
      "the region to list, or - for every region the caller may see");
  const FlagSpec subject_personnummer =
      Value("personnummer", "NUMBER",
            "the participant's personnummer (or --pseudonym)");
  const FlagSpec subject_pseudonym =
      Value("pseudonym", "PSEUDONYM",
            "the participant's pseudonym (or --personnummer)");
  return {
      // Referrals.
      {"referrals",
       "create",
       "KIND",
       false,
       "Sends a referral. `referrals create impulse --kommun=... --need=... "
       "--call-back-name=...` sends a funktionsbrevlåda impulse (no personal "
       "data, only who to call back); `referrals create --file=referral.json` "
       "sends any kind from a Referral in JSON (see clients/examples/). The "
       "region is --region, or the impulse's kommun's.",
       {Value("file", "FILE", "a slussen.v1.Referral in JSON"),
        Value("kommun", "CODE", "impulse: the kommun's four-digit code"),
        Value("need", "NEED",
              "impulse: coordinated-rehabilitation, "
              "sick-without-qualifying-income, sickness-benefit-entitlement, "
              "activity-compensation or other"),
        Value("call-back-name", "NAME", "impulse: who to call back"),
        Value("call-back-phone", "PHONE", "impulse: their phone"),
        Value("call-back-unit", "UNIT", "impulse: their unit"),
        Value("call-back-email", "EMAIL", "impulse: their e-mail"),
        RegionFlag("the region to send to (else the kommun's)"), RequestId()}},
      {"referrals",
       "import",
       "FILE",
       false,
       "Sends every row of a CSV file (UTF-8, ';' or ',') as a referral: "
       "each column a field of slussen.v1.Referral by its path "
       "(impulse.kommun_code, participant.pseudonym, activity.activity_type; "
       "docs/integrating.md, Bulk import), or region or request_id. Each row's "
       "request "
       "id comes from its cells, so running the file again imports nothing "
       "twice. Writes each row's referral or refusal to FILE.result.csv. "
       "Exit 1 if a row was refused, 130 if interrupted.",
       {Value("template", "FILE",
              "a Referral in JSON for what every row shares (the consent, "
              "the referrer); a row's cells replace its fields"),
        RegionFlag("the region to send to, unless a row's region column or "
                   "kommun says"),
        Value("result", "FILE",
              "where each row's outcome goes (FILE.result.csv)"),
        Value("parallel", "N", "rows in flight at once, 1..64 (8)")}},
      {"referrals",
       "get",
       "NAME",
       false,
       "One referral, with its history (regions/13/referrals/01J...).",
       {Switch("basic", "without the history")}},
      {"referrals",
       "list",
       "",
       false,
       "Referrals the caller may see, newest first.",
       {list_region,
        Repeated("state", "STATE", "only these states: queued, offered, ..."),
        Repeated("kind", "KIND",
                 "only these kinds: impulse, activity, rehab-service-order, "
                 "joint-mapping, team-handover"),
        Value("from", "ORG", "only those this organisation sent"),
        PageSizeFlag(),
        Value("page-token", "TOKEN",
              "start where an earlier answer's next_page_token says"),
        Switch("history", "with each referral's history")}},
      {"referrals",
       "cancel",
       "NAME",
       false,
       "Cancels a referral the caller sent.",
       {Value("reason", "REASON",
              "(required) no-longer-needed, participant-declined, "
              "sent-in-error, duplicate or other"),
        Note(), Etag(), RequestId()}},
      {"referrals", "resubmit", "NAME", false,
       "Sends a referral returned to the caller (the provider could not "
       "contact the participant, or the participant declined) back to the "
       "queue, at its old place; --note says what changed.",
       ProviderActionFlags(false, false)},
      {"referrals",
       "protect",
       "NAME",
       false,
       "Says that the participant of a referral the caller sent has protected "
       "personal data (skyddade personuppgifter): from then on only the "
       "caller and the provider holding the referral see it, and the "
       "participant's kommun is removed. --off lifts it.",
       {Value("note", "TEXT",
              "(required) why, for example the decision's date"),
        Switch("off", "lift the protection instead"),
        Value("referrer-name", "NAME",
              "the caller's contact, through whom the provider reaches the "
              "participant (required if the referral names no referrer)"),
        Value("referrer-phone", "PHONE", "the contact's phone"),
        Value("referrer-email", "EMAIL", "the contact's e-mail"), Etag(),
        RequestId()}},
      {"referrals", "contact", "NAME", false,
       "The provider made first contact with the participant.",
       ProviderActionFlags(false, false)},
      {"referrals", "start", "NAME", false,
       "The participant started; --income and --education register them in "
       "SUS.",
       Joined(ProviderActionFlags(false, false), SusFlags(true))},
      {"referrals", "deviation", "NAME", false,
       "An attendance deviation (absence, ...).",
       ProviderActionFlags(false, false)},
      {"referrals", "complete", "NAME", false,
       "The participant completed the activity; --income, --work, --studies "
       "and --af register the end in SUS.",
       Joined(ProviderActionFlags(true, false), SusFlags(false))},
      {"referrals", "exit", "NAME", false,
       "The participant left before completing (--outcome=registration-error "
       "closes a start recorded by mistake); --income, --work, --studies and "
       "--af register the end in SUS.",
       Joined(ProviderActionFlags(true, true), SusFlags(false))},
      {"referrals", "follow-up", "NAME", false,
       "Where the participant is some 90 days after completion or exit.",
       ProviderActionFlags(true, true)},
      // Offers and queues.
      {"offers",
       "list",
       "",
       false,
       "Offers to the calling provider (for a coordinator, its region's).",
       {list_region,
        Repeated("state", "STATE",
                 "only these states: held, accepted, declined, expired, "
                 "withdrawn"),
        Value("provider", "PROVIDER", "only this provider's (providers/P)"),
        PageSizeFlag()}},
      {"offers", "get", "NAME", false, "One offer.", {}},
      {"offers",
       "accept",
       "NAME",
       false,
       "Accepts a held offer.",
       {RequestId()}},
      {"offers",
       "decline",
       "NAME",
       false,
       "Declines a held offer.",
       {Value("reason", "REASON",
              "(required) no-capacity, not-eligible, could-not-contact, "
              "participant-declined or other"),
        Note(), RequestId()}},
      {"queue",
       "position",
       "REFERRAL",
       false,
       "Where a waiting referral stands, why, and its estimated start.",
       {}},
      {"queue",
       "list",
       "QUEUE",
       false,
       "A queue in order (coordinators): regions/13/queues/halsosam~13.",
       {PageSizeFlag()}},
      {"queue",
       "preview",
       "",
       false,
       "What a changed priority policy would do (coordinators), with nothing "
       "written: every waiting referral's position now and then, and per "
       "agency how many move up or down.",
       {RegionFlag("the region (else the caller's)"),
        Value("file", "FILE",
              "the candidate slussen.v1.PriorityPolicy in JSON (else the "
              "policy in force)"),
        Repeated("weight", "ORG=N",
                 "an agency's fair-share weight in the candidate, 1..100")}},
      // The directory.
      {"catalog",
       "apply",
       "FILE",
       true,
       "(admins) Loads catalogue files (text slussen.v1.Catalog): creates "
       "what is new, updates providers and offerings that differ (by the "
       "fields that differ), publishes a first capacity where none was. "
       "Prints the difference first; an activity type or agreement that "
       "differs (the broker keeps them as made) refuses the whole apply "
       "before anything is written.",
       {Switch("dry-run", "print the difference only; write nothing")}},
      {"activity-types", "list", "", false, "The activity types.", {}},
      {"providers",
       "list",
       "",
       false,
       "The providers.",
       {RegionFlag("only those serving this region")}},
      {"offerings",
       "list",
       "",
       false,
       "Offerings and their published capacity.",
       {RegionFlag("only those in this region"),
        Value("provider", "PROVIDER", "only this provider's (providers/P)"),
        Value("activity", "TYPE", "only this activity type")}},
      {"capacity",
       "publish",
       "OFFERING",
       false,
       "Publishes an offering's capacity: --places=N, --caseload=N or "
       "--file=capacity.json.",
       {Value("places", "N", "places in all"),
        Value("caseload", "N", "open cases at most"),
        Value("file", "FILE",
              "capacity in JSON: {\"cohorts\": [{\"start_date\": "
              "\"2027-01-11\", \"min_size\": 6, \"max_size\": 12}]} "
              "(clients/examples/capacity/)"),
        Value("etag", "ETAG",
              "publish only if the offering is still at this version")}},
      {"cohorts",
       "list",
       "OFFERING",
       false,
       "The cohorts an offering has published: start, size, enrolled, held, "
       "state.",
       {}},
      {"cohorts",
       "add",
       "OFFERING",
       false,
       "Adds a cohort to the offering's published ones (against its etag: "
       "a change meanwhile is refused, not overwritten).",
       {Value("start", "DATE", "(required) the start date, 2027-01-11"),
        Value("min", "N", "(required) the fewest it starts with"),
        Value("max", "N", "(required) the most it takes")}},
      {"cohorts",
       "decide",
       "COHORT",
       false,
       "Decides a cohort that did not reach its minimum: start it anyway, "
       "merge it into another, or cancel it (everyone is queued again).",
       {Value("decision", "DECISION", "(required) start, merge or cancel"),
        Value("merge-into", "COHORT", "with merge: the cohort to merge into")}},
      {"offerings",
       "update",
       "OFFERING",
       false,
       "Changes fields of an offering (its capacity: capacity publish).",
       {Repeated("set", "PATH=VALUE",
                 "a field and its new value: display_name=..., "
                 "stale_after_days=14, kommun_codes=1380|1381"),
        Value("file", "FILE", "an Offering in JSON, with --field"),
        Repeated("field", "PATH", "with --file: a field to change")}},
      {"providers",
       "update",
       "PROVIDER",
       false,
       "Changes fields of a provider.",
       {Repeated("set", "PATH=VALUE", "a field and its new value"),
        Value("file", "FILE", "a Provider in JSON, with --field"),
        Repeated("field", "PATH", "with --file: a field to change")}},
      {"agreements", "list", "", false, "The framework agreements.", {}},
      {"agreements", "get", "NAME", false, "One framework agreement.", {}},
      {"agreements",
       "create",
       "ID",
       false,
       "(admins) Adds a framework agreement (frameworkAgreements/ID).",
       {Value("file", "FILE",
              "(required) a FrameworkAgreement in JSON (clients/examples/)")}},
      {"rule-sets",
       "list",
       "",
       false,
       "The deadline rule sets, every version.",
       {}},
      {"rule-sets",
       "create",
       "ID",
       false,
       "(admins) Adds a version of a deadline rule set.",
       {Value("file", "FILE",
              "(required) a DeadlineRuleSet in JSON (clients/examples/)")}},
      // Deadlines, coordination, events.
      {"worklist",
       "",
       "",
       false,
       "Open deadline clocks due soon and overdue, overdue first (a "
       "coordinator: the region's; a provider: what awaits it; an agency: "
       "its referrals').",
       {RegionFlag("the region (else the caller's)"),
        Value("provider", "PROVIDER", "only what awaits this provider"),
        Value("from", "ORG", "only referrals this organisation sent"),
        Repeated("kind", "KIND", "only these referral kinds"),
        Value("due-within-hours", "HOURS",
              "only clocks due within this many hours"),
        PageSizeFlag()}},
      {"clocks", "get", "NAME", false, "One deadline clock.", {}},
      {"clocks",
       "pause",
       "NAME",
       false,
       "Pauses a clock for a delay nobody awaited is answerable for.",
       {Value("cause", "CAUSE", "(required) participant, provider or agency"),
        Note()}},
      {"clocks", "resume", "NAME", false, "Resumes a paused clock.", {}},
      {"reports",
       "queues",
       "",
       false,
       "Every queue of the region: length, oldest wait, estimated wait "
       "(coordinators).",
       {RegionFlag("the region (else the caller's)")}},
      {"reports",
       "response-times",
       "",
       false,
       "Response times per party and clock kind, over a period.",
       {RegionFlag("the region (else the caller's)"),
        Value("from", "DATE", "(required) the first day, 2026-11-01"),
        Value("to", "DATE", "(required) the last day, 2026-11-30")}},
      {"reports",
       "outcomes",
       "",
       false,
       "Outcomes over a period: started, completed, exits and why.",
       {RegionFlag("the region (else the caller's)"),
        Value("from", "DATE", "(required) the first day, 2026-01-01"),
        Value("to", "DATE", "(required) the last day, 2026-12-31"),
        Value("activity", "TYPE", "only this activity type"),
        Value("format", "FORMAT", "csv: semicolon-separated (else tabs)")}},
      {"reports",
       "sus",
       "",
       false,
       "The SUS registrations of a period as CSV: one row per in- and "
       "out-registration, named only where the consent allows "
       "(docs/integrating.md, SUS export). Coordinators, and providers for "
       "their own insatser.",
       {RegionFlag("the region (else the caller's)"),
        Value("from", "DATE", "(required) the first day, 2026-11-01"),
        Value("to", "DATE", "(required) the last day, 2026-11-30"),
        Value("offering", "OFFERING",
              "only this insats, providers/P/offerings/O"),
        Switch("monthly",
               "the anonymous monthly counts per insats, gender and age band "
               "instead")}},
      {"events",
       "watch",
       "",
       false,
       "Events as they happen, until interrupted; each carries the token to "
       "resume after it.",
       {list_region,
        Repeated("type", "TYPE", "only these: clock-breached, ..."),
        Value("resume-token", "TOKEN", "resume after this event")}},
      {"events",
       "list",
       "",
       false,
       "Events recorded in the region.",
       {RegionFlag("the region (else the caller's)"),
        Repeated("type", "TYPE", "only these: clock-breached, ..."),
        Value("referral", "NAME", "only this referral's"), PageSizeFlag()}},
      // Consent and privacy.
      {"consents",
       "get",
       "NAME",
       false,
       "One consent (regions/13/consents/ID).",
       {}},
      {"consents",
       "list",
       "",
       false,
       "A participant's consents.",
       {RegionFlag("the region (else the caller's)"),
        Value("pseudonym", "PSEUDONYM", "(required) the participant's")}},
      {"consents",
       "withdraw",
       "NAME",
       false,
       "Ends the participation (the referral goes to WITHDRAWN) and stops "
       "sharing; agencies and providers record it.",
       {Value("recorded-by", "HANDLE", "who took the withdrawal"),
        RequestId()}},
      {"audit",
       "list",
       "",
       false,
       "Who read or changed a participant's data (subject access); "
       "coordinators of the region and admins.",
       {RegionFlag("the region (else the caller's)"), subject_personnummer,
        subject_pseudonym}},
      {"audit",
       "verify",
       "",
       false,
       "Checks the region's audit hash chain; exit code 1 if it is broken. "
       "Prints an anchor to keep outside Redis; given an earlier one, also "
       "catches a chain rebuilt from scratch.",
       {RegionFlag("the region (else the caller's)"),
        Value("anchor", "COUNT:HASH", "an anchor an earlier verify printed")}},
      {"participants",
       "erase",
       "",
       false,
       "Erases a participant's personal data from finished referrals.",
       {RegionFlag("the region (else the caller's)"), subject_personnummer,
        subject_pseudonym,
        Value("reason", "TEXT", "(required) why, kept in the audit trail")}},
      // The program itself.
      {"health",
       "",
       "",
       false,
       "Asks the broker's health service (also on its --admin_listen port): "
       "exit code 0 when serving.",
       {Value("service", "SERVICE",
              "one service, slussen.v1.ReferralService")}},
      {"completion",
       "",
       "SHELL",
       false,
       "Prints the completion script for bash or zsh: "
       "`source <(slussctl completion bash)`.",
       {}},
      {"man",
       "",
       "",
       false,
       "Prints the man page (roff): `slussctl man | man -l -`.",
       {}},
  };
}

std::map<std::string, std::string> ResourceHelps() {
  return {
      {"referrals", "send, read, list, cancel referrals; providers' steps"},
      {"offers", "offers of places to providers: list, accept, decline"},
      {"queue",
       "where a referral stands; a queue in order; a policy's what-if"},
      {"catalog", "load the catalogue of activities and providers (admins)"},
      {"activity-types", "the activity types"},
      {"providers", "the providers: list, update"},
      {"offerings",
       "the providers' offerings and their capacity: list, "
       "update"},
      {"capacity", "publish an offering's capacity"},
      {"cohorts", "an offering's cohorts: list, add, decide"},
      {"agreements", "framework agreements (avrop): list, get, create"},
      {"rule-sets", "deadline rule sets: list, add a version (admins)"},
      {"worklist", "deadline clocks due soon and overdue, overdue first"},
      {"clocks", "deadline clocks: read, pause, resume"},
      {"reports", "queues, response times, outcomes, SUS registrations"},
      {"events", "what happened, as a list or live"},
      {"consents", "the participant's consents: read, withdraw"},
      {"audit", "who read or changed a participant's data; the chain's check"},
      {"participants", "erase a participant's personal data"},
      {"health", "is the broker serving?"},
      {"completion", "the shell completion script"},
      {"man", "the man page"},
  };
}

constexpr char kDescription[] =
    "slussctl: the command-line client of Slussen, the referral and matching "
    "broker.";

constexpr char kFooter[] = R"(
Identity: over mutual TLS (--certs, or --tls_ca_file, --tls_cert_file and
--tls_key_file) the client certificate names the caller, its organisation,
role and region; --org, --role and --region are not sent (--region still
picks the commands' region). Without them slussctl speaks plaintext
(development mode). --server, --org, --role, --region, --person, --certs
and the --tls_ flags also come from SLUSSEN_SERVER, SLUSSEN_ORG, ...,
SLUSSEN_TLS_CA_FILE.

Times are in Europe/Stockholm with the zone (CET or CEST); with --json,
RFC 3339 with the offset. Deadlines are the working day they end on.

Exit codes: 0 done (health: serving), 1 the broker refused or failed (the
status is printed), 2 usage error (nothing was sent).

`slussctl RESOURCE COMMAND --help` tells what a command takes.)";

constexpr char kLeafFooter[] =
    "Global flags (--server, --json, --certs, ...): slussctl --help";

std::string ArgumentHelp(absl::string_view argument) {
  static const auto* const helps =
      new std::map<std::string, std::string, std::less<>>{
          {"NAME", "its name, like regions/13/referrals/01J..."},
          {"REFERRAL", "the referral's name"},
          {"QUEUE", "the queue's name"},
          {"OFFERING", "the offering's name, providers/P/offerings/O"},
          {"FILE", "one or more files"},
          {"KIND", "impulse: an impulse from the flags below"},
          {"SHELL", "bash or zsh"},
          {"COHORT", "providers/P/offerings/O/cohorts/C"},
          {"PROVIDER", "providers/P"},
          {"ID", "the id in its name, 2..63 characters of [a-z0-9-]"},
      };
  const auto it = helps->find(argument);
  return it == helps->end() ? "" : it->second;
}

// The declared flags, a shared instance so the CLI11 options stay alive.
struct Parser {
  CLI::App app{kDescription, "slussctl"};
  // Per CLI11 app: its options by flag name.
  std::map<const CLI::App*, std::map<std::string, CLI::Option*>> options;
  std::map<const CLI::App*, CLI::Option*> positionals;
  std::map<const CLI::App*, const CommandSpec*> specs;
  std::map<std::string, CLI::App*> resources;
};

void AddFlags(CLI::App* app, const std::vector<FlagSpec>& flags,
              std::map<std::string, CLI::Option*>& options) {
  for (const FlagSpec& flag : flags) {
    const std::string name = absl::StrCat("--", flag.name);
    CLI::Option* option;
    if (flag.value.empty()) {
      option = app->add_flag(name, flag.help);
    } else {
      option = app->add_option(name, flag.help)->type_name(flag.value);
      if (flag.repeated) {
        option->allow_extra_args(false)->multi_option_policy(
            CLI::MultiOptionPolicy::TakeAll);
      }
    }
    options[flag.name] = option;
  }
}

std::unique_ptr<Parser> MakeParser() {
  auto parser = std::make_unique<Parser>();
  CLI::App& app = parser->app;
  // Global flags are taken anywhere; whatever nobody takes is collected
  // and refused after the parse, with a suggestion.
  app.fallthrough(true);
  app.allow_extras(true);
  app.set_help_flag("-h,--help", "this text; after a command, that command's");
  app.set_version_flag("--version", std::string("slussen ") + SLUSSEN_VERSION +
                                        " (commit " + SLUSSEN_COMMIT + ")");
  app.footer(kFooter);
  AddFlags(&app, GlobalFlags(), parser->options[&app]);
  const std::map<std::string, std::string> helps = ResourceHelps();
  for (const CommandSpec& spec : Commands()) {
    CLI::App*& resource = parser->resources[spec.resource];
    if (resource == nullptr) {
      const auto help = helps.find(spec.resource);
      resource = app.add_subcommand(spec.resource,
                                    help == helps.end() ? "" : help->second);
      resource->footer(kLeafFooter);
    }
    CLI::App* leaf = resource;
    if (!spec.command.empty()) {
      leaf = resource->add_subcommand(spec.command, spec.help);
      leaf->footer(kLeafFooter);
    } else {
      // The resource is the command: the short help in the listing, the
      // whole in its own --help.
      resource->footer(absl::StrCat(spec.help, "\n\n", kLeafFooter));
    }
    parser->specs[leaf] = &spec;
    AddFlags(leaf, spec.flags, parser->options[leaf]);
    if (!spec.arguments.empty()) {
      CLI::Option* words = leaf->add_option(spec.arguments)
                               ->description(ArgumentHelp(spec.arguments));
      if (spec.many_arguments) {
        words->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
            ->expected(0, CLI::detail::expected_max_vector_size)
            ->allow_extra_args(true);
      }
      parser->positionals[leaf] = words;
    }
  }
  return parser;
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> FlagNames(const std::vector<FlagSpec>& flags) {
  std::vector<std::string> names;
  for (const FlagSpec& flag : flags) names.push_back(flag.name);
  return names;
}

// The usage error for what nobody took: `extras` in the order given;
// `resource` and `leaf` what was chosen (either may be null).
absl::Status Refuse(const Parser& parser,
                    const std::vector<std::string>& extras,
                    const CLI::App* resource, const CLI::App* leaf) {
  const std::string& first = extras.front();
  if (absl::StartsWith(first, "-")) {
    const std::string name(absl::StripLeadingAsciiWhitespace(
        absl::string_view(first).substr(0, first.find('='))));
    std::vector<std::string> candidates = FlagNames(GlobalFlags());
    std::string where = "slussctl";
    if (leaf != nullptr) {
      const CommandSpec& spec = *parser.specs.at(leaf);
      for (const std::string& flag : FlagNames(spec.flags)) {
        candidates.push_back(flag);
      }
      where = spec.Path();
    }
    const std::string nearest = NearestWord(
        absl::StripPrefix(absl::StripPrefix(name, "-"), "-"), candidates);
    return absl::InvalidArgumentError(absl::StrCat(
        "`", where, "` takes no flag ", name,
        nearest.empty() ? "" : absl::StrCat("; did you mean --", nearest, "?"),
        " (slussctl ", where == "slussctl" ? "" : absl::StrCat(where, " "),
        "--help lists its flags)"));
  }
  if (resource == nullptr) {
    std::vector<std::string> names;
    for (const auto& [name, app] : parser.resources) names.push_back(name);
    const std::string nearest = NearestWord(first, names);
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command \"", first, "\"",
        nearest.empty() ? ""
                        : absl::StrCat("; did you mean \"", nearest, "\"?"),
        " (slussctl --help lists the commands)"));
  }
  if (leaf == nullptr) {
    std::vector<std::string> names;
    for (const CLI::App* sub : resource->get_subcommands({})) {
      names.push_back(sub->get_name());
    }
    const std::string nearest = NearestWord(first, names);
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command \"", resource->get_name(), " ", first, "\"",
        nearest.empty()
            ? absl::StrCat("; it is one of ", absl::StrJoin(names, ", "))
            : absl::StrCat("; did you mean \"", resource->get_name(), " ",
                           nearest, "\"?")));
  }
  const CommandSpec& spec = *parser.specs.at(leaf);
  return absl::InvalidArgumentError(absl::StrCat(
      "`", spec.Path(), "` takes ",
      spec.arguments.empty() ? "no arguments"
                             : absl::StrCat("one ", spec.arguments),
      "; got also \"", first, "\""));
}

}  // namespace

std::string CommandSpec::Path() const {
  return command.empty() ? resource : absl::StrCat(resource, " ", command);
}

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* const flags = new std::vector<FlagSpec>{
      Value("server", "HOST:PORT", "the broker (127.0.0.1:50051)"),
      Value("org", "ORG", "the calling organisation, kommun-halmstad-eb"),
      Value("role", "ROLE",
            "agency (the default), provider, coordinator or "
            "admin"),
      Value("region", "NN",
            "the caller's region, a two-digit län code; also the commands' "
            "region, unless given again after the command"),
      Value("person", "HANDLE", "the staff handle recorded with actions"),
      Value("certs", "DIR",
            "a `./dev certs` directory: DIR/ca.pem and the client "
            "certificate DIR/<role>-<org>.pem with its key"),
      Value("tls_ca_file", "FILE",
            "the CA certificate that signed the "
            "broker's"),
      Value("tls_cert_file", "FILE", "the client certificate, PEM"),
      Value("tls_key_file", "FILE", "its private key, PEM"),
      Switch("json", "print the whole answer as JSON; streams as JSON Lines"),
      Switch("quiet", "print only names, one a line"),
      Value("timeout", "SECONDS", "give up after this long (10)"),
  };
  return *flags;
}

const std::vector<CommandSpec>& Commands() {
  static const auto* const commands =
      new std::vector<CommandSpec>(MakeCommands());
  return *commands;
}

std::string NearestWord(absl::string_view word,
                        const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

absl::StatusOr<CommandLine> ParseCommandLine(int argc,
                                             const char* const* argv) {
  const std::unique_ptr<Parser> parser = MakeParser();
  CLI::App& app = parser->app;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return CommandLine{app.help(), {}, ""};
  } catch (const CLI::CallForVersion& version) {
    return CommandLine{absl::StrCat(version.what(), "\n"), {}, ""};
  } catch (const CLI::ParseError& error) {
    return absl::InvalidArgumentError(error.what());
  }
  const CLI::App* resource = nullptr;
  const CLI::App* leaf = nullptr;
  if (!app.get_subcommands().empty()) {
    resource = app.get_subcommands().front();
    if (!resource->get_subcommands().empty()) {
      leaf = resource->get_subcommands().front();
    } else if (parser->specs.count(resource) > 0) {
      leaf = resource;
    }
  }
  std::vector<std::string> extras;
  for (const std::string& extra : app.remaining(true)) {
    if (extra != "--") extras.push_back(extra);
  }
  if (!extras.empty()) return Refuse(*parser, extras, resource, leaf);
  if (resource == nullptr) {
    return absl::InvalidArgumentError(
        "say what to do: slussctl RESOURCE COMMAND [flags] (slussctl --help "
        "lists them)");
  }
  if (leaf == nullptr) {
    std::vector<std::string> names;
    for (const CLI::App* sub : resource->get_subcommands({})) {
      names.push_back(sub->get_name());
    }
    return absl::InvalidArgumentError(
        absl::StrCat("`slussctl ", resource->get_name(),
                     "` needs a command: ", absl::StrJoin(names, ", "),
                     " (slussctl ", resource->get_name(), " --help)"));
  }

  std::vector<std::string> words = {resource->get_name()};
  if (leaf != resource) words.push_back(leaf->get_name());
  if (const auto it = parser->positionals.find(leaf);
      it != parser->positionals.end()) {
    for (const std::string& word : it->second->results()) {
      words.push_back(word);
    }
  }
  std::multimap<std::string, std::string, std::less<>> flags;
  std::set<std::string, std::less<>> declared;
  // The command's own flags first: its --region wins over the global one,
  // which is then kept as "global-region" (the caller's, for identity).
  for (const CLI::App* level : {leaf, static_cast<const CLI::App*>(&app)}) {
    for (const auto& [flag_name, option] : parser->options[level]) {
      const auto own = parser->options[leaf].find(flag_name);
      const bool shadowed = level == &app &&
                            own != parser->options[leaf].end() &&
                            own->second->count() > 0;
      const std::string name =
          shadowed ? absl::StrCat("global-", flag_name) : flag_name;
      declared.insert(name);
      if (level == &app) declared.insert(absl::StrCat("global-", flag_name));
      if (option->count() == 0) continue;
      const FlagSpec* spec = nullptr;
      for (const FlagSpec& flag :
           level == &app ? GlobalFlags() : parser->specs.at(leaf)->flags) {
        if (flag.name == flag_name) spec = &flag;
      }
      if (spec->value.empty()) {
        if (option->as<bool>()) flags.emplace(name, "true");
        continue;
      }
      for (const std::string& value : option->results()) {
        flags.emplace(name, value);
      }
    }
  }
  return CommandLine{
      "", CliArgs(std::move(words), std::move(flags), std::move(declared)),
      parser->specs.at(leaf)->Path()};
}

namespace {

// The shell-neutral middle of both completion functions: from `resource`
// and `command` (the first two words that are not flags or their values),
// sets `flags` (the command's) and `candidates` (the words that may come
// next), and `global`.
std::string CompletionTable() {
  std::string global;
  for (const FlagSpec& flag : GlobalFlags()) {
    absl::StrAppend(&global, global.empty() ? "" : " ", "--", flag.name);
  }
  absl::StrAppend(&global, " --help --version");
  std::string cases;
  std::map<std::string, std::vector<std::string>> commands_of;
  std::vector<std::string> resources;
  for (const CommandSpec& spec : Commands()) {
    if (commands_of.count(spec.resource) == 0) {
      resources.push_back(spec.resource);
    }
    std::vector<std::string>& commands = commands_of[spec.resource];
    if (!spec.command.empty()) commands.push_back(spec.command);
    std::vector<std::string> flags;
    for (const FlagSpec& flag : spec.flags) {
      flags.push_back(absl::StrCat("--", flag.name));
    }
    // A command-less resource matches with its arguments typed too.
    absl::StrAppend(&cases, "    \"", spec.resource, " ", spec.command,
                    spec.command.empty() ? "\"*) " : "\") ", "flags=\"",
                    absl::StrJoin(flags, " "), "\"; candidates=\"",
                    spec.resource == "completion" ? "bash zsh" : "", "\" ;;\n");
  }
  for (const auto& [resource, commands] : commands_of) {
    if (commands.empty()) continue;
    absl::StrAppend(&cases, "    \"", resource, " \") candidates=\"",
                    absl::StrJoin(commands, " "), "\" ;;\n");
  }
  return absl::StrCat(
      "  local global=\"", global, "\" flags=\"\" candidates=\"\"\n",
      "  case \"$resource $command\" in\n", cases, "  esac\n",
      "  if [ -z \"$candidates\" ] && [ -z \"$resource\" ]; then\n",
      "    candidates=\"", absl::StrJoin(resources, " "), "\"\n  fi\n");
}

// The loop that finds `resource` and `command` among `$1`..`$n`; words
// (shell syntax) lists the words before the cursor.
std::string FindCommandWords(absl::string_view words) {
  std::string valued = " ";
  std::set<std::string> seen;
  for (const FlagSpec& flag : GlobalFlags()) {
    if (!flag.value.empty() && seen.insert(flag.name).second) {
      absl::StrAppend(&valued, "--", flag.name, " ");
    }
  }
  for (const CommandSpec& spec : Commands()) {
    for (const FlagSpec& flag : spec.flags) {
      if (!flag.value.empty() && seen.insert(flag.name).second) {
        absl::StrAppend(&valued, "--", flag.name, " ");
      }
    }
  }
  return absl::StrCat(
      "  local resource=\"\" command=\"\" skip=\"\" word\n"
      "  local valued=\"",
      valued, "\"\n  for word in ", words,
      "; do\n"
      "    if [ -n \"$skip\" ]; then skip=\"\"; continue; fi\n"
      "    case $word in\n"
      "      --*=*) continue ;;\n"
      "      -*) case $valued in *\" $word \"*) skip=1 ;; esac; continue ;;\n"
      "    esac\n"
      "    if [ -z \"$resource\" ]; then resource=$word\n"
      "    elif [ -z \"$command\" ]; then command=$word\n"
      "    fi\n"
      "  done\n");
}

}  // namespace

std::string BashCompletion() {
  return absl::StrCat(
      "# bash completion for slussctl; generated by `slussctl completion "
      "bash`.\n"
      "_slussctl() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]}\n",
      FindCommandWords("\"${COMP_WORDS[@]:1:COMP_CWORD-1}\""),
      CompletionTable(),
      "  case $cur in\n"
      "    -*) COMPREPLY=($(compgen -W \"$global $flags\" -- \"$cur\")) ;;\n"
      "    *) COMPREPLY=($(compgen -W \"$candidates\" -- \"$cur\")) ;;\n"
      "  esac\n"
      "}\n"
      "complete -o default -F _slussctl slussctl\n");
}

std::string ZshCompletion() {
  return absl::StrCat(
      "#compdef slussctl\n"
      "# zsh completion for slussctl; generated by `slussctl completion "
      "zsh`.\n"
      "_slussctl() {\n",
      FindCommandWords("\"${(@)words[2,CURRENT-1]}\""), CompletionTable(),
      "  if [[ $PREFIX == -* ]]; then\n"
      "    compadd -- ${=global} ${=flags}\n"
      "  elif [ -n \"$candidates\" ]; then\n"
      "    compadd -- ${=candidates}\n"
      "  else\n"
      "    _files\n"
      "  fi\n"
      "}\n"
      "if [ \"$funcstack[1]\" = \"_slussctl\" ]; then\n"
      "  _slussctl \"$@\"\n"
      "else\n"
      "  compdef _slussctl slussctl\n"
      "fi\n");
}

namespace {

// Roff text: backslashes, hyphens and a dot or quote that starts a line
// escaped.
std::string Roff(absl::string_view text) {
  std::string out = absl::StrReplaceAll(
      text,
      {{"\\", "\\e"}, {"-", "\\-"}, {"\n.", "\n\\&."}, {"\n'", "\n\\&'"}});
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) {
    out = absl::StrCat("\\&", out);
  }
  return out;
}

void AppendFlags(std::string& page, const std::vector<FlagSpec>& flags) {
  for (const FlagSpec& flag : flags) {
    absl::StrAppend(
        &page, ".TP\n\\fB\\-\\-", Roff(flag.name), "\\fR",
        flag.value.empty() ? ""
                           : absl::StrCat("=\\fI", Roff(flag.value), "\\fR"),
        flag.repeated ? " (repeatable)" : "", "\n", Roff(flag.help), "\n");
  }
}

}  // namespace

std::string ManPage() {
  std::string page = absl::StrCat(
      ".TH SLUSSCTL 1 \"\" \"slussen ", SLUSSEN_VERSION,
      "\" \"Slussen\"\n.SH NAME\nslussctl \\- the command\\-line client of "
      "Slussen\n.SH SYNOPSIS\n\\fBslussctl\\fR [\\fIglobal flags\\fR] "
      "\\fIresource\\fR \\fIcommand\\fR [\\fIarguments\\fR] [\\fIflags\\fR]\n"
      ".SH DESCRIPTION\n",
      Roff(kDescription), "\n.SH GLOBAL FLAGS\n");
  AppendFlags(page, GlobalFlags());
  absl::StrAppend(&page, ".SH COMMANDS\n");
  for (const CommandSpec& spec : Commands()) {
    absl::StrAppend(&page, ".SS \"", Roff(spec.Path()),
                    spec.arguments.empty()
                        ? ""
                        : absl::StrCat(" ", spec.arguments,
                                       spec.many_arguments ? "..." : ""),
                    "\"\n", Roff(spec.help), "\n");
    AppendFlags(page, spec.flags);
  }
  absl::StrAppend(&page, ".SH NOTES\n");
  for (absl::string_view paragraph : absl::StrSplit(kFooter, "\n\n")) {
    absl::StrAppend(&page, ".PP\n", Roff(absl::StripAsciiWhitespace(paragraph)),
                    "\n");
  }
  return page;
}

}  // namespace slussen::cli
