// Who a person is to the gateway, and how the gateway names them to the
// broker.
//
// A person signs in in one of three ways (README, "The web gateway"):
// - certificate: a client certificate at the gateway's TLS port (SITHS
//   e-tjänstekort and the like); the users file maps it by the subject's
//   serial number (HSA-id), "hsa:<serialNumber>", or by a subject
//   alternative name, "san:<URI, e-mail or DNS name>";
// - proxy: an authenticating reverse proxy puts the user's name in a header
//   that the gateway trusts only from the proxy's addresses; the users file
//   maps it as "user:<name>";
// - development: on loopback only, the sign-in page offers every entry of
//   the users file, and curl may name the caller in x-slussen-* headers as
//   the broker's development mode does.
//
// The users file, one person a line (# starts a comment):
//
//   # key                    organisation        role      region  person  name
//   hsa:SE2321000016-A1B2    kommun-halmstad-eb  agency    13      a123    Anna
//   Andersson user:bertil              samordning-halland  coordinator 13 b456
//   Bertil Berg dev:cecilia              halsosam-halmstad   provider  - -
//   Cecilia (Hälsosam)
//
// A region or person of "-" is none; the name is the rest of the line.
// Every field is checked by the broker's rules (organisation a slug id,
// role agency, provider, coordinator or admin, region a län code and
// required for a coordinator, person a staff handle) when the file is read,
// so a bad line stops the gateway at start with its line number.
//
// Thread-safe: UsersFile is immutable; the functions are pure.
#ifndef SLUSSEN_CLIENTS_WEB_IDENTITY_H_
#define SLUSSEN_CLIENTS_WEB_IDENTITY_H_

#include <openssl/x509.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slussen::web {

struct WebIdentity {
  std::string organisation;
  // "agency", "provider", "coordinator" or "admin".
  std::string role;
  // A län code, or empty.
  std::string region;
  // The staff handle, or empty.
  std::string person;
  // For the screen: "Anna Andersson". Never sent to the broker.
  std::string name;
};

// The request metadata that names `identity` to the broker: x-slussen-
// organisation, -role, and -region and -person when set. A development
// broker takes it as the caller; a broker over mutual TLS takes it as the
// caller the gateway acts for, from a gateway certificate only.
std::vector<std::pair<std::string, std::string>> BrokerMetadata(
    const WebIdentity& identity);

// OK if `identity` passes the broker's rules (see above); INVALID_ARGUMENT
// naming the field otherwise.
absl::Status ValidateIdentity(const WebIdentity& identity);

class UsersFile {
 public:
  UsersFile() = default;

  // INVALID_ARGUMENT naming `source` and the line of the first bad entry,
  // or a key given twice.
  static absl::StatusOr<UsersFile> Parse(absl::string_view text,
                                         absl::string_view source);
  static absl::StatusOr<UsersFile> Load(const std::string& path);

  // The person with `key` ("hsa:...", "san:...", "user:...", "dev:..."),
  // or null.
  const WebIdentity* Find(absl::string_view key) const;

  // Every entry, in the file's order.
  const std::vector<std::pair<std::string, WebIdentity>>& entries() const {
    return entries_;
  }

 private:
  std::vector<std::pair<std::string, WebIdentity>> entries_;
  std::map<std::string, size_t, std::less<>> by_key_;
};

// The keys a verified client certificate may be known by in a users file,
// most specific first: "hsa:<subject serialNumber>" when the subject has
// one, then "san:<value>" for each URI, e-mail and DNS subject alternative
// name.
std::vector<std::string> CertificateKeys(X509* certificate);

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_IDENTITY_H_
