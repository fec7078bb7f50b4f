// Keyed pseudonyms for personnummer, so that none is ever stored in clear.
//
// A personnummer has about 10^7 plausible values a year of birth, so a plain
// hash of one is reversed by trying them all. The broker stores instead
// HMAC-SHA256 under a secret key that lives outside Redis (a file or an
// environment variable): a copy of the database alone reveals nothing, and
// the same person still gets the same pseudonym, which is what matching
// needs.
//
//   ASSIGN_OR_RETURN(Pseudonymizer pseudonymizer,
//                    Pseudonymizer::FromFile("/etc/slussen/pnr.key"));
//   std::string stored = pseudonymizer.Pseudonymize(personnummer);
//   // "k1a2b3c4d:5f0e...": the key id, then 64 hex digits.
//
// Every pseudonym starts with the id of the key that made it, derived from
// the key by a one-way hash, so a key rotation shows in the data without the
// key being revealed. Inputs are domain-separated ("personnummer:",
// "fingerprint:") so that one key can serve other identifiers later without
// two kinds of input ever producing the same output.
//
// The key is never logged or exposed: there is no accessor for it, no
// operator<<, and copies are not allowed (a move leaves nothing behind); the
// destructor wipes it.
//
// Thread-safety: immutable after construction. All const methods may be
// called concurrently from any number of threads; moving one is not
// thread-safe, as for any value.
#ifndef SLUSSEN_BROKER_CORE_MODEL_PSEUDONYMIZER_H_
#define SLUSSEN_BROKER_CORE_MODEL_PSEUDONYMIZER_H_

#include <cstddef>
#include <iosfwd>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/personnummer.h"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX

namespace slussen::core {

class Pseudonymizer {
 public:
  // 256 bits: the length of the HMAC-SHA256 output, below which the key,
  // not the hash, would be the weakest part.
  static constexpr size_t kMinKeyBytes = 32;

  // Reads the key from `path`: the whole file, surrounding whitespace
  // trimmed (`openssl rand -hex 32 > pnr.key` makes a good one). Errors name
  // the file and the rule: NOT_FOUND (or another errno code) when it cannot
  // be opened; FAILED_PRECONDITION when it is not a regular file or group or
  // others have any permission on it (a readable key undoes the point of
  // having one; fix with chmod 600); INVALID_ARGUMENT when the trimmed key is
  // shorter than kMinKeyBytes.
  static absl::StatusOr<Pseudonymizer> FromFile(const std::string& path);

  // Reads the key from the environment variable `variable` (e.g.
  // "SLUSSEN_PNR_KEY"), surrounding whitespace trimmed. NOT_FOUND when it is
  // not set; INVALID_ARGUMENT when shorter than kMinKeyBytes.
  static absl::StatusOr<Pseudonymizer> FromEnvironment(const char* variable);

  // Uses `key` as given, untrimmed (for tests and for callers that hold the
  // key already). INVALID_ARGUMENT when shorter than kMinKeyBytes.
  static absl::StatusOr<Pseudonymizer> FromKey(std::string key);

  Pseudonymizer(Pseudonymizer&& other) noexcept;
  Pseudonymizer& operator=(Pseudonymizer&& other) noexcept;
  Pseudonymizer(const Pseudonymizer&) = delete;
  Pseudonymizer& operator=(const Pseudonymizer&) = delete;
  ~Pseudonymizer();

  // "k" and the first 8 hex digits of SHA-256("slussen-key-id:" + key). Not
  // secret; fine to log.
  const std::string& key_id() const { return key_id_; }

  // key_id() + ":" + lowercase hex of HMAC-SHA256(key, "personnummer:" +
  // personnummer.digits). The same for every written form of one number,
  // because `digits` is normalised to 12 digits.
  std::string Pseudonymize(const Personnummer& personnummer) const;

  // Lowercase hex of HMAC-SHA256(key, "fingerprint:" + bytes), without the
  // key id. For remembering what a request held (idempotent creates) where
  // the bytes may contain personal data that a plain hash would expose.
  std::string Fingerprint(absl::string_view bytes) const;

  // Lowercase hex of HMAC-SHA256(key, "audit-subject:" + participant): the
  // audit trail's name for a participant, `participant` being the
  // personnummer's pseudonym where there is one, else
  // "<referring organisation>/<the agency's participant pseudonym>". A
  // hash of a hash so that audit records, which outlive erasure, hold
  // neither.
  std::string AuditSubject(absl::string_view participant) const;

  // Not printable: printing would be the easiest way to leak the key.
  friend std::ostream& operator<<(std::ostream&, const Pseudonymizer&) = delete;

 private:
  explicit Pseudonymizer(std::string key);

  // Lowercase hex of HMAC-SHA256(key_, domain + bytes).
  std::string HmacHex(absl::string_view domain, absl::string_view bytes) const;

  std::string key_;  // Secret; wiped on destruction and move-assignment.
  std::string key_id_;
  // HMAC-SHA256 keyed with key_, copied for each MAC: keying it, and
  // OpenSSL's look-up of the algorithm, once instead of on every call.
  // Freed (and wiped by OpenSSL) with the key.
  evp_mac_ctx_st* keyed_ = nullptr;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_PSEUDONYMIZER_H_
