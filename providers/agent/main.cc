// slussen-provider-agent: runs beside a provider's own booking system and
// keeps the provider's capacity in Slussen as its schedule says.
//
//   slussen-provider-agent --server=broker.example:50051
//       --certs=/etc/slussen --org=halsosam-halmstad
//       --offering=providers/halsosam-halmstad/offerings/kom-igang
//       --schedule=/var/lib/booking/kom-igang.ics
//
// (one command line: a backslash at the end of a // comment would continue
// the comment onto the next line, which GCC's -Wcomment refuses).
//
// It reads the schedule (providers/agent/schedule.h: iCalendar or CSV),
// publishes the capacity it gives, watches the file and publishes again
// when it changes, and publishes again before the capacity would go stale
// (half the offering's stale_after_days). A change that would drop below
// what is taken is refused, naming the cohort, and nothing is published;
// so is a schedule it cannot read. Logs are JSON lines on stderr. --once
// publishes (or finds nothing to do) and exits: 0 done, 1 refused.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/service/json_log.h"
#include "broker/service/program.h"
#include "clients/cli/cli_channel.h"
#include "clients/cli/cli_context.h"
#include "providers/agent/schedule.h"
#include "slussen/v1/provider_service.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "the broker, HOST:PORT");
ABSL_FLAG(std::string, offering, "",
          "required: the offering to keep current, "
          "providers/{provider}/offerings/{offering}");
ABSL_FLAG(std::string, schedule, "",
          "required: the schedule file, iCalendar (.ics) or CSV");
ABSL_FLAG(std::string, certs, "",
          "a `./dev certs` directory: DIR/ca.pem and the provider's "
          "certificate DIR/provider-<org>.pem with its key");
ABSL_FLAG(std::string, tls_ca_file, "", "the CA that signed the broker's");
ABSL_FLAG(std::string, tls_cert_file, "", "the provider's certificate, PEM");
ABSL_FLAG(std::string, tls_key_file, "", "its private key, PEM");
ABSL_FLAG(std::string, org, "",
          "the provider's organisation: picks the certificate with --certs; "
          "without TLS, the development identity");
ABSL_FLAG(bool, once, false,
          "publish once (or find nothing to do) and exit: 0 done, 1 refused");
ABSL_FLAG(int, poll_seconds, 5,
          "how often the schedule file is looked at, 1..3600");
ABSL_FLAG(int, timeout_seconds, 10, "give up a call after this long");

namespace {

namespace v1 = ::slussen::v1;
using slussen::service::Log;
using slussen::service::LogLevel;

absl::Status StatusOf(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

class Agent {
 public:
  Agent(std::shared_ptr<grpc::Channel> channel, bool tls, std::string org)
      : stub_(v1::ProviderDirectory::NewStub(std::move(channel))),
        tls_(tls),
        org_(std::move(org)) {}

  // One look: read the schedule, compare, publish if it differs or is due
  // for a refresh. OK when published or nothing was to do.
  absl::Status Look(const std::string& offering_name, const std::string& path,
                    bool changed) {
    absl::StatusOr<std::string> text =
        slussen::cli::ReadFileText("--schedule", path);
    if (!text.ok()) return text.status();
    absl::StatusOr<slussen::agent::Schedule> schedule =
        slussen::agent::ParseSchedule(*text);
    if (!schedule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", schedule.status().message()));
    }
    grpc::ClientContext get_call;
    Prepare(get_call);
    v1::GetOfferingRequest get;
    get.set_name(offering_name);
    v1::Offering offering;
    if (grpc::Status s = stub_->GetOffering(&get_call, get, &offering);
        !s.ok()) {
      return StatusOf(s);
    }
    absl::TimeZone zone;
    if (!absl::LoadTimeZone("Europe/Stockholm", &zone)) {
      zone = absl::UTCTimeZone();
    }
    const absl::Time now = absl::Now();
    absl::StatusOr<v1::Capacity> wanted = slussen::agent::CapacityFor(
        *schedule, offering, absl::ToCivilDay(now, zone));
    if (!wanted.ok()) return wanted.status();
    const bool same =
        slussen::agent::SameCapacity(offering.capacity(), *wanted);
    if (same && !slussen::agent::DueForRefresh(offering, now)) {
      if (changed) {
        Log(LogLevel::kInfo, "schedule read; capacity already as it says",
            {{"offering", offering_name}});
      }
      return absl::OkStatus();
    }
    grpc::ClientContext call;
    Prepare(call);
    v1::PublishCapacityRequest publish;
    publish.set_offering(offering_name);
    *publish.mutable_capacity() = *wanted;
    publish.set_etag(offering.etag());
    v1::Offering published;
    if (grpc::Status s = stub_->PublishCapacity(&call, publish, &published);
        !s.ok()) {
      return StatusOf(s);
    }
    Log(LogLevel::kInfo,
        same ? "capacity published again (before stale)" : "capacity published",
        {{"offering", offering_name},
         {"cohorts", published.capacity().cohorts().cohorts_size()},
         {"places", published.capacity().places().total()},
         {"cases", published.capacity().caseload().max_open_cases()}});
    return absl::OkStatus();
  }

 private:
  void Prepare(grpc::ClientContext& call) const {
    if (!tls_) {
      call.AddMetadata("x-slussen-organisation", org_);
      call.AddMetadata("x-slussen-role", "provider");
    }
    call.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::seconds(absl::GetFlag(FLAGS_timeout_seconds)));
  }

  std::unique_ptr<v1::ProviderDirectory::Stub> stub_;
  const bool tls_;
  const std::string org_;
};

}  // namespace

int main(int argc, char** argv) {
  slussen::service::SetProgramUsage(
      "slussen-provider-agent", "providers/agent/main.cc",
      "keeps a provider's capacity in Slussen as its schedule file (iCalendar "
      "or CSV) says.\n\n  slussen-provider-agent --offering=providers/P/"
      "offerings/O --schedule=FILE [--certs=DIR --org=ORG] [--once]\n\n"
      "Every flag also comes from SLUSSEN_AGENT_<FLAG>.");
  if (!slussen::service::ApplyEnvironment("SLUSSEN_AGENT_",
                                          "providers/agent/main.cc", {},
                                          /*refuse_unknown=*/true)) {
    return 2;
  }
  slussen::service::AcceptShortHelp(argc, argv);
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return slussen::service::Fail(
        "unexpected argument",
        absl::InvalidArgumentError(absl::StrCat(
            "\"", rest[1], "\": every setting is a flag (--help)")));
  }
  const std::string offering = absl::GetFlag(FLAGS_offering);
  const std::string path = absl::GetFlag(FLAGS_schedule);
  const int poll = absl::GetFlag(FLAGS_poll_seconds);
  if (offering.empty() || path.empty()) {
    return slussen::service::Fail(
        "cannot start",
        absl::InvalidArgumentError("--offering and --schedule are required"));
  }
  if (poll < 1 || poll > 3600) {
    return slussen::service::Fail(
        "cannot start",
        absl::InvalidArgumentError("--poll_seconds must be 1..3600"));
  }
  slussen::cli::TlsFiles tls;
  tls.ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  const std::string org = absl::GetFlag(FLAGS_org);
  if (const std::string dir = absl::GetFlag(FLAGS_certs); !dir.empty()) {
    if (org.empty()) {
      return slussen::service::Fail(
          "cannot start",
          absl::InvalidArgumentError(
              "--certs needs --org to pick DIR/provider-<org>.pem"));
    }
    if (tls.ca_file.empty()) tls.ca_file = absl::StrCat(dir, "/ca.pem");
    if (tls.cert_file.empty()) {
      tls.cert_file = absl::StrCat(dir, "/provider-", org, ".pem");
      tls.key_file = absl::StrCat(dir, "/provider-", org, ".key");
    }
  }
  if (!tls.enabled() && org.empty()) {
    return slussen::service::Fail(
        "cannot start",
        absl::InvalidArgumentError(
            "without TLS, --org names the provider (development mode)"));
  }
  // Watching, SIGTERM and SIGINT end it cleanly: blocked before gRPC starts
  // its threads, which inherit the block.
  const bool once = absl::GetFlag(FLAGS_once);
  sigset_t signals;
  if (!once) signals = slussen::service::BlockTerminationSignals();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      slussen::cli::MakeChannel(absl::GetFlag(FLAGS_server), tls);
  if (!channel.ok()) {
    return slussen::service::Fail("cannot start", channel.status());
  }
  Agent agent(*channel, tls.enabled(), org);

  if (once) {
    const absl::Status done = agent.Look(offering, path, true);
    if (!done.ok()) {
      Log(LogLevel::kError, "not published",
          {{"offering", offering}, {"error", done.ToString()}});
      return 1;
    }
    return 0;
  }

  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  std::thread waiter([&] {
    slussen::service::AwaitTerminationSignal(signals);
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    wake.notify_all();
  });
  Log(LogLevel::kInfo, "watching the schedule",
      {{"offering", offering}, {"schedule", path}, {"poll_seconds", poll}});
  std::string last_text;
  bool last_ok = false;
  auto last_look = std::chrono::steady_clock::time_point();
  while (true) {
    const absl::StatusOr<std::string> text =
        slussen::cli::ReadFileText("--schedule", path);
    const bool changed = !text.ok() || *text != last_text;
    // A changed file, a failed look, or a minute gone (for the refresh).
    if (changed || !last_ok ||
        std::chrono::steady_clock::now() - last_look >
            std::chrono::minutes(1)) {
      const absl::Status looked = agent.Look(offering, path, changed);
      if (!looked.ok() && (changed || last_ok)) {
        Log(LogLevel::kError, "not published",
            {{"offering", offering}, {"error", looked.ToString()}});
      }
      last_ok = looked.ok();
      last_look = std::chrono::steady_clock::now();
      if (text.ok()) last_text = *text;
    }
    std::unique_lock<std::mutex> lock(mu);
    if (wake.wait_for(lock, std::chrono::seconds(poll),
                      [&] { return stopping; })) {
      break;
    }
  }
  waiter.join();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}
