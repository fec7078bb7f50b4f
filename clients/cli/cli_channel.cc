#include "clients/cli/cli_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace slussen::cli {
namespace {

absl::StatusOr<std::string> ReadFile(const char* flag,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  if (!in.is_open() || content.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": cannot read \"", path, "\" (missing or empty)"));
  }
  return content;
}

}  // namespace

absl::StatusOr<TlsFiles> TlsFilesFromArgs(const CliArgs& args,
                                          const std::string& role,
                                          const std::string& organisation) {
  const std::string dir = args.Get("certs", "", "SLUSSEN_CERTS");
  TlsFiles files;
  files.ca_file = args.Get("tls_ca_file", "", "SLUSSEN_TLS_CA_FILE");
  files.cert_file = args.Get("tls_cert_file", "", "SLUSSEN_TLS_CERT_FILE");
  files.key_file = args.Get("tls_key_file", "", "SLUSSEN_TLS_KEY_FILE");
  if (!dir.empty()) {
    if (files.ca_file.empty()) files.ca_file = absl::StrCat(dir, "/ca.pem");
    if (files.cert_file.empty() && files.key_file.empty()) {
      if (organisation.empty()) {
        return absl::InvalidArgumentError(
            "--certs needs --org (and --role) to pick the client certificate "
            "DIR/<role>-<org>.pem");
      }
      const std::string base = absl::StrCat(dir, "/", role, "-", organisation);
      files.cert_file = absl::StrCat(base, ".pem");
      files.key_file = absl::StrCat(base, ".key");
    }
  }
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together");
  }
  if (!files.cert_file.empty() && files.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file needs --tls_ca_file: the CA that signed the "
        "broker's certificate");
  }
  return files;
}

absl::StatusOr<std::string> RegionOfCertificate(const std::string& cert_file) {
  absl::StatusOr<std::string> pem = ReadFile("tls_cert_file", cert_file);
  if (!pem.ok()) return pem.status();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert_file: \"", cert_file, "\" is not a PEM certificate"));
  }
  std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)> names(
      static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)),
      [](GENERAL_NAMES* n) { GENERAL_NAMES_free(n); });
  if (names == nullptr) return std::string();
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    const std::string text(reinterpret_cast<const char*>(uri->data),
                           uri->length);
    if (!absl::StartsWith(text, "urn:slussen:")) continue;
    // urn:slussen:<role>:<organisation>[:<region>]
    const std::vector<std::string> parts = absl::StrSplit(text, ':');
    return parts.size() == 5 ? parts[4] : std::string();
  }
  return std::string();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& server, const TlsFiles& files) {
  if (!files.enabled()) {
    return grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadFile("tls_ca_file", files.ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *std::move(ca);
  if (!files.cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadFile("tls_cert_file", files.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("tls_key_file", files.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::CreateChannel(server, grpc::SslCredentials(ssl));
}

}  // namespace slussen::cli
