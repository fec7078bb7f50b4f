#include "clients/web/identity.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/text_rules.h"

namespace slussen::web {
namespace {

bool IsRole(absl::string_view role) {
  return role == "agency" || role == "provider" || role == "coordinator" ||
         role == "admin";
}

std::string Asn1String(const ASN1_STRING* text) {
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     ASN1_STRING_length(text));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> BrokerMetadata(
    const WebIdentity& identity) {
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"x-slussen-organisation", identity.organisation},
      {"x-slussen-role", identity.role}};
  if (!identity.region.empty()) {
    metadata.emplace_back("x-slussen-region", identity.region);
  }
  if (!identity.person.empty()) {
    metadata.emplace_back("x-slussen-person", identity.person);
  }
  return metadata;
}

absl::Status ValidateIdentity(const WebIdentity& identity) {
  if (!core::IsSlugId(identity.organisation)) {
    return core::InvalidField("organisation",
                              "must be 2..63 characters of [a-z0-9-]",
                              identity.organisation);
  }
  if (!IsRole(identity.role)) {
    return core::InvalidField("role",
                              "must be agency, provider, coordinator or admin",
                              identity.role);
  }
  if (!identity.region.empty() && !core::IsRegionCode(identity.region)) {
    return core::InvalidField("region",
                              "must be a two-digit län code (01, 03, ..., 25)",
                              identity.region);
  }
  if (identity.role == "coordinator" && identity.region.empty()) {
    return core::MissingField("region",
                              "is required for a coordinator: the region it "
                              "coordinates");
  }
  if (!identity.person.empty() &&
      (!core::ValidateRequestId("person", identity.person).ok() ||
       core::ContainsPersonnummer(identity.person))) {
    return core::InvalidFieldWithheld(
        "person",
        "must be a staff handle of 1..64 characters of [A-Za-z0-9._:-], "
        "never a personnummer");
  }
  return absl::OkStatus();
}

absl::StatusOr<UsersFile> UsersFile::Parse(absl::string_view text,
                                           absl::string_view source) {
  UsersFile file;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", number, ": ", why,
                       " (a line is: key organisation role region person "
                       "name, with - for no region or person)"));
    };
    if (words.size() < 6) return bad("too few fields");
    const absl::string_view key = words[0];
    if (!(absl::StartsWith(key, "hsa:") || absl::StartsWith(key, "san:") ||
          absl::StartsWith(key, "user:") || absl::StartsWith(key, "dev:")) ||
        key.find(':') + 1 == key.size()) {
      return bad(
          absl::StrCat("the key ", core::QuoteValue(key),
                       " must be hsa:, san:, user: or dev: and a value"));
    }
    WebIdentity identity;
    identity.organisation = std::string(words[1]);
    identity.role = absl::AsciiStrToLower(words[2]);
    identity.region = words[3] == "-" ? "" : std::string(words[3]);
    identity.person = words[4] == "-" ? "" : std::string(words[4]);
    // The name is the rest of the line, spaces kept.
    const size_t name_at = static_cast<size_t>(words[5].data() - line.data());
    identity.name = std::string(line.substr(name_at));
    if (absl::Status valid = ValidateIdentity(identity); !valid.ok()) {
      return bad(valid.message());
    }
    if (!file.by_key_.emplace(std::string(key), file.entries_.size()).second) {
      return bad(
          absl::StrCat("the key ", core::QuoteValue(key), " is given twice"));
    }
    file.entries_.emplace_back(std::string(key), std::move(identity));
  }
  return file;
}

absl::StatusOr<UsersFile> UsersFile::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the users file ", core::QuoteValue(path)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const WebIdentity* UsersFile::Find(absl::string_view key) const {
  const auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &entries_[it->second].second;
}

std::vector<std::string> CertificateKeys(X509* certificate) {
  std::vector<std::string> keys;
  if (certificate == nullptr) return keys;
  // The subject's serialNumber: SITHS cards carry the HSA-id there.
  X509_NAME* subject = X509_get_subject_name(certificate);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_serialNumber, -1);
       i >= 0; i = X509_NAME_get_index_by_NID(subject, NID_serialNumber, i)) {
    const std::string serial =
        Asn1String(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (!serial.empty()) keys.push_back(absl::StrCat("hsa:", serial));
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_URI || name->type == GEN_EMAIL ||
          name->type == GEN_DNS) {
        const std::string value = Asn1String(name->d.ia5);
        if (!value.empty()) keys.push_back(absl::StrCat("san:", value));
      }
    }
    GENERAL_NAMES_free(names);
  }
  return keys;
}

}  // namespace slussen::web
