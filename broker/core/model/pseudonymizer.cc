#include "broker/core/model/pseudonymizer.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace slussen::core {
namespace {

constexpr char kKeyIdDomain[] = "slussen-key-id:";
constexpr char kPersonnummerDomain[] = "personnummer:";
constexpr char kFingerprintDomain[] = "fingerprint:";
constexpr char kAuditSubjectDomain[] = "audit-subject:";
constexpr int kKeyIdHexDigits = 8;

// Overwrites `secret` in a way the compiler may not optimise away, so that a
// key does not linger in freed memory.
void Wipe(std::string& secret) {
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

// `where` says where the key came from (" in file /etc/slussen/pnr.key"),
// so the operator knows what to fix; the key itself is never in the message.
absl::Status CheckKeyLength(absl::string_view key, absl::string_view where,
                            bool trimmed) {
  if (key.size() >= Pseudonymizer::kMinKeyBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "personnummer key%s must be at least %d bytes, has %d (%smake one with: "
      "openssl rand -hex 32)",
      where, Pseudonymizer::kMinKeyBytes, key.size(),
      trimmed ? "surrounding whitespace not counted; " : ""));
}

// The trimmed secret of `raw`, which is wiped.
std::string TrimmedSecret(std::string& raw) {
  std::string key(absl::StripAsciiWhitespace(raw));
  Wipe(raw);
  return key;
}

// Reads all of `fd`, which is open on `path`.
absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      Wipe(content);
      OPENSSL_cleanse(buffer, sizeof(buffer));
      return absl::ErrnoToStatus(
          error, absl::StrCat("cannot read personnummer key file ", path));
    }
    content.append(buffer, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  return content;
}

// Refuses a key file that anyone but its owner may touch: readable, it
// leaks the key; writable, it lets someone swap the key and so the
// pseudonyms. The same rule ssh applies to private keys.
absl::Status CheckKeyFileMode(int fd, const std::string& path) {
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot stat personnummer key file ", path));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "personnummer key file ", path, " must be a regular file"));
  }
  const mode_t mode = info.st_mode & 07777;
  if ((mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "personnummer key file %s must be accessible to its owner only, but "
        "has mode %04o; run: chmod 600 %s",
        path, mode, path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Pseudonymizer> Pseudonymizer::FromFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot open personnummer key file ", path));
  }
  // The mode is checked on the open descriptor, so the file read is the file
  // checked even if the path is swapped in between.
  absl::Status mode_ok = CheckKeyFileMode(fd, path);
  absl::StatusOr<std::string> content =
      mode_ok.ok() ? ReadAll(fd, path) : absl::StatusOr<std::string>(mode_ok);
  close(fd);
  if (!content.ok()) return content.status();
  std::string key = TrimmedSecret(*content);
  absl::Status length_ok =
      CheckKeyLength(key, absl::StrCat(" in file ", path), /*trimmed=*/true);
  if (!length_ok.ok()) {
    Wipe(key);
    return length_ok;
  }
  return Pseudonymizer(std::move(key));
}

absl::StatusOr<Pseudonymizer> Pseudonymizer::FromEnvironment(
    const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "environment variable ", variable,
        " is not set; it must hold the personnummer key (at least ",
        kMinKeyBytes, " bytes)"));
  }
  std::string raw(value);
  std::string key = TrimmedSecret(raw);
  absl::Status length_ok =
      CheckKeyLength(key, absl::StrCat(" in environment variable ", variable),
                     /*trimmed=*/true);
  if (!length_ok.ok()) {
    Wipe(key);
    return length_ok;
  }
  return Pseudonymizer(std::move(key));
}

absl::StatusOr<Pseudonymizer> Pseudonymizer::FromKey(std::string key) {
  absl::Status length_ok = CheckKeyLength(key, "", /*trimmed=*/false);
  if (!length_ok.ok()) {
    Wipe(key);
    return length_ok;
  }
  return Pseudonymizer(std::move(key));
}

Pseudonymizer::Pseudonymizer(std::string key) : key_(std::move(key)) {
  std::string input = absl::StrCat(kKeyIdDomain, key_);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  key_id_ = absl::StrCat(
      "k", absl::BytesToHexString(
               absl::string_view(reinterpret_cast<const char*>(digest),
                                 sizeof(digest)))
               .substr(0, kKeyIdHexDigits));
  // `input` holds the key too.
  Wipe(input);
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  keyed_ = hmac == nullptr ? nullptr : EVP_MAC_CTX_new(hmac);
  EVP_MAC_free(hmac);  // the context keeps its own reference
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  if (keyed_ == nullptr ||
      EVP_MAC_init(keyed_, reinterpret_cast<const unsigned char*>(key_.data()),
                   key_.size(), params) != 1) {
    // Only an OpenSSL without HMAC-SHA256 gets here (see HmacHex).
    std::fputs("slussen: no HMAC-SHA256 in OpenSSL for Pseudonymizer\n",
               stderr);
    std::abort();
  }
}

Pseudonymizer::Pseudonymizer(Pseudonymizer&& other) noexcept
    : key_(std::move(other.key_)),
      key_id_(std::move(other.key_id_)),
      keyed_(std::exchange(other.keyed_, nullptr)) {
  Wipe(other.key_);
}

Pseudonymizer& Pseudonymizer::operator=(Pseudonymizer&& other) noexcept {
  if (this != &other) {
    Wipe(key_);
    EVP_MAC_CTX_free(keyed_);
    key_ = std::move(other.key_);
    key_id_ = std::move(other.key_id_);
    keyed_ = std::exchange(other.keyed_, nullptr);
    Wipe(other.key_);
  }
  return *this;
}

Pseudonymizer::~Pseudonymizer() {
  Wipe(key_);
  EVP_MAC_CTX_free(keyed_);
}

std::string Pseudonymizer::Pseudonymize(
    const Personnummer& personnummer) const {
  return absl::StrCat(key_id_, ":",
                      HmacHex(kPersonnummerDomain, personnummer.digits));
}

std::string Pseudonymizer::Fingerprint(absl::string_view bytes) const {
  return HmacHex(kFingerprintDomain, bytes);
}

std::string Pseudonymizer::AuditSubject(absl::string_view participant) const {
  return HmacHex(kAuditSubjectDomain, participant);
}

std::string Pseudonymizer::HmacHex(absl::string_view domain,
                                   absl::string_view bytes) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_length = 0;
  // A copy per call: the keyed context is shared by every thread.
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed_);
  const bool done =
      ctx != nullptr &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(domain.data()),
                     domain.size()) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size()) == 1 &&
      EVP_MAC_final(ctx, mac, &mac_length, sizeof(mac)) == 1;
  EVP_MAC_CTX_free(ctx);
  if (!done) {
    // Only an OpenSSL without SHA-256, or out of memory, gets here. An
    // empty or made-up pseudonym would silently merge people, so stop
    // instead.
    std::fputs("slussen: HMAC-SHA256 failed in Pseudonymizer\n", stderr);
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), mac_length));
}

}  // namespace slussen::core
