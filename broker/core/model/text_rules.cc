#include "broker/core/model/text_rules.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/personnummer.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

bool IsDigit(char c) {
  return absl::ascii_isdigit(static_cast<unsigned char>(c));
}

// Length of the run of digits starting at `i`.
size_t DigitRun(absl::string_view text, size_t i) {
  size_t n = 0;
  while (i + n < text.size() && IsDigit(text[i + n])) ++n;
  return n;
}

// Whether a personnummer starts at `i`, which begins a run of digits:
// 6 or 8 digits, an optional separator, 4 digits, and no digit after.
bool PersonnummerAt(absl::string_view text, size_t i) {
  const size_t head = DigitRun(text, i);
  if (head == 10 || head == 12) {
    return LooksLikePersonnummer(text.substr(i, head));
  }
  if (head != 6 && head != 8) return false;
  size_t j = i + head;
  if (j < text.size() && (text[j] == '-' || text[j] == '+' || text[j] == ' ')) {
    ++j;
  }
  if (DigitRun(text, j) != 4) return false;
  std::string candidate(text.substr(i, head));
  absl::StrAppend(&candidate, text.substr(j, 4));
  return LooksLikePersonnummer(candidate);
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

}  // namespace

size_t CountCharacters(absl::string_view text) {
  size_t count = 0;
  for (char c : text) {
    // Count every byte that does not continue a UTF-8 sequence.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool ContainsPersonnummer(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsDigit(text[i]) && (i == 0 || !IsDigit(text[i - 1])) &&
        PersonnummerAt(text, i)) {
      return true;
    }
  }
  return false;
}

absl::Status ValidateText(absl::string_view field, absl::string_view text,
                          const TextRule& rule) {
  const size_t chars = CountCharacters(text);
  if (rule.min_chars > 0 && text.empty()) {
    return MissingField(field, absl::StrCat(rule.min_chars, "..",
                                            rule.max_chars, " characters"));
  }
  // Free text may hold personal data: its value is never echoed.
  const auto refuse = [&](absl::string_view rule_text) {
    return rule.free_text ? InvalidFieldWithheld(field, rule_text)
                          : InvalidField(field, rule_text, text);
  };
  if (chars < rule.min_chars || chars > rule.max_chars) {
    return refuse(absl::StrCat("must be ", rule.min_chars, "..", rule.max_chars,
                               " characters long; it has ", chars));
  }
  for (char c : text) {
    const bool allowed_space =
        rule.free_text && (c == '\n' || c == '\t' || c == '\r');
    if (IsControl(static_cast<unsigned char>(c)) && !allowed_space) {
      return refuse("must not contain control characters");
    }
  }
  if (rule.free_text && ContainsPersonnummer(text)) {
    return InvalidFieldWithheld(
        field,
        "appears to contain a personnummer; give it only in "
        "participant.personal_identity_number, where it is kept as a keyed "
        "hash");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view field,
                               absl::string_view request_id) {
  if (request_id.empty()) return absl::OkStatus();
  bool ok = request_id.size() <= 64;
  for (char c : request_id) {
    const auto u = static_cast<unsigned char>(c);
    ok = ok && (absl::ascii_isalnum(u) || c == '.' || c == '_' || c == ':' ||
                c == '-');
  }
  if (!ok) {
    return InvalidField(field, "must be 1..64 characters of [A-Za-z0-9._:-]",
                        request_id);
  }
  return absl::OkStatus();
}

absl::Status ValidateEtag(absl::string_view field, absl::string_view etag) {
  if (etag.empty()) return absl::OkStatus();
  bool ok = etag.size() <= 20;
  for (char c : etag) ok = ok && IsDigit(c);
  if (!ok) {
    return InvalidField(field,
                        "must be an etag this server gave: 1..20 digits, as "
                        "in the resource's etag field",
                        etag);
  }
  return absl::OkStatus();
}

absl::Status ValidateContactRoute(absl::string_view field,
                                  const slussen::v1::ContactRoute& route,
                                  bool required) {
  const auto sub = [&](absl::string_view name) {
    return absl::StrCat(field, ".", name);
  };
  // Checked first: the other rules echo the value they refuse.
  if (ContainsPersonnummer(route.display_name()) ||
      ContainsPersonnummer(route.unit())) {
    return InvalidFieldWithheld(field,
                                "appears to contain a personnummer; a "
                                "contact route names staff, not participants");
  }
  RETURN_IF_ERROR(ValidateText(sub("display_name"), route.display_name(),
                               {.min_chars = required ? 1u : 0u}));
  RETURN_IF_ERROR(ValidateText(sub("unit"), route.unit(), {}));
  if (required && route.phone().empty() && route.email().empty()) {
    return MissingField(
        sub("phone"),
        absl::StrCat("give a phone number or ", sub("email"), " to call back"));
  }
  if (!route.phone().empty()) {
    size_t digits = 0;
    bool ok = route.phone().size() <= 20;
    for (size_t i = 0; i < route.phone().size(); ++i) {
      const char c = route.phone()[i];
      if (IsDigit(c)) {
        ++digits;
      } else if (!(c == ' ' || c == '-' || (c == '+' && i == 0))) {
        ok = false;
      }
    }
    if (!ok || digits < 6) {
      return InvalidField(sub("phone"),
                          "must be 6..20 characters: digits, spaces, '-' and "
                          "a leading '+', at least 6 digits",
                          route.phone());
    }
  }
  if (!route.email().empty()) {
    const absl::string_view email = route.email();
    const size_t at = email.find('@');
    const bool ok =
        email.size() <= 254 && at != absl::string_view::npos && at > 0 &&
        email.find('@', at + 1) == absl::string_view::npos &&
        email.find('.', at) != absl::string_view::npos && email.back() != '.' &&
        email.find_first_of(" \t\r\n<>,;\"") == absl::string_view::npos;
    if (!ok) {
      return InvalidField(sub("email"),
                          "must be an e-mail address like name@example.se",
                          email);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLanguageCode(absl::string_view field,
                                  absl::string_view code) {
  if (code.size() != 2 ||
      !absl::ascii_islower(static_cast<unsigned char>(code[0])) ||
      !absl::ascii_islower(static_cast<unsigned char>(code[1]))) {
    return InvalidField(field,
                        "must be an ISO 639-1 code of two lowercase letters, "
                        "like \"sv\"",
                        code);
  }
  return absl::OkStatus();
}

}  // namespace slussen::core
