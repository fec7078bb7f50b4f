#include "clients/cli/coordinator_commands.h"

#include <chrono>
#include <memory>
#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "broker/core/model/status_macros.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

std::string Region(const CliContext& context) {
  return absl::StrCat("regions/", context.RegionOr(""));
}

int PrintClock(const CliContext& context, const v1::Clock& clock) {
  if (context.json) {
    PrintJson(context, clock);
    return kExitOk;
  }
  std::ostream& out = *context.out;
  out << clock.name() << "  "
      << ShortName<v1::ClockKind>(clock.kind(), "CLOCK_KIND_") << "  "
      << ShortName<v1::ClockState>(clock.state(), "CLOCK_STATE_") << "\n";
  out << absl::StrFormat("  %-18s%s\n", "referral", clock.referral());
  out << absl::StrFormat("  %-18s%s\n", "awaits",
                         clock.awaited_organisation().empty()
                             ? "(not assigned yet)"
                             : clock.awaited_organisation());
  out << absl::StrFormat("  %-18s%s\n", "started",
                         FormatTime(clock.start_time()));
  out << absl::StrFormat("  %-18s%s\n", "due", DeadlineText(clock.due_time()));
  out << absl::StrFormat("  %-18s%s%s\n", "warning",
                         FormatTime(clock.warn_time()),
                         clock.warned() ? " (given)" : "");
  if (clock.has_stop_time()) {
    out << absl::StrFormat("  %-18s%s\n", "stopped",
                           FormatTime(clock.stop_time()));
  }
  if (clock.escalation_level() > 0) {
    out << absl::StrFormat("  %-18s%s\n", "escalated",
                           clock.escalation_level() == 1
                               ? "to the provider"
                               : "to the provider and the coordinator");
  }
  for (const v1::ClockPause& pause : clock.pauses()) {
    out << absl::StrFormat(
        "  %-18s%s .. %s  %s\n", "paused", FormatTime(pause.start_time()),
        pause.has_end_time() ? FormatTime(pause.end_time()) : "now",
        ShortName<v1::DelayCause>(pause.cause(), "DELAY_CAUSE_"));
  }
  return kExitOk;
}

absl::StatusOr<int> Worklist(const CliContext& context) {
  const CliArgs& args = *context.args;
  v1::ListWorklistRequest request;
  request.set_parent(Region(context));
  request.set_provider(args.Get("provider"));
  request.set_referring_organisation(args.Get("from"));
  for (const std::string& text : args.GetAll("kind")) {
    ASSIGN_OR_RETURN(
        const v1::ReferralKind kind,
        ParseEnum<v1::ReferralKind>("kind", text, "REFERRAL_KIND_"));
    request.add_kinds(kind);
  }
  if (const std::string hours = args.Get("due-within-hours"); !hours.empty()) {
    int n = 0;
    if (!absl::SimpleAtoi(hours, &n) || n < 0) {
      return absl::InvalidArgumentError(
          "--due-within-hours must be a number of hours");
    }
    request.mutable_due_within()->set_seconds(int64_t{n} * 3600);
  }
  ASSIGN_OR_RETURN(const int page_size, PageSize(args));
  request.set_page_size(page_size);
  v1::ListWorklistResponse combined;
  const grpc::Status status = ListAllPages(
      context, context.coordinator,
      &v1::CoordinatorService::StubInterface::ListWorklist, request, &combined);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, combined);
    return kExitOk;
  }
  std::ostream& out = *context.out;
  if (!context.quiet) {
    out << absl::StrFormat("%-22s %-25s %-22s %-20s %s\n", "LATENESS", "DUE",
                           "AWAITED", "FROM", "WHAT, CLOCK");
  }
  for (const v1::WorklistItem& item : combined.items()) {
    // The broker's now: the due time plus the lateness it computed.
    const google::protobuf::Timestamp& due = item.clock().due_time();
    google::protobuf::Timestamp now = due;
    now.set_seconds(due.seconds() + item.lateness().seconds());
    if (context.quiet) {
      out << item.clock().name() << "\n";
      continue;
    }
    out << absl::StrFormat(
        "%-22s %-25s %-22s %-20s %s, %s\n", LatenessText(due, now),
        DeadlineText(due),
        item.awaited_organisation().empty() ? "-" : item.awaited_organisation(),
        item.clock().referring_organisation(), item.awaited_action(),
        item.clock().name());
  }
  return kExitOk;
}

absl::StatusOr<int> Clocks(const CliContext& context,
                           const std::vector<std::string>& words) {
  const std::string command = words.size() > 1 ? words[1] : "";
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::Clock clock;
  grpc::Status status;
  if (command == "get") {
    v1::GetClockRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(rest, "clocks get"));
    status = context.coordinator->GetClock(&call, request, &clock);
  } else if (command == "pause") {
    v1::PauseClockRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(rest, "clocks pause"));
    ASSIGN_OR_RETURN(const std::string cause, Required(*context.args, "cause"));
    ASSIGN_OR_RETURN(const v1::DelayCause parsed,
                     ParseEnum<v1::DelayCause>("cause", cause, "DELAY_CAUSE_"));
    request.set_cause(parsed);
    request.set_note(context.args->Get("note"));
    status = context.coordinator->PauseClock(&call, request, &clock);
  } else if (command == "resume") {
    v1::ResumeClockRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(rest, "clocks resume"));
    status = context.coordinator->ResumeClock(&call, request, &clock);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown clocks command \"", command, "\""));
  }
  if (!status.ok()) return PrintStatus(context, status);
  return PrintClock(context, clock);
}

absl::StatusOr<int> Reports(const CliContext& context,
                            const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  const std::string command = words.size() > 1 ? words[1] : "";
  grpc::ClientContext call;
  context.Prepare(&call);
  std::ostream& out = *context.out;
  if (command == "queues") {
    v1::GetQueueOverviewRequest request;
    request.set_parent(Region(context));
    v1::QueueOverview overview;
    const grpc::Status status =
        context.coordinator->GetQueueOverview(&call, request, &overview);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, overview);
      return kExitOk;
    }
    out << absl::StrFormat("%-34s %-5s %6s %-19s %-15s %-6s %-16s %s\n",
                           "ACTIVITY", "AREA", "LENGTH", "OLDEST WAIT SINCE",
                           "ESTIMATED WAIT", "STALE", "PEAK IN 12 WEEKS",
                           "WARNING FROM");
    for (const v1::QueueSummary& q : overview.queues()) {
      const v1::ShortfallForecast& f = q.forecast();
      const std::string warning =
          f.has_warning_week()
              ? absl::StrFormat("%04d-%02d-%02d (over %d weeks)",
                                f.warning_week().year(),
                                f.warning_week().month(),
                                f.warning_week().day(), f.warning_weeks())
              : "-";
      out << absl::StrFormat(
          "%-34s %-5s %6d %-19s %-15s %-6d %-16s %s\n", q.activity_type(),
          q.area(), q.length(), FormatTime(q.oldest_wait_start_time()),
          q.has_estimated_wait()
              ? absl::StrCat(q.estimated_wait().seconds() / 86400, " days")
              : "unknown",
          q.stale_offerings(),
          f.peak_wait_unbounded() ? std::string("unbounded")
                                  : absl::StrCat(f.peak_wait_weeks(), " weeks"),
          warning);
    }
    return kExitOk;
  }
  ASSIGN_OR_RETURN(const std::string from_text, Required(args, "from"));
  ASSIGN_OR_RETURN(const std::string to_text, Required(args, "to"));
  ASSIGN_OR_RETURN(const v1::Date from, ParseDate("from", from_text));
  ASSIGN_OR_RETURN(const v1::Date to, ParseDate("to", to_text));
  if (command == "response-times") {
    v1::GetResponseTimeStatisticsRequest request;
    request.set_parent(Region(context));
    absl::TimeZone zone;
    absl::LoadTimeZone("Europe/Stockholm", &zone);
    const auto instant = [&](const v1::Date& d, int add_days) {
      google::protobuf::Timestamp t;
      t.set_seconds(absl::ToUnixSeconds(absl::FromCivil(
          absl::CivilDay(d.year(), d.month(), d.day()) + add_days, zone)));
      return t;
    };
    *request.mutable_start_time() = instant(from, 0);
    *request.mutable_end_time() = instant(to, 1);  // --to is inclusive
    v1::ResponseTimeStatistics statistics;
    const grpc::Status status = context.coordinator->GetResponseTimeStatistics(
        &call, request, &statistics);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, statistics);
      return kExitOk;
    }
    out << absl::StrFormat("%-24s %-34s %6s %10s %10s %s\n", "PARTY", "CLOCK",
                           "CLOCKS", "MEDIAN", "P90", "BREACHED");
    for (const v1::ResponseTimeRow& row : statistics.rows()) {
      out << absl::StrFormat(
          "%-24s %-34s %6d %9.1fh %9.1fh %5.1f %%\n", row.party(),
          ShortName<v1::ClockKind>(row.clock_kind(), "CLOCK_KIND_"),
          row.clocks(), row.median().seconds() / 3600.0,
          row.p90().seconds() / 3600.0, 100 * row.breach_rate());
    }
    return kExitOk;
  }
  if (command == "outcomes") {
    v1::GetOutcomeReportRequest request;
    request.set_parent(Region(context));
    *request.mutable_start_date() = from;
    *request.mutable_end_date() = to;
    request.set_activity_type(args.Get("activity"));
    const bool csv = args.Get("format") == "csv";
    v1::OutcomeReport report;
    const grpc::Status status =
        context.coordinator->GetOutcomeReport(&call, request, &report);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, report);
    } else {
      // The report is its CSV: semicolon-separated, a header row per part.
      out << (csv ? report.csv()
                  : absl::StrReplaceAll(report.csv(), {{";", "\t"}}));
    }
    return kExitOk;
  }
  if (command == "sus") {
    v1::ExportSusRegistrationsRequest request;
    request.set_parent(Region(context));
    *request.mutable_start_date() = from;
    *request.mutable_end_date() = to;
    request.set_offering(args.Get("offering"));
    v1::SusExport export_;
    const grpc::Status status =
        context.coordinator->ExportSusRegistrations(&call, request, &export_);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, export_);
    } else {
      // The registrations (or the monthly counts) as their CSV, for the
      // deltagaransvarig's spreadsheet or SUS.
      out << (args.Flag("monthly") ? export_.monthly_csv() : export_.csv());
    }
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown reports command \"", command, "\""));
}

absl::StatusOr<int> Events(const CliContext& context,
                           const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  const std::string command = words.size() > 1 ? words[1] : "";
  std::vector<v1::EventType> types;
  for (const std::string& text : args.GetAll("type")) {
    ASSIGN_OR_RETURN(const v1::EventType type,
                     ParseEnum<v1::EventType>("type", text, "EVENT_TYPE_"));
    types.push_back(type);
  }
  const auto print = [&](const v1::Event& e, const std::string& token) {
    *context.out << absl::StrFormat(
        "%s  %-24s %s%s%s\n", FormatTime(e.time()),
        ShortName<v1::EventType>(e.type(), "EVENT_TYPE_"), e.referral(),
        e.clock().empty() ? "" : absl::StrCat("  ", e.clock()),
        token.empty() ? "" : absl::StrCat("  resume=", token));
  };
  if (command == "watch") {
    v1::WatchEventsRequest request;
    request.set_parent(absl::StrCat("regions/", context.RegionOr("-")));
    for (v1::EventType t : types) request.add_types(t);
    request.set_resume_token(args.Get("resume-token"));
    grpc::ClientContext call;
    context.Prepare(&call);
    call.set_deadline(std::chrono::system_clock::time_point::max());
    std::unique_ptr<grpc::ClientReaderInterface<v1::WatchEventsResponse>>
        reader = context.events->WatchEvents(&call, request);
    v1::WatchEventsResponse response;
    // JSON Lines with --json: each line the event and its resume token.
    while (reader->Read(&response)) {
      if (context.json) {
        PrintJsonLine(context, response);
      } else {
        print(response.event(), response.resume_token());
      }
      context.out->flush();
      // Nobody reads any more (a closed pipe): the watch is over.
      if (!context.out->good()) {
        call.TryCancel();
        break;
      }
    }
    const grpc::Status status = reader->Finish();
    if (!context.out->good()) return kExitOk;
    if (!status.ok()) return PrintStatus(context, status);
    return kExitOk;
  }
  if (command == "list") {
    v1::ListEventsRequest request;
    request.set_parent(Region(context));
    for (v1::EventType t : types) request.add_types(t);
    request.set_referral(args.Get("referral"));
    ASSIGN_OR_RETURN(const int page_size, PageSize(args));
    request.set_page_size(page_size);
    v1::ListEventsResponse combined;
    const grpc::Status status = ListAllPages(
        context, context.events, &v1::EventService::StubInterface::ListEvents,
        request, &combined);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, combined);
      return kExitOk;
    }
    for (const v1::Event& e : combined.events()) print(e, "");
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown events command \"", command, "\""));
}

}  // namespace

int RunCoordinatorCommand(const CliContext& context,
                          const std::vector<std::string>& words) {
  const std::string& resource = words[0];
  absl::StatusOr<int> exit_code =
      resource == "worklist"
          ? (words.size() == 1
                 ? Worklist(context)
                 : absl::InvalidArgumentError("`worklist` takes no arguments"))
      : resource == "clocks"  ? Clocks(context, words)
      : resource == "reports" ? Reports(context, words)
                              : Events(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli
