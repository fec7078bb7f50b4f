#include "tests/support/test_certificates.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"

namespace slussen::testing {
namespace {

struct Free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
  void operator()(BIGNUM* number) const { BN_free(number); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using X509Ptr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Free>;
using BignumPtr = std::unique_ptr<BIGNUM, Free>;

// INTERNAL with OpenSSL's last error, which it clears.
absl::Status OpenSslError(absl::string_view what) {
  char text[256] = "unknown error";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    ERR_error_string_n(code, text, sizeof(text));
  }
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", text));
}

std::string DrainBio(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size > 0 ? static_cast<size_t>(size) : 0);
}

absl::StatusOr<std::string> ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("writing a certificate");
  }
  return DrainBio(bio.get());
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return OpenSslError("writing a private key");
  }
  return DrainBio(bio.get());
}

// Adds the extension `nid` with the value `value` in openssl.cnf's syntax.
absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) {
    return OpenSslError(absl::StrCat("extension ", OBJ_nid2sn(nid)));
  }
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) return OpenSslError("adding an extension");
  return absl::OkStatus();
}

// Built name by name (not from a text such as "URI:a,DNS:b"), so that a
// test can put any bytes in a URI.
absl::Status AddSubjectAlternativeNames(X509* cert,
                                        const CertificateSpec& spec) {
  if (spec.uris.empty() && spec.dns_names.empty() &&
      spec.ip_addresses.empty()) {
    return absl::OkStatus();
  }
  NamesPtr names(GENERAL_NAMES_new());
  const auto add_text = [&](int type, const std::string& text) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    ASN1_STRING_set(value, text.data(), static_cast<int>(text.size()));
    GENERAL_NAME_set0_value(name, type, value);
    sk_GENERAL_NAME_push(names.get(), name);
  };
  for (const std::string& uri : spec.uris) add_text(GEN_URI, uri);
  for (const std::string& dns : spec.dns_names) add_text(GEN_DNS, dns);
  for (const std::string& ip : spec.ip_addresses) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(ip.c_str());
    if (address == nullptr) return OpenSslError(absl::StrCat("IP ", ip));
    GENERAL_NAME* name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_IPADD, address);
    sk_GENERAL_NAME_push(names.get(), name);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("subjectAltName");
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("making an EC key");
  return key;
}

// A certificate for `key` named `common_name`, valid as `spec` says, signed
// by `issuer_key` (itself when `issuer` is null).
absl::StatusOr<X509Ptr> NewCertificate(EVP_PKEY* key,
                                       const CertificateSpec& spec,
                                       X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  BignumPtr serial(BN_new());
  if (cert == nullptr || serial == nullptr ||
      X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()),
                      absl::ToInt64Seconds(spec.not_before)) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                      absl::ToInt64Seconds(spec.not_after)) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("making a certificate");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const auto* cn =
      reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  const auto* org = reinterpret_cast<const unsigned char*>("Slussen tests");
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, org, -1, -1, 0) !=
          1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0) !=
          1 ||
      X509_set_issuer_name(
          cert.get(),
          issuer == nullptr ? subject : X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("naming a certificate");
  }
  return cert;
}

}  // namespace

struct TestCertificateAuthority::Keys {
  KeyPtr key;
  X509Ptr cert;
};

CertificateSpec ClientCertificate(absl::string_view uri) {
  CertificateSpec spec;
  spec.common_name = uri.empty() ? "no identity" : std::string(uri);
  if (!uri.empty()) spec.uris.emplace_back(uri);
  return spec;
}

CertificateSpec GatewayCertificate(absl::string_view name) {
  return ClientCertificate(absl::StrCat("urn:slussen:gateway:", name));
}

CertificateSpec LocalhostServerCertificate() {
  CertificateSpec spec;
  spec.common_name = "localhost";
  spec.dns_names = {"localhost"};
  spec.ip_addresses = {"127.0.0.1"};
  spec.server = true;
  return spec;
}

TestCertificateAuthority::TestCertificateAuthority(
    std::shared_ptr<const Keys> keys, std::string certificate_pem)
    : keys_(std::move(keys)), certificate_pem_(std::move(certificate_pem)) {}

absl::StatusOr<TestCertificateAuthority> TestCertificateAuthority::Create(
    absl::string_view common_name) {
  auto keys = std::make_shared<Keys>();
  ASSIGN_OR_RETURN(keys->key, NewKey());
  CertificateSpec spec;
  spec.common_name = std::string(common_name);
  spec.not_after = absl::Hours(48);
  ASSIGN_OR_RETURN(keys->cert, NewCertificate(keys->key.get(), spec, nullptr,
                                              keys->key.get()));
  X509* ca = keys->cert.get();
  for (const auto& [nid, value] : std::vector<std::pair<int, std::string>>{
           {NID_basic_constraints, "critical,CA:TRUE"},
           {NID_key_usage, "critical,keyCertSign,cRLSign"},
           {NID_subject_key_identifier, "hash"}}) {
    RETURN_IF_ERROR(AddExtension(ca, ca, nid, value));
  }
  if (X509_sign(ca, keys->key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing the CA certificate");
  }
  ASSIGN_OR_RETURN(std::string pem, ToPem(ca));
  return TestCertificateAuthority(std::move(keys), std::move(pem));
}

absl::StatusOr<KeyAndCertificate> TestCertificateAuthority::Issue(
    const CertificateSpec& spec) const {
  ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  X509* ca = keys_->cert.get();
  ASSIGN_OR_RETURN(X509Ptr cert,
                   NewCertificate(key.get(), spec, ca, keys_->key.get()));
  for (const auto& [nid, value] : std::vector<std::pair<int, std::string>>{
           {NID_basic_constraints, "critical,CA:FALSE"},
           {NID_key_usage, "critical,digitalSignature"},
           {NID_ext_key_usage, spec.server ? "serverAuth" : "clientAuth"},
           {NID_authority_key_identifier, "keyid"}}) {
    RETURN_IF_ERROR(AddExtension(cert.get(), ca, nid, value));
  }
  RETURN_IF_ERROR(AddSubjectAlternativeNames(cert.get(), spec));
  if (X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing a certificate");
  }
  KeyAndCertificate issued;
  ASSIGN_OR_RETURN(issued.private_key_pem, ToPem(key.get()));
  ASSIGN_OR_RETURN(issued.certificate_pem, ToPem(cert.get()));
  return issued;
}

}  // namespace slussen::testing
