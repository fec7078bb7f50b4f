#include "clients/web/gateway.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "broker/core/model/text_rules.h"
#include "broker/service/json_log.h"
#include "clients/web/connect.h"
#include "clients/web/event_hub.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/event_service.pb.h"

namespace slussen::web {
namespace {

namespace pb = ::google::protobuf;
namespace v1 = ::slussen::v1;
using service::JsonString;
using service::kTraceparentHeader;
using service::Log;
using service::LogLevel;
using service::ScopedLogTrace;
using service::TraceIdOf;

constexpr char kSessionCookie[] = "slussen_session";
constexpr char kCsrfHeader[] = "X-CSRF-Token";
constexpr char kJson[] = "application/json";
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

// --- Small pieces ------------------------------------------------------

std::string NewRequestId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

// The request's own id when it sent a valid one, else a new one.
std::string RequestIdOf(const httplib::Request& req) {
  std::string id = req.get_header_value("X-Request-Id");
  if (id.empty() || !core::ValidateRequestId("", id).ok()) id = NewRequestId();
  return id;
}

void SendError(httplib::Response& res, const ConnectError& error) {
  res.status = error.http_status;
  res.set_content(error.body, kJson);
}

void SendStatus(httplib::Response& res, const absl::Status& status) {
  SendError(res, ConnectErrorOf(status));
}

bool IsJson(const httplib::Request& req) {
  const std::string type = absl::AsciiStrToLower(
      req.get_header_value("Content-Type")
          .substr(0, req.get_header_value("Content-Type").find(';')));
  return absl::StripAsciiWhitespace(type) == kJson;
}

std::optional<std::string> CookieOf(const httplib::Request& req,
                                    absl::string_view name) {
  for (size_t i = 0; i < req.get_header_value_count("Cookie"); ++i) {
    for (absl::string_view part :
         absl::StrSplit(req.get_header_value("Cookie", i), ';')) {
      part = absl::StripAsciiWhitespace(part);
      if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
        return std::string(part);
      }
    }
  }
  return std::nullopt;
}

bool IsLoopbackHost(absl::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         absl::StartsWith(host, "127.");
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    absl::string_view flag, absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " must be host:port (port 0 picks a free one), got \"", address,
        "\""));
  }
  std::string host(address.substr(0, colon));
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, port);
}

std::string SessionJson(const WebIdentity& identity,
                        absl::string_view csrf_token, SignInMode mode,
                        absl::Time expires) {
  std::string json =
      absl::StrCat("{\"organisation\":", JsonString(identity.organisation),
                   ",\"role\":", JsonString(identity.role),
                   ",\"region\":", JsonString(identity.region),
                   ",\"person\":", JsonString(identity.person),
                   ",\"name\":", JsonString(identity.name),
                   ",\"signIn\":", JsonString(SignInModeName(mode)));
  if (!csrf_token.empty()) {
    absl::StrAppend(&json, ",\"csrfToken\":", JsonString(csrf_token),
                    ",\"expiresAt\":",
                    JsonString(absl::FormatTime(absl::RFC3339_sec, expires,
                                                absl::UTCTimeZone())));
  }
  absl::StrAppend(&json, "}");
  return json;
}

// --- Static files --------------------------------------------------------

struct StaticFile {
  std::string content;
  std::string type;
  std::string etag;
};

std::string ContentTypeOf(const std::filesystem::path& path) {
  static const auto* const kTypes = new std::map<std::string, std::string>{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const auto it = kTypes->find(path.extension().string());
  return it == kTypes->end() ? "application/octet-stream" : it->second;
}

// Every file under `dir`, by its URL path ("/assets/app.js"), read once at
// start: the desks are small, and serving from memory needs no file
// system access per request (nor any path checks).
absl::StatusOr<std::map<std::string, StaticFile>> LoadStaticFiles(
    const std::string& dir) {
  std::map<std::string, StaticFile> files;
  if (dir.empty()) return files;
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--static_dir \"", dir, "\" is not a directory"));
  }
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir, error)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    StaticFile file;
    file.content = content.str();
    file.type = ContentTypeOf(entry.path());
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(file.content.data()),
           file.content.size(), digest);
    file.etag = absl::StrCat("\"",
                             absl::BytesToHexString(absl::string_view(
                                 reinterpret_cast<const char*>(digest), 12)),
                             "\"");
    const std::string path =
        "/" + std::filesystem::relative(entry.path(), dir).generic_string();
    files.emplace(path, std::move(file));
  }
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--static_dir \"", dir, "\" cannot be read: ", error.message()));
  }
  return files;
}

// --- Threads -------------------------------------------------------------

// A thread for each connection, at most `max` at once (an event stream
// holds its connection's thread for as long as it is open, so a fixed
// pool would be used up by a few pages). At the limit, accepting waits.
class ThreadPerConnection final : public httplib::TaskQueue {
 public:
  explicit ThreadPerConnection(int max)
      : state_(std::make_shared<State>()), max_(max) {}

  void enqueue(std::function<void()> fn) override {
    {
      absl::MutexLock lock(&state_->mu);
      const auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(state_->mu) {
        return state_->running < max_;
      };
      state_->mu.Await(absl::Condition(&room));
      ++state_->running;
    }
    // The thread keeps the count alive: it may outlive the queue when a
    // connection is still busy at shutdown's end.
    std::thread([state = state_, fn = std::move(fn)] {
      fn();
      absl::MutexLock lock(&state->mu);
      --state->running;
    }).detach();
  }

  void shutdown() override {
    absl::MutexLock lock(&state_->mu);
    const auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(state_->mu) {
      return state_->running == 0;
    };
    state_->mu.AwaitWithTimeout(absl::Condition(&idle), absl::Seconds(10));
  }

 private:
  struct State {
    absl::Mutex mu;
    int running ABSL_GUARDED_BY(mu) = 0;
  };
  const std::shared_ptr<State> state_;
  const int max_;
};

// A feed a page reads: counted as one of its readers (EventHub::Shared and
// Own count it) until this is gone, so that the hub does not stop it.
class Reading {
 public:
  explicit Reading(std::shared_ptr<EventFeed> feed) : feed_(std::move(feed)) {}
  ~Reading() { feed_->RemoveReader(); }
  Reading(const Reading&) = delete;
  Reading& operator=(const Reading&) = delete;

  const std::shared_ptr<EventFeed>& feed() const { return feed_; }

 private:
  std::shared_ptr<EventFeed> feed_;
};

// The listening socket's options: SO_REUSEADDR, so that a restarted
// gateway binds at once past its old connections' TIME_WAIT, and not
// cpp-httplib's default SO_REUSEPORT, with which a second gateway binding
// a port this one holds succeeds and the kernel splits the browsers
// between them.
void ListeningSocketOptions(socket_t socket) {
  const int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

absl::StatusOr<SignInMode> ParseSignInMode(absl::string_view text) {
  if (text == "development") return SignInMode::kDevelopment;
  if (text == "certificate") return SignInMode::kCertificate;
  if (text == "proxy") return SignInMode::kProxy;
  return absl::InvalidArgumentError(absl::StrCat(
      "--sign_in must be development, certificate or proxy, got \"", text,
      "\""));
}

std::string SignInModeName(SignInMode mode) {
  switch (mode) {
    case SignInMode::kDevelopment:
      return "development";
    case SignInMode::kCertificate:
      return "certificate";
    case SignInMode::kProxy:
      return "proxy";
  }
  return "";
}

// --- The gateway -----------------------------------------------------------

class Gateway::Impl {
 public:
  explicit Impl(GatewayOptions options) : options_(std::move(options)) {}

  absl::Status Start();
  void Shutdown(absl::Duration grace);
  int port() const { return port_; }
  int event_streams() { return hub_->streams(); }

 private:
  // Who is calling (see gateway.h), with the session when it came from
  // one.
  struct Caller {
    WebIdentity identity;
    std::optional<Session> session;
  };

  absl::StatusOr<Caller> Identify(const httplib::Request& req);
  // The caller as Identify finds it, and for a POST made with a session,
  // its CSRF token checked.
  absl::StatusOr<Caller> IdentifyForPost(const httplib::Request& req);
  // A person as the sign-in mode names them, and the users-file key they
  // were found by (empty for development headers).
  struct Named {
    WebIdentity identity;
    std::string key;
  };
  // The person the sign-in mode names without a session.
  absl::StatusOr<Named> IdentityWithoutSession(const httplib::Request& req);
  // The users-file keys the request presents: its client certificate's, or
  // the trusted proxy's user; none in development.
  std::vector<std::string> PresentedKeys(const httplib::Request& req) const;

  void Routes();
  void HandleRpc(const httplib::Request& req, httplib::Response& res);
  void HandleEvents(const httplib::Request& req, httplib::Response& res);
  void HandleSession(const httplib::Request& req, httplib::Response& res);
  void HandleSignIn(const httplib::Request& req, httplib::Response& res);
  void HandleSignOut(const httplib::Request& req, httplib::Response& res);
  void HandleIdentities(const httplib::Request& req, httplib::Response& res);
  void HandleReady(const httplib::Request& req, httplib::Response& res);
  void HandleStatic(const httplib::Request& req, httplib::Response& res);

  std::string CookieAttributes() const {
    return tls_ || options_.cookie_secure
               ? "; Path=/; HttpOnly; SameSite=Strict; Secure"
               : "; Path=/; HttpOnly; SameSite=Strict";
  }

  GatewayOptions options_;
  bool tls_ = false;
  MethodTable methods_;
  std::map<std::string, StaticFile> static_files_;
  std::unique_ptr<BrokerClient> brokers_;
  std::unique_ptr<store::RedisPool> redis_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<EventHub> hub_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
  absl::Notification stopping_;
};

absl::Status Gateway::Impl::Start() {
  absl::StatusOr<std::pair<std::string, int>> listen =
      SplitHostPort("--listen", options_.listen);
  if (!listen.ok()) return listen.status();
  const auto& [host, port] = *listen;
  tls_ = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
  if (tls_ &&
      (options_.tls_cert_file.empty() || options_.tls_key_file.empty())) {
    return absl::InvalidArgumentError(
        "HTTPS needs both --tls_cert_file and --tls_key_file");
  }
  if (!options_.tls_client_ca_file.empty() && !tls_) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
  }
  switch (options_.sign_in) {
    case SignInMode::kDevelopment:
      if (!IsLoopbackHost(host) && !options_.insecure_allow_remote) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--sign_in=development lets anyone act as anyone: it listens on "
            "loopback only, not on \"",
            host, "\" (--insecure_allow_remote forces it)"));
      }
      break;
    case SignInMode::kCertificate:
      if (options_.tls_client_ca_file.empty()) {
        return absl::InvalidArgumentError(
            "--sign_in=certificate needs --tls_client_ca_file (and "
            "--tls_cert_file, --tls_key_file)");
      }
      break;
    case SignInMode::kProxy:
      if (options_.trusted_proxies.empty() ||
          options_.proxy_user_header.empty()) {
        return absl::InvalidArgumentError(
            "--sign_in=proxy needs --trusted_proxies (the proxy's addresses) "
            "and --proxy_user_header");
      }
      break;
  }
  if (options_.sign_in != SignInMode::kDevelopment &&
      options_.users.entries().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sign_in=", SignInModeName(options_.sign_in),
                     " needs a --users_file that names at least one person"));
  }
  methods_ = MethodTable::FromGeneratedFiles(ApiServiceFiles());
  if (methods_.methods().empty()) {
    return absl::InternalError("the gateway was built without the API");
  }
  absl::StatusOr<std::map<std::string, StaticFile>> files =
      LoadStaticFiles(options_.static_dir);
  if (!files.ok()) return files.status();
  static_files_ = *std::move(files);

  absl::StatusOr<std::unique_ptr<BrokerClient>> brokers =
      BrokerClient::Create(options_.brokers);
  if (!brokers.ok()) return brokers.status();
  brokers_ = *std::move(brokers);
  redis_ = std::make_unique<store::RedisPool>(options_.redis);
  sessions_ = std::make_unique<SessionStore>(redis_.get(), options_.sessions);
  hub_ = std::make_unique<EventHub>(
      brokers_.get(),
      EventHub::Options{options_.events_kept, options_.feed_linger});

  if (tls_) {
    server_ = std::make_unique<httplib::SSLServer>(
        options_.tls_cert_file.c_str(), options_.tls_key_file.c_str(),
        options_.tls_client_ca_file.empty()
            ? nullptr
            : options_.tls_client_ca_file.c_str());
    if (!server_->is_valid()) {
      return absl::InvalidArgumentError(
          "the HTTPS certificate, key or client CA cannot be read "
          "(--tls_cert_file, --tls_key_file, --tls_client_ca_file)");
    }
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const int max_connections = options_.max_connections;
  server_->new_task_queue = [max_connections] {
    return new ThreadPerConnection(max_connections);
  };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_keep_alive_timeout(30);
  server_->set_keep_alive_max_count(100000);
  // An answer goes out in two writes (head, body): without this, Nagle's
  // algorithm holds the body for the client's delayed ACK, 40 ms a call.
  server_->set_tcp_nodelay(true);
  server_->set_default_headers(
      {{"Content-Security-Policy", kContentSecurityPolicy},
       {"X-Content-Type-Options", "nosniff"},
       {"Referrer-Policy", "no-referrer"},
       {"X-Frame-Options", "DENY"}});
  Routes();
  // Debian's cpp-httplib listens with a backlog of 5: a burst of new
  // connections (pages opening at once) would overflow it, and the
  // kernel drops their handshakes (a client sees its first request fail).
  // The listening socket is noted here and its backlog raised below.
  int listening = -1;
  server_->set_socket_options([&listening](socket_t socket) {
    ListeningSocketOptions(socket);
    listening = socket;
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen, " (in use?)"));
  }
  server_->set_socket_options(ListeningSocketOptions);
  if (listening >= 0) ::listen(listening, SOMAXCONN);
  listener_ = std::thread([this] { server_->listen_after_bind(); });
  Log(LogLevel::kInfo, "serving",
      {{"listen", absl::StrCat(host, ":", port_)},
       {"https", tls_},
       {"sign_in", SignInModeName(options_.sign_in)},
       {"rpcs", static_cast<int>(methods_.methods().size())},
       {"static_files", static_cast<int>(static_files_.size())}});
  return absl::OkStatus();
}

void Gateway::Impl::Routes() {
  httplib::Server& s = *server_;
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content("{\"status\":\"ok\"}", kJson);
  });
  s.Get("/readyz", [this](const httplib::Request& req, httplib::Response& res) {
    HandleReady(req, res);
  });
  s.Get("/v1/session",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleSession(req, res);
        });
  s.Get("/v1/sign-in/identities",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleIdentities(req, res);
        });
  s.Post("/v1/sign-in",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleSignIn(req, res);
         });
  s.Post("/v1/sign-out",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleSignOut(req, res);
         });
  s.Get("/v1/events",
        [this](const httplib::Request& req, httplib::Response& res) {
          HandleEvents(req, res);
        });
  s.Post(R"(/[A-Za-z0-9_.]+/[A-Za-z0-9_]+)",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleRpc(req, res);
         });
  s.Post(".*", [](const httplib::Request& req, httplib::Response& res) {
    SendError(res, {404, ConnectErrorOf(absl::UnimplementedError(absl::StrCat(
                                            "no RPC or action at ", req.path)))
                             .body});
  });
  s.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
    HandleStatic(req, res);
  });
  // What cpp-httplib answers itself (a body over the limit, a bad
  // request line) gets a Connect error body too.
  s.set_error_handler([this](const httplib::Request& req,
                             httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SendError(res,
                {413, ConnectErrorOf(absl::ResourceExhaustedError(absl::StrCat(
                                         "the request body is larger than "
                                         "the limit of ",
                                         options_.max_body_bytes, " bytes")))
                          .body});
    } else if (res.status == 404) {
      SendError(res, {404, ConnectErrorOf(absl::NotFoundError(absl::StrCat(
                                              "nothing at ", req.path)))
                               .body});
    }
  });
}

std::vector<std::string> Gateway::Impl::PresentedKeys(
    const httplib::Request& req) const {
  if (options_.sign_in == SignInMode::kCertificate && req.ssl != nullptr) {
    X509* certificate = SSL_get_peer_certificate(req.ssl);
    std::vector<std::string> keys = CertificateKeys(certificate);
    X509_free(certificate);
    return keys;
  }
  if (options_.sign_in == SignInMode::kProxy &&
      std::find(options_.trusted_proxies.begin(),
                options_.trusted_proxies.end(),
                req.remote_addr) != options_.trusted_proxies.end()) {
    const std::string user = req.get_header_value(options_.proxy_user_header);
    if (!user.empty()) return {absl::StrCat("user:", user)};
  }
  return {};
}

absl::StatusOr<Gateway::Impl::Named> Gateway::Impl::IdentityWithoutSession(
    const httplib::Request& req) {
  switch (options_.sign_in) {
    case SignInMode::kDevelopment: {
      WebIdentity identity;
      identity.organisation = req.get_header_value("x-slussen-organisation");
      identity.role =
          absl::AsciiStrToLower(req.get_header_value("x-slussen-role"));
      identity.region = req.get_header_value("x-slussen-region");
      identity.person = req.get_header_value("x-slussen-person");
      if (identity.organisation.empty() && identity.role.empty()) {
        return absl::UnauthenticatedError(
            "not signed in: sign in at / or name the caller in the headers "
            "x-slussen-organisation, x-slussen-role and x-slussen-region "
            "(development sign-in)");
      }
      if (absl::Status valid = ValidateIdentity(identity); !valid.ok()) {
        return absl::UnauthenticatedError(
            absl::StrCat("header x-slussen-", valid.message()));
      }
      return Named{std::move(identity), ""};
    }
    case SignInMode::kCertificate: {
      X509* certificate =
          req.ssl == nullptr ? nullptr : SSL_get_peer_certificate(req.ssl);
      if (certificate == nullptr) {
        return absl::UnauthenticatedError(
            "no client certificate: sign in with your e-tjänstekort");
      }
      const std::vector<std::string> keys = CertificateKeys(certificate);
      X509_free(certificate);
      for (const std::string& key : keys) {
        if (const WebIdentity* identity = options_.users.Find(key)) {
          return Named{*identity, key};
        }
      }
      return absl::PermissionDeniedError(absl::StrCat(
          "your certificate is not in the gateway's users file (it is known "
          "as ",
          keys.empty() ? std::string("nothing") : absl::StrJoin(keys, ", "),
          "); ask your administrator"));
    }
    case SignInMode::kProxy: {
      const bool trusted =
          std::find(options_.trusted_proxies.begin(),
                    options_.trusted_proxies.end(),
                    req.remote_addr) != options_.trusted_proxies.end();
      const std::string user = req.get_header_value(options_.proxy_user_header);
      if (!trusted) {
        return absl::UnauthenticatedError(
            absl::StrCat("requests must come through the signing-in proxy; ",
                         req.remote_addr, " is not one of --trusted_proxies"));
      }
      if (user.empty()) {
        return absl::UnauthenticatedError(absl::StrCat(
            "the proxy sent no ", options_.proxy_user_header, " header"));
      }
      const std::string key = absl::StrCat("user:", user);
      if (const WebIdentity* identity = options_.users.Find(key)) {
        return Named{*identity, key};
      }
      return absl::PermissionDeniedError(absl::StrCat(
          "the user \"user:", user,
          "\" is not in the gateway's users file; ask your administrator"));
    }
  }
  return absl::InternalError("unknown sign-in mode");
}

absl::StatusOr<Gateway::Impl::Caller> Gateway::Impl::Identify(
    const httplib::Request& req) {
  Caller caller;
  if (const std::optional<std::string> cookie = CookieOf(req, kSessionCookie)) {
    absl::StatusOr<std::optional<Session>> session = sessions_->Find(*cookie);
    if (!session.ok()) return session.status();
    if (!session->has_value()) {
      return absl::UnauthenticatedError(
          "your session has ended (signed out, or unused too long): sign in "
          "again");
    }
    const std::string& bound = (*session)->bound_key;
    if (!bound.empty()) {
      // A cookie alone is not the person: the certificate (or the proxy's
      // user) that signed them in must come with it.
      const std::vector<std::string> keys = PresentedKeys(req);
      if (std::find(keys.begin(), keys.end(), bound) == keys.end()) {
        return absl::UnauthenticatedError(
            "this session belongs to another certificate or user: sign in "
            "again");
      }
    }
    caller.identity = (*session)->identity;
    caller.session = **session;
    return caller;
  }
  absl::StatusOr<Named> named = IdentityWithoutSession(req);
  if (!named.ok()) return named.status();
  caller.identity = std::move(named->identity);
  return caller;
}

absl::StatusOr<Gateway::Impl::Caller> Gateway::Impl::IdentifyForPost(
    const httplib::Request& req) {
  absl::StatusOr<Caller> caller = Identify(req);
  if (!caller.ok()) return caller;
  if (caller->session.has_value() &&
      !SecretsEqual(req.get_header_value(kCsrfHeader),
                    caller->session->csrf_token)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the ", kCsrfHeader,
        " header is missing or wrong: send the csrfToken of GET /v1/session "
        "with every POST"));
  }
  return caller;
}

void Gateway::Impl::HandleRpc(const httplib::Request& req,
                              httplib::Response& res) {
  const absl::Time start = absl::Now();
  const std::string request_id = RequestIdOf(req);
  res.set_header("X-Request-Id", request_id);
  res.set_header("Cache-Control", "no-store");
  // A W3C trace goes on to the broker, and into every line logged here.
  const std::string traceparent = req.get_header_value(kTraceparentHeader);
  const std::string trace_id = TraceIdOf(traceparent);
  const ScopedLogTrace trace(trace_id);
  std::string organisation;
  absl::StatusCode code = absl::StatusCode::kOk;
  const auto log = [&] {
    // A refusal is the caller's business; a failure (5xx) is ours.
    Log(HttpStatusOf(code) >= 500 ? LogLevel::kWarning : LogLevel::kInfo,
        "http rpc",
        {{"path", req.path},
         {"request_id", request_id},
         {"organisation", organisation},
         {"http_status", res.status},
         {"code", ConnectCodeName(code)},
         {"ms", absl::ToDoubleMilliseconds(absl::Now() - start)}});
  };
  const auto refuse = [&](const absl::Status& status) {
    code = status.code();
    SendStatus(res, status);
    log();
  };
  const pb::MethodDescriptor* method = methods_.Find(req.path);
  if (method == nullptr) {
    code = absl::StatusCode::kUnimplemented;
    SendError(res, {404, ConnectErrorOf(absl::UnimplementedError(absl::StrCat(
                                            "no RPC ", req.path,
                                            " (the API's RPCs are "
                                            "/slussen.v1.<Service>/<Method>)")))
                             .body});
    log();
    return;
  }
  if (!IsJson(req)) {
    code = absl::StatusCode::kInvalidArgument;
    SendError(
        res,
        {415, ConnectErrorOf(absl::InvalidArgumentError(absl::StrCat(
                                 "Content-Type must be ", kJson, ", got \"",
                                 req.get_header_value("Content-Type"), "\"")))
                  .body});
    log();
    return;
  }
  absl::StatusOr<Caller> caller = IdentifyForPost(req);
  if (!caller.ok()) return refuse(caller.status());
  organisation = caller->identity.organisation;
  // JSON to the binary form and back (connect.h): the broker checks what
  // it receives, and the call is made by path, with no stub per service.
  absl::StatusOr<std::string> request =
      JsonToBinary(*method->input_type(), req.body);
  if (!request.ok()) return refuse(request.status());
  Metadata metadata = BrokerMetadata(caller->identity);
  metadata.emplace_back("x-request-id", request_id);
  if (!trace_id.empty()) metadata.emplace_back(kTraceparentHeader, traceparent);
  std::string response;
  const grpc::Status status =
      brokers_->CallBinary(req.path, *request, &response, metadata);
  if (!status.ok()) {
    code = static_cast<absl::StatusCode>(status.error_code());
    SendError(res, ConnectErrorOf(code, status.error_message(),
                                  status.error_details()));
    log();
    return;
  }
  absl::StatusOr<std::string> json =
      BinaryToJson(*method->output_type(), response);
  if (!json.ok()) return refuse(json.status());
  res.status = 200;
  res.set_content(*std::move(json), kJson);
  log();
}

void Gateway::Impl::HandleEvents(const httplib::Request& req,
                                 httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  absl::StatusOr<Caller> caller = Identify(req);
  if (!caller.ok()) return SendStatus(res, caller.status());
  WatchKey key;
  key.identity = caller->identity;
  const std::string region =
      req.has_param("region") ? req.get_param_value("region") : "-";
  key.parent = absl::StrCat("regions/", region);
  for (size_t i = 0; i < req.get_param_value_count("type"); ++i) {
    v1::EventType type;
    const std::string name = req.get_param_value("type", i);
    if (!v1::EventType_Parse(name, &type)) {
      return SendStatus(res, absl::InvalidArgumentError(absl::StrCat(
                                 "type must be an EventType name such as "
                                 "EVENT_TYPE_CLOCK_BREACHED, got \"",
                                 name, "\"")));
    }
    key.types.push_back(type);
  }
  if (region != "-" && !hub_->Watching(key)) {
    // Asked first, so that a region the caller may not watch is refused
    // with an HTTP error rather than an open stream that ends at once.
    // A watch the broker already serves this caller needs no asking.
    v1::ListEventsRequest probe;
    probe.set_parent(key.parent);
    probe.set_page_size(1);
    v1::ListEventsResponse unused;
    const grpc::Status allowed =
        brokers_->Call("/slussen.v1.EventService/ListEvents", probe, &unused,
                       BrokerMetadata(key.identity));
    if (!allowed.ok()) {
      return SendError(
          res,
          ConnectErrorOf(static_cast<absl::StatusCode>(allowed.error_code()),
                         allowed.error_message(), allowed.error_details()));
    }
  }
  const std::string last_id = req.get_header_value("Last-Event-ID");
  auto reading = std::make_shared<Reading>(hub_->Shared(key));
  uint64_t cursor = 0;
  bool announce = false;
  if (std::optional<uint64_t> seq = reading->feed()->Find(last_id);
      seq.has_value()) {
    cursor = *seq;
  } else if (!last_id.empty()) {
    // Older than the shared feed holds: a feed of its own, from there.
    reading = std::make_shared<Reading>(hub_->Own(key, last_id));
  } else {
    announce = true;
  }
  const std::shared_ptr<EventFeed>& feed = reading->feed();
  // Events removed after the page's place: the stream below tells it
  // "reset" (an HTTP error would leave the browser's EventSource closed).
  if (absl::Status ready = feed->WaitReady(absl::Seconds(10));
      !ready.ok() && !feed->EventsRemoved()) {
    return SendStatus(res, ready);
  }
  if (announce) cursor = feed->Newest().first;
  struct Stream {
    std::shared_ptr<Reading> reading;
    std::shared_ptr<EventFeed> feed;
    uint64_t cursor;
    bool announce;
  };
  auto stream =
      std::make_shared<Stream>(Stream{reading, feed, cursor, announce});
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream](size_t, httplib::DataSink& sink) -> bool {
        if (stream->announce) {
          // The page's starting place, so that a reconnect before any event
          // resumes from here.
          stream->announce = false;
          std::string id;
          if (auto found = stream->feed->Newest();
              found.first == stream->cursor) {
            id = found.second;
          }
          const std::string ready = absl::StrCat(
              "retry: 2000\nevent: ready\nid: ", id, "\ndata: {}\n\n");
          if (!sink.write(ready.data(), ready.size())) return false;
          return true;
        }
        absl::StatusOr<std::vector<SseEvent>> events =
            stream->feed->After(stream->cursor, 64, options_.keepalive);
        if (!events.ok()) {
          std::string end;
          if (absl::IsCancelled(events.status()) ||
              stopping_.HasBeenNotified()) {
            // The gateway is stopping: come back in a moment, elsewhere.
            end = "retry: 1000\nevent: reconnect\ndata: {}\n\n";
          } else if (absl::IsOutOfRange(events.status()) &&
                     stream->feed->EventsRemoved()) {
            // The broker removed events after the page's place (its
            // retention): an empty id clears the Last-Event-ID the
            // browser would come back with, and the page, told "reset",
            // reads again what it shows (static/js/sse.js).
            end = absl::StrCat("id: \nretry: 100\nevent: reset\ndata: ",
                               ConnectErrorOf(events.status()).body, "\n\n");
          } else if (absl::IsOutOfRange(events.status())) {
            end = "retry: 100\nevent: reconnect\ndata: {}\n\n";
          } else {
            end = absl::StrCat("event: error\ndata: ",
                               ConnectErrorOf(events.status()).body, "\n\n");
          }
          sink.write(end.data(), end.size());
          sink.done();
          return true;
        }
        std::string out;
        for (const SseEvent& event : *events) {
          absl::StrAppend(&out, "id: ", event.id, "\ndata: ", event.data,
                          "\n\n");
          stream->cursor = event.seq;
        }
        if (out.empty()) out = ": keepalive\n\n";
        return sink.write(out.data(), out.size());
      },
      [stream](bool) { stream->reading.reset(); });
}

void Gateway::Impl::HandleSession(const httplib::Request& req,
                                  httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  absl::StatusOr<Caller> caller = Identify(req);
  if (!caller.ok()) return SendStatus(res, caller.status());
  res.set_content(
      SessionJson(caller->identity,
                  caller->session ? caller->session->csrf_token : "",
                  options_.sign_in,
                  caller->session ? caller->session->expires : absl::Now()),
      kJson);
}

void Gateway::Impl::HandleIdentities(const httplib::Request& req,
                                     httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  if (options_.sign_in != SignInMode::kDevelopment) {
    return SendStatus(res, absl::NotFoundError(
                               "the sign-in list exists in development only"));
  }
  std::string json = "{\"identities\":[";
  bool first = true;
  for (const auto& [key, identity] : options_.users.entries()) {
    absl::StrAppend(&json, first ? "" : ",", "{\"key\":", JsonString(key),
                    ",\"organisation\":", JsonString(identity.organisation),
                    ",\"role\":", JsonString(identity.role),
                    ",\"region\":", JsonString(identity.region),
                    ",\"person\":", JsonString(identity.person),
                    ",\"name\":", JsonString(identity.name), "}");
    first = false;
  }
  absl::StrAppend(&json, "]}");
  res.set_content(json, kJson);
}

void Gateway::Impl::HandleSignIn(const httplib::Request& req,
                                 httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  if (!IsJson(req)) {
    return SendStatus(res, absl::InvalidArgumentError(
                               absl::StrCat("Content-Type must be ", kJson)));
  }
  WebIdentity identity;
  std::string bound_key;
  if (options_.sign_in == SignInMode::kDevelopment) {
    // {"key": "dev:anna"}: one of the users file's entries.
    pb::Struct body;
    if (!pb::util::JsonStringToMessage(req.body.empty() ? "{}" : req.body,
                                       &body)
             .ok()) {
      return SendStatus(res,
                        absl::InvalidArgumentError(
                            "the body must be a JSON object {\"key\": ...}"));
    }
    const auto key = body.fields().find("key");
    const std::string name =
        key == body.fields().end() ? "" : key->second.string_value();
    const WebIdentity* found = options_.users.Find(name);
    if (found == nullptr) {
      return SendStatus(res, absl::InvalidArgumentError(
                                 absl::StrCat("key must be one of GET "
                                              "/v1/sign-in/identities, got \"",
                                              name, "\"")));
    }
    identity = *found;
  } else {
    absl::StatusOr<Named> named = IdentityWithoutSession(req);
    if (!named.ok()) return SendStatus(res, named.status());
    identity = std::move(named->identity);
    bound_key = std::move(named->key);
  }
  // A new session each time: an old cookie is never promoted.
  if (const std::optional<std::string> old = CookieOf(req, kSessionCookie)) {
    (void)sessions_->Delete(*old);
  }
  absl::StatusOr<Session> session = sessions_->Create(identity, bound_key);
  if (!session.ok()) return SendStatus(res, session.status());
  res.set_header("Set-Cookie", absl::StrCat(kSessionCookie, "=", session->id,
                                            CookieAttributes()));
  Log(LogLevel::kInfo, "signed in",
      {{"organisation", identity.organisation},
       {"role", identity.role},
       {"person", identity.person},
       {"sign_in", SignInModeName(options_.sign_in)}});
  res.set_content(SessionJson(identity, session->csrf_token, options_.sign_in,
                              session->expires),
                  kJson);
}

void Gateway::Impl::HandleSignOut(const httplib::Request& req,
                                  httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  absl::StatusOr<Caller> caller = IdentifyForPost(req);
  if (!caller.ok()) return SendStatus(res, caller.status());
  if (caller->session.has_value()) {
    if (absl::Status deleted = sessions_->Delete(caller->session->id);
        !deleted.ok()) {
      return SendStatus(res, deleted);
    }
  }
  res.set_header("Set-Cookie", absl::StrCat(kSessionCookie, "=",
                                            CookieAttributes(), "; Max-Age=0"));
  res.status = 204;
}

void Gateway::Impl::HandleReady(const httplib::Request&,
                                httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  bool ready = !stopping_.HasBeenNotified();
  std::string json = "{\"brokers\":[";
  bool first = true;
  for (const auto& [target, status] : brokers_->Health(absl::Seconds(2))) {
    ready = ready && status.ok();
    absl::StrAppend(
        &json, first ? "" : ",", "{\"target\":", JsonString(target),
        ",\"ok\":", status.ok() ? "true" : "false",
        status.ok() ? ""
                    : absl::StrCat(",\"error\":", JsonString(status.message())),
        "}");
    first = false;
  }
  const absl::StatusOr<store::RedisValue> pong = redis_->Command({"PING"});
  ready = ready && pong.ok();
  absl::StrAppend(&json, "],\"redis\":{\"ok\":", pong.ok() ? "true" : "false",
                  pong.ok() ? ""
                            : absl::StrCat(",\"error\":",
                                           JsonString(pong.status().message())),
                  "},\"ready\":", ready ? "true" : "false", "}");
  res.status = ready ? 200 : 503;
  res.set_content(json, kJson);
}

void Gateway::Impl::HandleStatic(const httplib::Request& req,
                                 httplib::Response& res) {
  std::string path = req.path;
  if (absl::EndsWith(path, "/")) path += "index.html";
  auto it = static_files_.find(path);
  if (it == static_files_.end()) {
    // "/agency" serves agency.html.
    it = static_files_.find(path + ".html");
  }
  if (it == static_files_.end()) {
    res.status = 404;
    res.set_content("Sidan finns inte. (Not found.)\n",
                    "text/plain; charset=utf-8");
    return;
  }
  const StaticFile& file = it->second;
  // Small files that change with each release: always revalidated, and a
  // matching ETag costs no body.
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", file.etag);
  if (req.get_header_value("If-None-Match") == file.etag) {
    res.status = 304;
    return;
  }
  res.set_content(file.content, file.type);
}

void Gateway::Impl::Shutdown(absl::Duration grace) {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  // Open event streams end first, each told to reconnect.
  hub_->Stop();
  absl::SleepFor(std::min(grace, absl::Milliseconds(200)));
  server_->stop();
  if (listener_.joinable()) listener_.join();
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() { impl_->Shutdown(absl::Seconds(1)); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(
    GatewayOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status started = impl->Start(); !started.ok()) return started;
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

int Gateway::port() const { return impl_->port(); }

int Gateway::event_streams() const { return impl_->event_streams(); }

void Gateway::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }

}  // namespace slussen::web
