#include "clients/web/session_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace slussen::web {
namespace {

constexpr absl::string_view kKeyPrefix = "slussen:web:session:";

std::string KeyOf(absl::string_view id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  return absl::StrCat(
      kKeyPrefix, absl::BytesToHexString(absl::string_view(
                      reinterpret_cast<const char*>(digest), sizeof(digest))));
}

// A session id is what RandomHex(32) makes; anything else is no session,
// and is not looked up.
bool IsSessionId(absl::string_view id) {
  if (id.size() != 64) return false;
  for (const char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string RandomHex(int bytes) {
  std::string raw(static_cast<size_t>(bytes), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes) != 1) {
    // No randomness means no safe session: stop rather than guessable ids.
    std::abort();
  }
  return absl::BytesToHexString(raw);
}

bool SecretsEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && !a.empty() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SessionStore::SessionStore(store::RedisPool* pool, Options options,
                           std::function<absl::Time()> now)
    : pool_(pool), options_(options), now_(std::move(now)) {}

absl::StatusOr<Session> SessionStore::Create(const WebIdentity& identity,
                                             const std::string& bound_key) {
  Session session;
  session.bound_key = bound_key;
  session.id = RandomHex(32);
  session.identity = identity;
  session.csrf_token = RandomHex(32);
  session.created = now_();
  session.expires = session.created + options_.absolute;
  const std::string key = KeyOf(session.id);
  const absl::StatusOr<std::vector<store::RedisValue>> replies =
      pool_->Pipeline(
          {{"HSET",         key,
            "organisation", identity.organisation,
            "role",         identity.role,
            "region",       identity.region,
            "person",       identity.person,
            "name",         identity.name,
            "bound",        bound_key,
            "csrf",         session.csrf_token,
            "created_ms",   absl::StrCat(absl::ToUnixMillis(session.created)),
            "expires_ms",   absl::StrCat(absl::ToUnixMillis(session.expires))},
           {"PEXPIRE", key,
            absl::StrCat(absl::ToInt64Milliseconds(options_.idle))}});
  if (!replies.ok()) return replies.status();
  for (const store::RedisValue& reply : *replies) {
    if (reply.type == store::RedisValue::Type::kError) {
      return absl::InternalError(
          absl::StrCat("Redis refused the session: ", reply.str));
    }
  }
  return session;
}

absl::StatusOr<std::optional<Session>> SessionStore::Find(
    absl::string_view id) {
  if (!IsSessionId(id)) return std::nullopt;
  const std::string key = KeyOf(id);
  const absl::StatusOr<std::vector<store::RedisValue>> replies =
      pool_->Pipeline(
          {{"HGETALL", key},
           {"PEXPIRE", key,
            absl::StrCat(absl::ToInt64Milliseconds(options_.idle))}});
  if (!replies.ok()) return replies.status();
  const store::RedisValue& fields = (*replies)[0];
  if (fields.type != store::RedisValue::Type::kArray ||
      fields.elements.empty()) {
    return std::nullopt;
  }
  Session session;
  session.id = std::string(id);
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& name = fields.elements[i].str;
    const std::string& value = fields.elements[i + 1].str;
    if (name == "organisation") session.identity.organisation = value;
    if (name == "role") session.identity.role = value;
    if (name == "region") session.identity.region = value;
    if (name == "person") session.identity.person = value;
    if (name == "name") session.identity.name = value;
    if (name == "csrf") session.csrf_token = value;
    if (name == "bound") session.bound_key = value;
    if (name == "created_ms") (void)absl::SimpleAtoi(value, &created_ms);
    if (name == "expires_ms") (void)absl::SimpleAtoi(value, &expires_ms);
  }
  session.created = absl::FromUnixMillis(created_ms);
  session.expires = absl::FromUnixMillis(expires_ms);
  if (expires_ms == 0 || now_() >= session.expires ||
      session.csrf_token.empty()) {
    (void)Delete(id);
    return std::nullopt;
  }
  return session;
}

absl::Status SessionStore::Delete(absl::string_view id) {
  if (!IsSessionId(id)) return absl::OkStatus();
  return pool_->Command({"DEL", KeyOf(id)}).status();
}

}  // namespace slussen::web
