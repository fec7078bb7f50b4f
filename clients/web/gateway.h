// slussen-web: the HTTP front door. One server on one port serves
// - every unary RPC of the API as Connect JSON (connect.h),
//   POST /slussen.v1.<Service>/<Method>;
// - live events as Server-Sent Events (event_hub.h), GET /v1/events;
// - sign-in, the session and sign-out: GET /v1/session, POST /v1/sign-in,
//   POST /v1/sign-out, and for development GET /v1/sign-in/identities;
// - the web desks' static files, from memory, with ETags;
// - /healthz (the process) and /readyz (the brokers and Redis).
//
// Who is calling, in this order (README, "The web gateway"):
// 1. a session cookie: the session's person; a POST must also carry the
//    session's X-CSRF-Token. A cookie of an ended session is refused, so a
//    browser is sent to sign in again rather than acting as someone else;
// 2. otherwise by the sign-in mode: development reads x-slussen-* headers
//    (as the broker's development mode does); certificate maps the client
//    certificate through the users file; proxy maps the trusted proxy's
//    user header through it.
// Every POST must be Content-Type application/json: a browser sends that
// across sites only after a CORS preflight, which the gateway never
// grants, so no other site can make a signed-in browser call it.
//
// Every response carries a strict Content-Security-Policy (no inline
// script or style), X-Content-Type-Options, Referrer-Policy and
// X-Frame-Options; API answers are not cached.
//
// Thread-safe. Each connection has a thread (cpp-httplib's model), up to
// Options::max_connections; an open event stream holds its thread.
#ifndef SLUSSEN_CLIENTS_WEB_GATEWAY_H_
#define SLUSSEN_CLIENTS_WEB_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"
#include "clients/web/broker_client.h"
#include "clients/web/identity.h"
#include "clients/web/session_store.h"

namespace slussen::web {

enum class SignInMode { kDevelopment, kCertificate, kProxy };

// "development", "certificate", "proxy".
absl::StatusOr<SignInMode> ParseSignInMode(absl::string_view text);
std::string SignInModeName(SignInMode mode);

struct GatewayOptions {
  // "host:port"; port 0 picks a free one (see Gateway::port).
  std::string listen = "127.0.0.1:8080";
  SignInMode sign_in = SignInMode::kDevelopment;
  UsersFile users;
  // The web desks; empty serves none.
  std::string static_dir;
  // HTTPS: the gateway's certificate and key. With tls_client_ca_file the
  // gateway asks browsers for a client certificate signed by that CA
  // (certificate sign-in requires it).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Proxy sign-in: the header with the user's name, and the addresses it is
  // trusted from.
  std::string proxy_user_header = "X-Forwarded-User";
  std::vector<std::string> trusted_proxies;
  // The session cookie is Secure: a proxy in front serves HTTPS. (Always
  // so when the gateway serves HTTPS itself.)
  bool cookie_secure = false;
  // Development sign-in on an address other than loopback.
  bool insecure_allow_remote = false;
  BrokerClientOptions brokers;
  store::RedisOptions redis;
  SessionStore::Options sessions;
  size_t max_body_bytes = 1 << 20;
  int max_connections = 4096;
  // How often an idle event stream sends a comment, so proxies keep it.
  absl::Duration keepalive = absl::Seconds(15);
  // Events a feed keeps for reconnecting pages, and how long a feed
  // without pages stays open.
  size_t events_kept = 1024;
  absl::Duration feed_linger = absl::Seconds(60);
};

class Gateway {
 public:
  // Checks `options`, connects (lazily) to the brokers and Redis, binds
  // the port and starts serving. INVALID_ARGUMENT for options that do not
  // fit together, naming the flag.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options);
  ~Gateway();

  int port() const;

  // Broker event streams open now.
  int event_streams() const;

  // Tells event streams to reconnect, then stops within `grace`.
  void Shutdown(absl::Duration grace);

  class Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_GATEWAY_H_
