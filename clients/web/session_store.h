// Signed-in people's sessions, kept in Redis so that several gateways
// behind a load balancer share them and a sign-out ends a session at once
// everywhere (a signed cookie could not be taken back before it expired).
//
// A session id is 32 random bytes in hex, given to the browser in an
// HttpOnly, SameSite=Strict cookie; Redis holds it only as its SHA-256
// (key slussen:web:session:<hash>), so a copy of Redis lets no one sign in
// as anyone. A session ends when it has not been used for `idle` (the key's
// time to live, renewed by each use) or `absolute` after sign-in, and at
// sign-out. Each session has its own CSRF token, which every
// state-changing request must send back in the X-CSRF-Token header.
//
// Thread-safe, as the pool is.
#ifndef SLUSSEN_CLIENTS_WEB_SESSION_STORE_H_
#define SLUSSEN_CLIENTS_WEB_SESSION_STORE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"
#include "clients/web/identity.h"

namespace slussen::web {

struct Session {
  // The secret the cookie carries; never logged.
  std::string id;
  WebIdentity identity;
  std::string csrf_token;
  absl::Time created;
  // The absolute end, whatever the use.
  absl::Time expires;
  // The users-file key that signed the person in ("hsa:...", "user:..."),
  // which every request of the session must present again (the same
  // certificate, or the proxy naming the same user); empty for a
  // development sign-in.
  std::string bound_key;
};

// `bytes` random bytes from OpenSSL, in lower-case hex.
std::string RandomHex(int bytes);

// Whether `a` equals `b`, in time that does not depend on where they
// differ (for tokens).
bool SecretsEqual(absl::string_view a, absl::string_view b);

class SessionStore {
 public:
  struct Options {
    absl::Duration idle = absl::Minutes(30);
    absl::Duration absolute = absl::Hours(10);
  };

  SessionStore(store::RedisPool* pool, Options options,
               std::function<absl::Time()> now = &absl::Now);

  // A new session of `identity`, bound to `bound_key` (see Session).
  absl::StatusOr<Session> Create(const WebIdentity& identity,
                                 const std::string& bound_key = "");

  // The session `id` names, its idle time renewed; nullopt if there is none
  // (never was, signed out, or ended). UNAVAILABLE if Redis cannot be
  // reached.
  absl::StatusOr<std::optional<Session>> Find(absl::string_view id);

  // Ends the session `id` names (none: nothing to do).
  absl::Status Delete(absl::string_view id);

  const Options& options() const { return options_; }

 private:
  store::RedisPool* const pool_;
  const Options options_;
  const std::function<absl::Time()> now_;
};

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_SESSION_STORE_H_
