// Rules for the text fields of requests: lengths in characters, no control
// characters, contact details, request ids, and no personnummer hidden in
// free text or pseudonyms.
//
// Each function returns OK or INVALID_ARGUMENT naming the field, the rule and
// the value (withheld when it may be personal data).
//
//   RETURN_IF_ERROR(ValidateText("referral.activity.note", note,
//                                {.max_chars = 2000, .free_text = true}));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_TEXT_RULES_H_
#define SLUSSEN_BROKER_CORE_MODEL_TEXT_RULES_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "slussen/v1/common.pb.h"

namespace slussen::core {

// Number of Unicode code points in valid UTF-8 `text`.
size_t CountCharacters(absl::string_view text);

// Whether `text` contains something that reads as a valid personnummer or
// samordningsnummer (10 or 12 digits, optionally with '-' or '+', with a
// real date and check digit).
bool ContainsPersonnummer(absl::string_view text);

struct TextRule {
  // 0 means optional; otherwise required with at least this many characters.
  size_t min_chars = 0;
  size_t max_chars = 200;
  // Free text may hold line breaks and tabs, and is refused when it contains
  // a personnummer (it must go in personal_identity_number, where it is kept
  // only as a keyed hash).
  bool free_text = false;
};

absl::Status ValidateText(absl::string_view field, absl::string_view text,
                          const TextRule& rule);

// An optional request id: 1..64 characters of [A-Za-z0-9._:-].
absl::Status ValidateRequestId(absl::string_view field,
                               absl::string_view request_id);

// An optional etag: empty, or 1..20 digits, as the server gives them (a
// version number). Anything else cannot be current: refused before it is
// compared, so that no odd value reaches a message or a log line.
absl::Status ValidateEtag(absl::string_view field, absl::string_view etag);

// A staff contact route; `required` makes display_name and one of phone or
// email required.
absl::Status ValidateContactRoute(absl::string_view field,
                                  const slussen::v1::ContactRoute& route,
                                  bool required);

// An ISO 639-1 language code: two lowercase letters.
absl::Status ValidateLanguageCode(absl::string_view field,
                                  absl::string_view code);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_TEXT_RULES_H_
