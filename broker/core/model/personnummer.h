// Swedish personal identity numbers (personnummer, and samordningsnummer for
// people not registered in Sweden): parsing, validation and normalisation.
//
// A personnummer is personal data: the broker never stores it in clear (see
// pseudonymizer.h) and never writes it into an error message, because error
// messages are logged. Every error here names the field and the rule broken
// and says that the value is withheld.
//
//   ASSIGN_OR_RETURN(Personnummer pnr,
//                    ParsePersonnummer(text, today,
//                                      "referral.participant."
//                                      "personal_identity_number"));
//   record.pseudonym = pseudonymizer.Pseudonymize(pnr);
//
// Accepted forms: YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC, YYMMDDNNNC and
// YYMMDD+NNNC, where '+' marks a person who has turned 100. The 10-digit forms
// carry no century; it is inferred from `today` as Skatteverket does (see
// ParsePersonnummer). C is a Luhn check digit over YYMMDDNNN.
//
// Thread-safety: pure functions on values; safe to call concurrently.
#ifndef SLUSSEN_BROKER_CORE_MODEL_PERSONNUMMER_H_
#define SLUSSEN_BROKER_CORE_MODEL_PERSONNUMMER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace slussen::core {

// A validated personnummer or samordningsnummer.
struct Personnummer {
  // Always 12 digits, YYYYMMDDNNNC, whichever form was given, so that one
  // person has one pseudonym. A samordningsnummer keeps its day + 60: that
  // number, not the birth date, identifies the person.
  std::string digits;
  // The date of birth, with the real day (day - 60) for a samordningsnummer.
  absl::CivilDay birth_date;
  // True when the day of month was 61..91.
  bool samordningsnummer = false;

  friend bool operator==(const Personnummer&, const Personnummer&) = default;
};

// Parses and validates `text` in one of the accepted forms, relative to the
// local day `today` (injected so that tests and replays are deterministic).
//
// Century of the 10-digit forms: with '-' or no separator, the most recent
// date of birth that is not after `today` (the person is under 100); with
// '+', 100 years before that. A 12-digit form states its century and may not
// use '+'.
//
// INVALID_ARGUMENT naming `field` (e.g.
// "referral.participant.personal_identity_number") when the text is not 10 or
// 12 digits in an accepted form, has no valid date (leap years counted; day
// 61..91 for a samordningsnummer), has a wrong check digit, or lies after
// `today`. The value itself is never in the message.
absl::StatusOr<Personnummer> ParsePersonnummer(absl::string_view text,
                                               absl::CivilDay today,
                                               absl::string_view field);

// Whether `text`, with every space, '-' and '+' removed, is 10 or 12 digits
// with a possible date and a right check digit. For 10 digits the century is
// unknown, so 29 February counts as possible in any year divisible by four.
// No `today` is needed: this is for refusing a personnummer smuggled into a
// pseudonym or other free field, where a false "no" matters more than a date
// in the future.
bool LooksLikePersonnummer(absl::string_view text);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_PERSONNUMMER_H_
