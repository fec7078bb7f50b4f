#include "clients/cli/cli_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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
