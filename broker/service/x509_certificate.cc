#include "broker/service/x509_certificate.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace slussen::service {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, NamesFree>;

BioPtr MemoryBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The first certificate in `pem`, or null. Clears OpenSSL's error queue,
// which a failed read leaves entries in.
X509Ptr ReadCertificate(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(bio == nullptr
                   ? nullptr
                   : PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return cert;
}

std::string SubjectLine(const X509* cert) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (out == nullptr) return "";
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, size > 0 ? static_cast<size_t>(size) : 0);
}

// An ASN1_TIME as an absl::Time; InfinitePast if it cannot be read.
absl::Time ToTime(const ASN1_TIME* time) {
  struct tm parts = {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
    return absl::InfinitePast();
  }
  return absl::FromTM(parts, absl::UTCTimeZone());
}

std::string Utc(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_sec, time, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<CertificateNames> ReadCertificateNames(absl::string_view pem) {
  const X509Ptr cert = ReadCertificate(pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        "not a PEM certificate (no \"-----BEGIN CERTIFICATE-----\" block "
        "that OpenSSL can read)");
  }
  CertificateNames names;
  names.subject = SubjectLine(cert.get());
  names.not_after = ToTime(X509_get0_notAfter(cert.get()));
  const NamesPtr alternatives(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (alternatives == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(alternatives.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alternatives.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    names.uris.emplace_back(reinterpret_cast<const char*>(uri->data),
                            static_cast<size_t>(uri->length));
  }
  return names;
}

absl::Status CheckTlsMaterial(const TlsMaterial& material, absl::Time now) {
  const X509Ptr cert = ReadCertificate(material.certificate_chain_pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        "--tls_cert_file must hold the server's certificate in PEM "
        "(\"-----BEGIN CERTIFICATE-----\"); OpenSSL could read none");
  }
  const absl::Time not_before = ToTime(X509_get0_notBefore(cert.get()));
  const absl::Time not_after = ToTime(X509_get0_notAfter(cert.get()));
  if (now < not_before || now >= not_after) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert_file: the server's certificate (", SubjectLine(cert.get()),
        ") is valid from ", Utc(not_before), " to ", Utc(not_after),
        ", not now (", Utc(now), "); clients would refuse it"));
  }
  KeyPtr key;
  if (BioPtr bio = MemoryBio(material.private_key_pem); bio != nullptr) {
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        "--tls_key_file must hold an unencrypted private key in PEM "
        "(\"-----BEGIN PRIVATE KEY-----\"); OpenSSL could read none");
  }
  const bool matches = X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file is not the private key of the certificate in "
        "--tls_cert_file (",
        SubjectLine(cert.get()), ")"));
  }
  if (ReadCertificate(material.client_ca_pem) == nullptr) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file must hold the CA certificate(s) that client "
        "certificates are signed by, in PEM; OpenSSL could read none");
  }
  return absl::OkStatus();
}

}  // namespace slussen::service
