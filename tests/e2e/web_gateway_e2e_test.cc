// slussen-web over real HTTP, in front of a real broker and Redis: every
// RPC as Connect JSON, errors, sessions and CSRF, and live events as
// Server-Sent Events.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "clients/web/connect.h"
#include "clients/web/gateway.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/referral_client.h"
#include "tests/support/sample_referrals.h"

namespace slussen::web {
namespace {

namespace pb = ::google::protobuf;
namespace v1 = ::slussen::v1;
using ::slussen::testing::BrokerHarness;
using ::slussen::testing::Identity;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kUsers[] = R"(
dev:anna   kommun-halmstad-eb  agency      13 a123 Anna Andersson
dev:lars   kommun-laholm-eb    agency      13 l234 Lars Lind
dev:sara   samordning-halland  coordinator 13 s789 Sara Berg
)";

httplib::Headers HeadersOf(const Identity& identity) {
  httplib::Headers headers = {{"x-slussen-organisation", identity.organisation},
                              {"x-slussen-role", identity.role}};
  if (!identity.region.empty()) {
    headers.emplace("x-slussen-region", identity.region);
  }
  return headers;
}

// A JSON answer as a Struct, for reading fields.
pb::Struct Parse(const std::string& json) {
  pb::Struct value;
  EXPECT_TRUE(pb::util::JsonStringToMessage(json, &value).ok()) << json;
  return value;
}

std::string Field(const pb::Struct& object, const std::string& name) {
  const auto it = object.fields().find(name);
  return it == object.fields().end() ? "" : it->second.string_value();
}

// One Server-Sent Events connection, read on a thread of its own.
class SseClient {
 public:
  struct Event {
    std::string type;  // "message" unless named
    std::string id;
    std::string data;
    bool has_id = false;  // an id line came, perhaps empty
  };

  SseClient(int port, httplib::Headers headers, std::string path)
      : client_("127.0.0.1", port) {
    client_.set_read_timeout(30, 0);
    thread_ = std::thread([this, headers, path] {
      auto result = client_.Get(
          path.c_str(), headers,
          [this](const httplib::Response& response) {
            absl::MutexLock lock(&mu_);
            status_ = response.status;
            return true;
          },
          [this](const char* data, size_t size) {
            Receive(absl::string_view(data, size));
            return !stop_.load();
          });
      absl::MutexLock lock(&mu_);
      if (result && status_ == 0) status_ = result->status;
      ended_ = true;
    });
  }

  ~SseClient() { Close(); }

  void Close() {
    stop_ = true;
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Waits until `count` events of `type` have come (or 20 s).
  std::vector<Event> WaitFor(const std::string& type, size_t count) {
    absl::MutexLock lock(&mu_);
    const auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return ended_ || Of(type).size() >= count;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    return Of(type);
  }

  int status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  std::vector<Event> Of(const std::string& type)
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    std::vector<Event> events;
    for (const Event& event : events_) {
      if (event.type == type) events.push_back(event);
    }
    return events;
  }

  void Receive(absl::string_view chunk) {
    absl::MutexLock lock(&mu_);
    buffer_.append(chunk.data(), chunk.size());
    size_t end;
    while ((end = buffer_.find("\n\n")) != std::string::npos) {
      Event event{"message", "", "", false};
      bool any = false;
      for (absl::string_view line :
           absl::StrSplit(absl::string_view(buffer_).substr(0, end), '\n')) {
        if (absl::ConsumePrefix(&line, "event: ")) {
          event.type = std::string(line);
          any = true;
        } else if (absl::ConsumePrefix(&line, "id: ")) {
          event.id = std::string(line);
          event.has_id = true;
        } else if (absl::ConsumePrefix(&line, "data: ")) {
          event.data = std::string(line);
          any = true;
        }
      }
      if (any) events_.push_back(event);
      buffer_.erase(0, end + 2);
    }
  }

  httplib::Client client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

class WebGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    // DEBUG DIGEST, to show that a refused request wrote nothing.
    options.redis.extra_args = {"--enable-debug-command", "local"};
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    StartGateway(absl::Minutes(30));
  }

  void StartGateway(absl::Duration idle,
                    absl::Duration linger = absl::Seconds(60)) {
    GatewayOptions options;
    options.feed_linger = linger;
    options.sessions.idle = idle;
    StartGateway(std::move(options));
  }

  // A gateway with `options`: its listen address, brokers, Redis and
  // limits set here, and the test users unless it names its own.
  void StartGateway(GatewayOptions options) {
    gateway_.reset();
    options.listen = "127.0.0.1:0";
    if (options.users.entries().empty()) {
      absl::StatusOr<UsersFile> users = UsersFile::Parse(kUsers, "test users");
      ASSERT_TRUE(users.ok()) << users.status();
      options.users = *users;
    }
    options.brokers.targets = {harness_->target()};
    options.redis = harness_->redis_options();
    options.max_body_bytes = 64 * 1024;
    options.keepalive = absl::Milliseconds(200);
    absl::StatusOr<std::unique_ptr<Gateway>> gateway =
        Gateway::Start(std::move(options));
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->port());
    http_->set_read_timeout(20, 0);
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       httplib::Headers headers) {
    return http_->Post(path.c_str(), headers, body, "application/json");
  }

  // Signs in as the users file's `key`: the cookie header and CSRF token.
  std::pair<std::string, std::string> SignIn(const std::string& key) {
    httplib::Result result =
        Post("/v1/sign-in", absl::StrCat("{\"key\":\"", key, "\"}"), {});
    EXPECT_TRUE(result);
    if (!result) return {};
    EXPECT_EQ(result->status, 200) << result->body;
    const std::string set_cookie = result->get_header_value("Set-Cookie");
    EXPECT_THAT(set_cookie, ::testing::HasSubstr("HttpOnly"));
    EXPECT_THAT(set_cookie, ::testing::HasSubstr("SameSite=Strict"));
    return {set_cookie.substr(0, set_cookie.find(';')),
            Field(Parse(result->body), "csrfToken")};
  }

  std::string CreateImpulse(const Identity& identity) {
    httplib::Result result =
        Post("/slussen.v1.ReferralService/CreateReferral",
             ToJson(testing::SampleImpulse()), HeadersOf(identity));
    EXPECT_TRUE(result);
    if (!result) return "";
    EXPECT_EQ(result->status, 200) << result->body;
    return Field(Parse(result->body), "name");
  }

  std::unique_ptr<BrokerHarness> harness_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<httplib::Client> http_;
};

const Identity kCallers[] = {testing::kHalmstadKommun, testing::kProvider,
                             testing::kHallandCoordinator, testing::kAdmin};

// The code a direct gRPC call of `method` with an empty request gets as
// `identity`.
grpc::StatusCode DirectCode(BrokerHarness& harness,
                            const pb::MethodDescriptor& method,
                            const Identity& identity) {
  grpc::TemplatedGenericStub<pb::Message, pb::Message> stub(harness.channel());
  grpc::ClientContext context;
  testing::Identify(&context, identity);
  std::unique_ptr<pb::Message> request = NewMessage(*method.input_type());
  std::unique_ptr<pb::Message> response = NewMessage(*method.output_type());
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, PathOf(method), grpc::StubOptions(), request.get(),
                 response.get(), [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status.error_code();
}

TEST_F(WebGatewayTest, EveryRpcAnswersAsTheBrokerDoesForEveryCaller) {
  const std::vector<const pb::MethodDescriptor*> methods =
      MethodTable::FromGeneratedFiles(ApiServiceFiles()).methods();
  // Every unary RPC of every service file: a new one is in this loop.
  ASSERT_GE(methods.size(), 40u);
  for (const pb::MethodDescriptor* method : methods) {
    SCOPED_TRACE(PathOf(*method));
    // No caller: refused by the gateway before the broker.
    httplib::Result anonymous = Post(PathOf(*method), "{}", {});
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401) << anonymous->body;
    EXPECT_EQ(Field(Parse(anonymous->body), "code"), "unauthenticated");
    // Each role: the code the broker gives a direct call, with its HTTP
    // status. At least one role gets past the access check.
    bool someone_allowed = false;
    for (const Identity& caller : kCallers) {
      SCOPED_TRACE(absl::StrCat(caller.role, " ", caller.organisation));
      const grpc::StatusCode direct = DirectCode(*harness_, *method, caller);
      httplib::Result result = Post(PathOf(*method), "{}", HeadersOf(caller));
      ASSERT_TRUE(result);
      const auto code = static_cast<absl::StatusCode>(direct);
      EXPECT_EQ(result->status, HttpStatusOf(code)) << result->body;
      if (direct != grpc::StatusCode::OK) {
        EXPECT_EQ(Field(Parse(result->body), "code"), ConnectCodeName(code))
            << result->body;
      }
      someone_allowed =
          someone_allowed || (direct != grpc::StatusCode::PERMISSION_DENIED &&
                              direct != grpc::StatusCode::UNAUTHENTICATED &&
                              direct != grpc::StatusCode::UNIMPLEMENTED);
    }
    EXPECT_TRUE(someone_allowed ||
                method->service()->name() == "TestingService")
        << "no role may call it";
  }
}

TEST_F(WebGatewayTest, AFieldErrorArrivesWithItsFieldPath) {
  v1::CreateReferralRequest request = testing::SampleImpulse();
  request.mutable_referral()->mutable_impulse()->set_kommun_code("99999");
  httplib::Result result =
      Post("/slussen.v1.ReferralService/CreateReferral", ToJson(request),
           HeadersOf(testing::kHalmstadKommun));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  const pb::Struct error = Parse(result->body);
  EXPECT_EQ(Field(error, "code"), "invalid_argument");
  EXPECT_THAT(Field(error, "message"),
              ::testing::HasSubstr("referral.impulse.kommun_code"));
  const auto details = error.fields().find("details");
  ASSERT_NE(details, error.fields().end()) << result->body;
  // The BadRequest among them (an ErrorInfo comes too).
  const pb::Struct* found = nullptr;
  for (const pb::Value& value : details->second.list_value().values()) {
    if (Field(value.struct_value(), "type") == "google.rpc.BadRequest") {
      found = &value.struct_value();
    }
  }
  ASSERT_NE(found, nullptr) << result->body;
  const pb::Struct& detail = *found;
  EXPECT_THAT(Field(detail, "value"), Not(IsEmpty()));
  const pb::Struct& debug = detail.fields().at("debug").struct_value();
  EXPECT_EQ(Field(debug.fields()
                      .at("fieldViolations")
                      .list_value()
                      .values(0)
                      .struct_value(),
                  "field"),
            "referral.impulse.kommun_code");
}

// A W3C traceparent goes through the gateway to the broker: both log the
// call with its trace id.
TEST_F(WebGatewayTest, ATraceparentReachesTheBrokersLogLine) {
  constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
  httplib::Headers headers = HeadersOf(testing::kHalmstadKommun);
  headers.emplace("traceparent",
                  absl::StrCat("00-", kTrace, "-00f067aa0ba902b7-01"));
  ::testing::internal::CaptureStderr();
  httplib::Result result = Post("/slussen.v1.ReferralService/ListReferrals",
                                "{\"parent\": \"regions/13\"}", headers);
  const std::string lines = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200) << result->body;
  const std::string traced = absl::StrCat("\"trace_id\":\"", kTrace, "\"");
  bool broker = false, gateway = false;
  for (absl::string_view line : absl::StrSplit(lines, '\n')) {
    if (!absl::StrContains(line, traced)) continue;
    broker = broker || absl::StrContains(line, "\"msg\":\"rpc\"");
    gateway = gateway || absl::StrContains(line, "\"msg\":\"http rpc\"");
  }
  EXPECT_TRUE(broker) << "the broker's rpc line lacks the trace: " << lines;
  EXPECT_TRUE(gateway) << "the gateway's line lacks the trace: " << lines;
}

// The data digest once the broker's background work has settled (its
// first deadline tick marks how far each region has fired): two digests
// more than a tick apart agree. Then a difference is the test's doing.
absl::StatusOr<std::string> QuietDigest(BrokerHarness& harness) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    absl::StatusOr<std::string> first = harness.DataDigest();
    if (!first.ok()) return first;
    absl::SleepFor(absl::Milliseconds(700));
    absl::StatusOr<std::string> second = harness.DataDigest();
    if (!second.ok()) return second;
    if (*first == *second) return first;
  }
  return absl::DeadlineExceededError("Redis never stood still");
}

TEST_F(WebGatewayTest, BadRequestsAreRefusedByNameAndNothingIsCalled) {
  const absl::StatusOr<std::string> before = QuietDigest(*harness_);
  ASSERT_TRUE(before.ok()) << before.status();
  const httplib::Headers halmstad = HeadersOf(testing::kHalmstadKommun);
  const std::string create = "/slussen.v1.ReferralService/CreateReferral";

  httplib::Result not_json = Post(create, "{\"referral\": ", halmstad);
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_EQ(Field(Parse(not_json->body), "code"), "invalid_argument");
  EXPECT_THAT(Field(Parse(not_json->body), "message"),
              ::testing::HasSubstr("slussen.v1.CreateReferralRequest"));

  httplib::Result unknown_field = Post(create, "{\"referal\": {}}", halmstad);
  ASSERT_TRUE(unknown_field);
  EXPECT_EQ(unknown_field->status, 400);
  EXPECT_THAT(Field(Parse(unknown_field->body), "message"),
              ::testing::HasSubstr("referal"));

  httplib::Result no_method =
      Post("/slussen.v1.ReferralService/CreateReferal", "{}", halmstad);
  ASSERT_TRUE(no_method);
  EXPECT_EQ(no_method->status, 404);
  EXPECT_EQ(Field(Parse(no_method->body), "code"), "unimplemented");

  httplib::Result too_large = Post(
      create, absl::StrCat("{\"parent\":\"", std::string(70000, 'x'), "\"}"),
      halmstad);
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->status, 413);
  EXPECT_EQ(Field(Parse(too_large->body), "code"), "resource_exhausted");

  httplib::Result form = http_->Post(create.c_str(), halmstad, "{}",
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);

  EXPECT_EQ(QuietDigest(*harness_).value(), *before);
}

TEST_F(WebGatewayTest, OneAgencyCannotReadAnothersReferral) {
  const std::string name = CreateImpulse(testing::kHalmstadKommun);
  ASSERT_THAT(name, Not(IsEmpty()));
  const std::string get = absl::StrCat("{\"name\":\"", name, "\"}");
  httplib::Result own = Post("/slussen.v1.ReferralService/GetReferral", get,
                             HeadersOf(testing::kHalmstadKommun));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(Field(Parse(own->body), "name"), name);
  httplib::Result other = Post("/slussen.v1.ReferralService/GetReferral", get,
                               HeadersOf(testing::kLaholmKommun));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404) << other->body;
  EXPECT_EQ(Field(Parse(other->body), "code"), "not_found");
}

TEST_F(WebGatewayTest, ASessionNeedsItsCsrfTokenAndEndsAtSignOut) {
  const auto [cookie, csrf] = SignIn("dev:anna");
  ASSERT_THAT(csrf, Not(IsEmpty()));
  const std::string list = "/slussen.v1.ReferralService/ListReferrals";
  const std::string body = "{\"parent\":\"regions/13\"}";

  httplib::Result without = Post(list, body, {{"Cookie", cookie}});
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 403) << without->body;
  EXPECT_THAT(Field(Parse(without->body), "message"),
              ::testing::HasSubstr("X-CSRF-Token"));
  // Another token: its first character changed (a token starting with
  // "0" made "0" + the rest the right one, one run in sixteen).
  const std::string other_token =
      std::string(1, csrf[0] == '0' ? '1' : '0') + csrf.substr(1);
  ASSERT_NE(other_token, csrf);
  httplib::Result wrong =
      Post(list, body, {{"Cookie", cookie}, {"X-CSRF-Token", other_token}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  httplib::Result with =
      Post(list, body, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(with);
  EXPECT_EQ(with->status, 200) << with->body;

  // The session's identity, not headers, names the caller.
  httplib::Result session = http_->Get("/v1/session", {{"Cookie", cookie}});
  ASSERT_TRUE(session);
  EXPECT_EQ(Field(Parse(session->body), "organisation"), "kommun-halmstad-eb");

  httplib::Result out =
      Post("/v1/sign-out", "{}", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  httplib::Result after =
      Post(list, body, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401);
  EXPECT_EQ(Field(Parse(after->body), "code"), "unauthenticated");
}

TEST_F(WebGatewayTest, AnUnusedSessionEnds) {
  StartGateway(absl::Seconds(1));
  const auto [cookie, csrf] = SignIn("dev:sara");
  httplib::Result fresh = http_->Get("/v1/session", {{"Cookie", cookie}});
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200);
  absl::SleepFor(absl::Milliseconds(2500));
  httplib::Result stale = http_->Get("/v1/session", {{"Cookie", cookie}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 401) << stale->body;
  EXPECT_THAT(Field(Parse(stale->body), "message"),
              ::testing::HasSubstr("session has ended"));
}

TEST_F(WebGatewayTest, ResponsesCarryTheSecurityHeaders) {
  httplib::Result health = http_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_THAT(health->get_header_value("Content-Security-Policy"),
              ::testing::HasSubstr("script-src 'self'"));
  EXPECT_EQ(health->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(health->get_header_value("Referrer-Policy"), "no-referrer");
  httplib::Result ready = http_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
}

TEST_F(WebGatewayTest, AnEventArrivesLive) {
  SseClient watcher(gateway_->port(), HeadersOf(testing::kHalmstadKommun),
                    "/v1/events?region=13");
  ASSERT_THAT(watcher.WaitFor("ready", 1), ::testing::SizeIs(1));
  const absl::Time created = absl::Now();
  const std::string name = CreateImpulse(testing::kHalmstadKommun);
  const std::vector<SseClient::Event> events = watcher.WaitFor("message", 1);
  ASSERT_THAT(events, Not(IsEmpty()));
  // The issue's goal is within a second; the latency is measured in
  // BENCHMARKS.md, not asserted on a shared machine.
  std::cerr << "first event after " << absl::Now() - created << "\n";
  EXPECT_THAT(events[0].data, ::testing::HasSubstr(name));
  EXPECT_THAT(events[0].id, Not(IsEmpty()));
}

TEST_F(WebGatewayTest, AReconnectWithLastEventIdGetsExactlyWhatWasMissed) {
  const httplib::Headers sara = HeadersOf(testing::kHallandCoordinator);
  // One page stays open throughout: it sees everything.
  SseClient steady(gateway_->port(), sara, "/v1/events?region=13");
  ASSERT_THAT(steady.WaitFor("ready", 1), ::testing::SizeIs(1));
  SseClient first(gateway_->port(), sara, "/v1/events?region=13");
  ASSERT_THAT(first.WaitFor("ready", 1), ::testing::SizeIs(1));
  CreateImpulse(testing::kHalmstadKommun);
  const std::vector<SseClient::Event> seen = first.WaitFor("message", 1);
  ASSERT_THAT(seen, Not(IsEmpty()));
  const size_t before = steady.WaitFor("message", seen.size()).size();
  first.Close();
  const std::string last_id = first.WaitFor("message", 0).back().id;
  // Three referrals while the page is away.
  for (int i = 0; i < 3; ++i) CreateImpulse(testing::kHalmstadKommun);
  std::vector<SseClient::Event> all = steady.WaitFor("message", before + 3);
  ASSERT_GE(all.size(), before + 3);
  absl::SleepFor(absl::Milliseconds(600));  // the rest of their events
  all = steady.WaitFor("message", all.size());
  std::vector<std::string> missed;
  bool after = false;
  for (const SseClient::Event& event : all) {
    if (after) missed.push_back(event.id);
    after = after || event.id == last_id;
  }
  ASSERT_GE(missed.size(), 3u);
  // Only one broker stream serves both pages.
  EXPECT_EQ(gateway_->event_streams(), 1);

  httplib::Headers again = sara;
  again.emplace("Last-Event-ID", last_id);
  SseClient back(gateway_->port(), again, "/v1/events?region=13");
  std::vector<std::string> got;
  for (const SseClient::Event& event : back.WaitFor("message", missed.size())) {
    got.push_back(event.id);
  }
  EXPECT_THAT(got, ElementsAreArray(missed));
  EXPECT_THAT(back.WaitFor("ready", 0), IsEmpty());
}

TEST_F(WebGatewayTest, AReconnectToAnotherGatewayResumesFromTheBroker) {
  const httplib::Headers sara = HeadersOf(testing::kHallandCoordinator);
  std::string last_id;
  {
    SseClient page(gateway_->port(), sara, "/v1/events?region=13");
    const std::vector<SseClient::Event> ready = page.WaitFor("ready", 1);
    ASSERT_THAT(ready, ::testing::SizeIs(1));
    // No event yet: the ready message's id is where the page began.
    last_id = ready[0].id;
    ASSERT_THAT(last_id, Not(IsEmpty()));
  }
  const std::string name = CreateImpulse(testing::kHalmstadKommun);
  StartGateway(absl::Minutes(30));  // a new gateway knows nothing of it
  httplib::Headers again = sara;
  again.emplace("Last-Event-ID", last_id);
  SseClient back(gateway_->port(), again, "/v1/events?region=13");
  const std::vector<SseClient::Event> events = back.WaitFor("message", 1);
  ASSERT_THAT(events, Not(IsEmpty()));
  EXPECT_THAT(events[0].data, ::testing::HasSubstr(name));
}

// A page coming back with a Last-Event-ID from before events the broker's
// retention removed: resuming there would skip them, so the gateway says
// "reset" with an empty id (the browser then comes back without
// Last-Event-ID, and the page reads again what it shows), and does not
// keep asking the broker for that place.
TEST_F(WebGatewayTest, AReconnectFromBeforeRemovedEventsIsToldToReset) {
  BrokerHarness::Options options;
  options.broker.retention.retention = absl::Seconds(1);
  options.broker.retention.interval = absl::Milliseconds(100);
  gateway_.reset();
  harness_.reset();
  absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
      BrokerHarness::Start(std::move(options));
  ASSERT_TRUE(harness.ok()) << harness.status();
  harness_ = *std::move(harness);
  StartGateway(absl::Minutes(30), absl::Milliseconds(100));
  const httplib::Headers sara = HeadersOf(testing::kHallandCoordinator);
  std::string start_id;
  {
    SseClient page(gateway_->port(), sara, "/v1/events?region=13");
    const std::vector<SseClient::Event> ready = page.WaitFor("ready", 1);
    ASSERT_THAT(ready, ::testing::SizeIs(1));
    start_id = ready[0].id;
  }
  CreateImpulse(testing::kHalmstadKommun);
  const auto events_kept = [&] {
    httplib::Result listed =
        Post("/slussen.v1.EventService/ListEvents",
             R"({"parent":"regions/13"})", HeadersOf(testing::kHalmstadKommun));
    EXPECT_TRUE(listed);
    return !listed || listed->status != 200 ||
           absl::StrContains(listed->body, "\"events\"");
  };
  ASSERT_TRUE(testing::Eventually(events_kept, absl::Seconds(10),
                                  absl::Milliseconds(20)))
      << "the impulse made no event";
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (events_kept() && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(events_kept()) << "the event outlived the retention";

  httplib::Headers again = sara;
  again.emplace("Last-Event-ID", start_id);
  SseClient back(gateway_->port(), again, "/v1/events?region=13");
  const std::vector<SseClient::Event> reset = back.WaitFor("reset", 1);
  ASSERT_THAT(reset, ::testing::SizeIs(1));
  EXPECT_TRUE(reset[0].has_id);
  EXPECT_EQ(reset[0].id, "");
  EXPECT_THAT(reset[0].data, ::testing::HasSubstr("out_of_range"));
  EXPECT_THAT(reset[0].data, ::testing::HasSubstr("EVENTS_REMOVED"));
  EXPECT_THAT(back.WaitFor("message", 0), IsEmpty());
  back.Close();
  // The refused place is not asked for again: no broker stream is left.
  EXPECT_TRUE(
      testing::Eventually([&] { return gateway_->event_streams() == 0; },
                          absl::Seconds(10), absl::Milliseconds(50)))
      << gateway_->event_streams() << " broker streams";

  // Coming back without Last-Event-ID starts from now, as ever.
  SseClient fresh(gateway_->port(), sara, "/v1/events?region=13");
  EXPECT_THAT(fresh.WaitFor("ready", 1), ::testing::SizeIs(1));
  const std::string name = CreateImpulse(testing::kHalmstadKommun);
  const std::vector<SseClient::Event> live = fresh.WaitFor("message", 1);
  ASSERT_THAT(live, Not(IsEmpty()));
  EXPECT_THAT(live[0].data, ::testing::HasSubstr(name));
}

TEST_F(WebGatewayTest, ManyPagesOfOneCallerShareOneBrokerStream) {
  std::vector<std::unique_ptr<SseClient>> pages;
  for (int i = 0; i < 20; ++i) {
    pages.push_back(std::make_unique<SseClient>(
        gateway_->port(), HeadersOf(testing::kHallandCoordinator),
        "/v1/events?region=13"));
  }
  for (auto& page : pages)
    ASSERT_THAT(page->WaitFor("ready", 1), ::testing::SizeIs(1));
  EXPECT_EQ(gateway_->event_streams(), 1);
  SseClient other(gateway_->port(), HeadersOf(testing::kHalmstadKommun),
                  "/v1/events?region=13");
  ASSERT_THAT(other.WaitFor("ready", 1), ::testing::SizeIs(1));
  EXPECT_EQ(gateway_->event_streams(), 2);
  const std::string name = CreateImpulse(testing::kHalmstadKommun);
  for (auto& page : pages) {
    const std::vector<SseClient::Event> events = page->WaitFor("message", 1);
    ASSERT_THAT(events, Not(IsEmpty()));
    EXPECT_THAT(events[0].data, ::testing::HasSubstr(name));
  }
}

TEST_F(WebGatewayTest, ABrokerStreamEndsSoonAfterItsLastPage) {
  StartGateway(absl::Minutes(30), absl::Seconds(1));
  {
    SseClient page(gateway_->port(), HeadersOf(testing::kHallandCoordinator),
                   "/v1/events?region=13");
    ASSERT_THAT(page.WaitFor("ready", 1), ::testing::SizeIs(1));
    EXPECT_EQ(gateway_->event_streams(), 1);
  }
  EXPECT_TRUE(
      testing::Eventually([&] { return gateway_->event_streams() == 0; }));
}

TEST_F(WebGatewayTest, BehindAProxyTheUserHeaderCountsOnlyFromTheProxy) {
  const UsersFile users = *UsersFile::Parse(
      "user:sara samordning-halland coordinator 13 s789 Sara", "proxy users");
  GatewayOptions proxied;
  proxied.sign_in = SignInMode::kProxy;
  proxied.trusted_proxies = {"127.0.0.1"};
  proxied.users = users;
  StartGateway(std::move(proxied));
  const std::string list = "/slussen.v1.ReferralService/ListReferrals";
  httplib::Result known =
      Post(list, "{\"parent\":\"regions/13\"}", {{"X-Forwarded-User", "sara"}});
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, 200) << known->body;
  httplib::Result unknown = Post(list, "{\"parent\":\"regions/13\"}",
                                 {{"X-Forwarded-User", "mallory"}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 403) << unknown->body;
  // A session signed in through the proxy is Sara's only while the proxy
  // still names Sara: a cookie alone is not enough.
  httplib::Result signed_in =
      Post("/v1/sign-in", "{}", {{"X-Forwarded-User", "sara"}});
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const std::string set_cookie = signed_in->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = Field(Parse(signed_in->body), "csrfToken");
  for (const auto& [user, status] : std::vector<std::pair<std::string, int>>{
           {"sara", 200}, {"bertil", 401}}) {
    httplib::Result call = Post(list, "{\"parent\":\"regions/13\"}",
                                {{"Cookie", cookie},
                                 {"X-CSRF-Token", csrf},
                                 {"X-Forwarded-User", user}});
    ASSERT_TRUE(call);
    EXPECT_EQ(call->status, status) << user << ": " << call->body;
  }
  // Development headers mean nothing behind a proxy.
  httplib::Result headers = Post(list, "{\"parent\":\"regions/13\"}",
                                 HeadersOf(testing::kHalmstadKommun));
  ASSERT_TRUE(headers);
  EXPECT_EQ(headers->status, 401) << headers->body;

  // A gateway that trusts another address takes no user header from here.
  GatewayOptions elsewhere;
  elsewhere.sign_in = SignInMode::kProxy;
  elsewhere.trusted_proxies = {"10.0.0.7"};
  elsewhere.users = users;
  StartGateway(std::move(elsewhere));
  httplib::Result untrusted =
      Post(list, "{\"parent\":\"regions/13\"}", {{"X-Forwarded-User", "sara"}});
  ASSERT_TRUE(untrusted);
  EXPECT_EQ(untrusted->status, 401) << untrusted->body;
  EXPECT_THAT(Field(Parse(untrusted->body), "message"),
              ::testing::HasSubstr("--trusted_proxies"));
}

TEST_F(WebGatewayTest, AWatchOfAForeignRegionIsRefused) {
  httplib::Result result = http_->Get("/v1/events?region=19",
                                      HeadersOf(testing::kHallandCoordinator));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 403) << result->body;
  EXPECT_EQ(Field(Parse(result->body), "code"), "permission_denied");
}

TEST_F(WebGatewayTest, TheRequestIdComesBackAndThePersonIsRecorded) {
  httplib::Headers headers = HeadersOf(testing::kHalmstadKommun);
  headers.emplace("x-slussen-person", "a123");
  headers.emplace("X-Request-Id", "web-req-42");
  httplib::Result created = Post("/slussen.v1.ReferralService/CreateReferral",
                                 ToJson(testing::SampleImpulse()), headers);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(created->get_header_value("X-Request-Id"), "web-req-42");
  const std::string name = Field(Parse(created->body), "name");
  httplib::Result events = Post(
      "/slussen.v1.EventService/ListEvents",
      absl::StrCat("{\"parent\":\"regions/13\",\"referral\":\"", name, "\"}"),
      HeadersOf(testing::kHalmstadKommun));
  ASSERT_TRUE(events);
  ASSERT_EQ(events->status, 200) << events->body;
  const pb::Struct list = Parse(events->body);
  ASSERT_GT(list.fields().at("events").list_value().values_size(), 0)
      << events->body;
  const pb::Struct& actor = list.fields()
                                .at("events")
                                .list_value()
                                .values(0)
                                .struct_value()
                                .fields()
                                .at("actor")
                                .struct_value();
  EXPECT_EQ(Field(actor, "organisation"), "kommun-halmstad-eb");
  EXPECT_EQ(Field(actor, "person"), "a123");
}

TEST_F(WebGatewayTest, AStoppingGatewayTellsItsPagesToReconnect) {
  SseClient page(gateway_->port(), HeadersOf(testing::kHallandCoordinator),
                 "/v1/events?region=13");
  ASSERT_THAT(page.WaitFor("ready", 1), ::testing::SizeIs(1));
  gateway_->Shutdown(absl::Seconds(1));
  EXPECT_THAT(page.WaitFor("reconnect", 1), ::testing::SizeIs(1));
}

}  // namespace
}  // namespace slussen::web
