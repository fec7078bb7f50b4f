#include "broker/core/model/text_rules.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/common.pb.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::string_view kWithheld = "(value withheld: personal data)";

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

void ExpectInvalid(const absl::Status& status, absl::string_view field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()),
              StartsWith(std::string(field) + " "));
}

// --- CountCharacters ---------------------------------------------------

TEST(CountCharacters, CountsCodePointsNotBytes) {
  EXPECT_EQ(CountCharacters(""), 0u);
  EXPECT_EQ(CountCharacters("abc"), 3u);
  EXPECT_EQ(CountCharacters("åäö"), 3u);                 // 6 bytes
  EXPECT_EQ(CountCharacters("€"), 1u);                   // 3 bytes
  EXPECT_EQ(CountCharacters("a\xF0\x9F\x98\x80z"), 3u);  // 😀 is 4 bytes
  EXPECT_EQ(CountCharacters("Hälsosam"), 8u);
}

// --- ContainsPersonnummer ----------------------------------------------

TEST(ContainsPersonnummer, FindsEveryWrittenForm) {
  // Skatteverket's test number 19121212-1212 in each accepted form.
  EXPECT_TRUE(ContainsPersonnummer("19121212-1212"));
  EXPECT_TRUE(ContainsPersonnummer("121212-1212"));
  EXPECT_TRUE(ContainsPersonnummer("191212121212"));
  EXPECT_TRUE(ContainsPersonnummer("1212121212"));
  EXPECT_TRUE(ContainsPersonnummer("121212+1212"));
}

TEST(ContainsPersonnummer, FindsOneInsideASentence) {
  EXPECT_TRUE(ContainsPersonnummer("Klienten har pnr 19121212-1212, ring."));
  EXPECT_TRUE(ContainsPersonnummer("(1212121212)"));
  EXPECT_TRUE(ContainsPersonnummer("pnr:121212-1212"));
}

TEST(ContainsPersonnummer, FindsASamordningsnummer) {
  // Day 72 is the 12th + 60; check digit computed by hand (Luhn of
  // 121272121 is 9).
  EXPECT_TRUE(ContainsPersonnummer("121272-1219"));
}

TEST(ContainsPersonnummer, IgnoresPhoneNumbers) {
  EXPECT_FALSE(ContainsPersonnummer("035-13 70 00"));
  EXPECT_FALSE(ContainsPersonnummer("0771-524 524"));
  EXPECT_FALSE(ContainsPersonnummer("+46 35 13 70 00"));
  EXPECT_FALSE(ContainsPersonnummer("Ring 0771-524 524 eller 035-13 70 00"));
}

TEST(ContainsPersonnummer, IgnoresDates) {
  EXPECT_FALSE(ContainsPersonnummer("2026-11-22"));
  EXPECT_FALSE(ContainsPersonnummer("Möte 2026-11-22 kl 10"));
  EXPECT_FALSE(ContainsPersonnummer("20261122"));
}

TEST(ContainsPersonnummer, IgnoresTenDigitsWithAWrongCheckDigit) {
  EXPECT_FALSE(ContainsPersonnummer("1212121213"));
  EXPECT_FALSE(ContainsPersonnummer("19121212-1213"));
  // Luhn of 811218987 is 6, of 640823323 is 4.
  EXPECT_FALSE(ContainsPersonnummer("8112189875"));
  EXPECT_FALSE(ContainsPersonnummer("6408233233"));
  EXPECT_TRUE(ContainsPersonnummer("8112189876"));  // the right digit fires
}

TEST(ContainsPersonnummer, IgnoresAValidNumberInsideALongerDigitRun) {
  EXPECT_FALSE(ContainsPersonnummer("11912121212120"));
  EXPECT_FALSE(ContainsPersonnummer("01212121212"));
  EXPECT_FALSE(ContainsPersonnummer("121212-12123"));
  EXPECT_FALSE(ContainsPersonnummer("9121212-1212"));
}

TEST(ContainsPersonnummer, IgnoresImpossibleDates) {
  // Month 13; the check digit is right for the digits (Luhn of 121312121
  // is 1).
  EXPECT_FALSE(ContainsPersonnummer("1213121211"));
  EXPECT_FALSE(ContainsPersonnummer("no digits at all"));
  EXPECT_FALSE(ContainsPersonnummer(""));
}

// --- ValidateText ------------------------------------------------------

TEST(ValidateText, OptionalEmptyTextIsOk) {
  EXPECT_TRUE(ValidateText("f", "", {}).ok());
}

TEST(ValidateText, RequiredEmptyTextIsMissing) {
  const absl::Status status =
      ValidateText("referral.team_handover.case_summary", "",
                   {.min_chars = 1, .max_chars = 4000});
  ExpectInvalid(status, "referral.team_handover.case_summary");
  EXPECT_THAT(std::string(status.message()), HasSubstr("is required"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("1..4000"));
}

TEST(ValidateText, MinimumCountsCharactersNotBytes) {
  // Three characters in six bytes are still too few for four.
  const absl::Status status =
      ValidateText("f", "åäö", {.min_chars = 4, .max_chars = 10});
  ExpectInvalid(status, "f");
  EXPECT_THAT(std::string(status.message()), HasSubstr("it has 3"));
  EXPECT_TRUE(
      ValidateText("f", "åäöå", {.min_chars = 4, .max_chars = 10}).ok());
}

TEST(ValidateText, MaximumCountsCharactersNotBytes) {
  // 2000 "å" are 4000 bytes: still 2000 characters.
  EXPECT_TRUE(ValidateText("f", Repeat("å", 2000), {.max_chars = 2000}).ok());
  const absl::Status status =
      ValidateText("f", Repeat("å", 2001), {.max_chars = 2000});
  ExpectInvalid(status, "f");
  EXPECT_THAT(std::string(status.message()), HasSubstr("0..2000"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("it has 2001"));
}

TEST(ValidateText, ControlCharactersAreRefused) {
  for (absl::string_view text : {"a\001b", "a\x7f", "a\x1b[2J"}) {
    SCOPED_TRACE(text);
    const absl::Status plain = ValidateText("f", text, {});
    ExpectInvalid(plain, "f");
    EXPECT_THAT(std::string(plain.message()), HasSubstr("control characters"));
    ExpectInvalid(ValidateText("f", text, {.free_text = true}), "f");
  }
}

TEST(ValidateText, LineBreaksOnlyInFreeText) {
  for (absl::string_view text : {"rad ett\nrad två", "a\tb", "a\r\nb"}) {
    SCOPED_TRACE(text);
    ExpectInvalid(ValidateText("referral.referrer.display_name", text, {}),
                  "referral.referrer.display_name");
    EXPECT_TRUE(ValidateText("referral.activity.note", text,
                             {.max_chars = 2000, .free_text = true})
                    .ok());
  }
}

TEST(ValidateText, FreeTextWithAPersonnummerIsRefusedWithoutEchoingIt) {
  for (absl::string_view text : {"Ring om 19121212-1212 i morgon",
                                 "pnr 1212121212", "121212-1212 vill börja"}) {
    SCOPED_TRACE(text);
    const absl::Status status = ValidateText(
        "referral.activity.note", text, {.max_chars = 2000, .free_text = true});
    ExpectInvalid(status, "referral.activity.note");
    const std::string message(status.message());
    EXPECT_THAT(message, HasSubstr("personnummer"));
    EXPECT_THAT(message, EndsWith(kWithheld));
    EXPECT_THAT(message, Not(HasSubstr("1212")));
    EXPECT_THAT(message, Not(HasSubstr(std::string(text))));
  }
}

TEST(ValidateText, FreeTextNeverEchoesTheValue) {
  const absl::Status status =
      ValidateText("referral.activity.note", "Lång anteckning",
                   {.max_chars = 5, .free_text = true});
  ExpectInvalid(status, "referral.activity.note");
  EXPECT_THAT(std::string(status.message()), EndsWith(kWithheld));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("anteckning")));
}

TEST(ValidateText, OtherTextEchoesTheValue) {
  const absl::Status status =
      ValidateText("referral.referrer.unit", "LFC Halmstad", {.max_chars = 5});
  ExpectInvalid(status, "referral.referrer.unit");
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"LFC Halmstad\""));
}

// --- ValidateRequestId -------------------------------------------------

TEST(ValidateRequestId, EmptyIsAllowed) {
  EXPECT_TRUE(ValidateRequestId("request_id", "").ok());
}

TEST(ValidateRequestId, AcceptsTheAllowedCharacters) {
  EXPECT_TRUE(ValidateRequestId("request_id", "req-2026:01_a.B9").ok());
  EXPECT_TRUE(ValidateRequestId("request_id", std::string(64, 'a')).ok());
}

TEST(ValidateRequestId, RefusesLongOrOddIds) {
  for (const std::string& id :
       {std::string(65, 'a'), std::string("a b"), std::string("a/b"),
        std::string("åäö"), std::string("a\nb")}) {
    SCOPED_TRACE(id);
    const absl::Status status = ValidateRequestId("request_id", id);
    ExpectInvalid(status, "request_id");
    EXPECT_THAT(std::string(status.message()), HasSubstr("1..64"));
  }
}

// --- ValidateContactRoute ----------------------------------------------

v1::ContactRoute Route(absl::string_view name, absl::string_view phone,
                       absl::string_view email) {
  v1::ContactRoute route;
  route.set_display_name(std::string(name));
  route.set_phone(std::string(phone));
  route.set_email(std::string(email));
  return route;
}

constexpr absl::string_view kCallBack = "referral.impulse.call_back";

TEST(ValidateContactRoute, RequiredRouteWithNameAndPhoneOrEmailIsOk) {
  EXPECT_TRUE(ValidateContactRoute(kCallBack,
                                   Route("Anna Berg", "035-13 70 00", ""), true)
                  .ok());
  EXPECT_TRUE(
      ValidateContactRoute(kCallBack,
                           Route("Anna Berg", "", "anna.berg@example.se"), true)
          .ok());
  EXPECT_TRUE(ValidateContactRoute(
                  kCallBack, Route("Anna Berg", "+46 35 13 70 00", ""), true)
                  .ok());
}

TEST(ValidateContactRoute, OptionalEmptyRouteIsOk) {
  EXPECT_TRUE(
      ValidateContactRoute("referral.referrer", v1::ContactRoute(), false)
          .ok());
}

TEST(ValidateContactRoute, RequiredRouteNeedsADisplayName) {
  const absl::Status status =
      ValidateContactRoute(kCallBack, Route("", "035-13 70 00", ""), true);
  ExpectInvalid(status, "referral.impulse.call_back.display_name");
  EXPECT_THAT(std::string(status.message()), HasSubstr("is required"));
}

TEST(ValidateContactRoute, RequiredRouteNeedsAPhoneOrEmail) {
  const absl::Status status =
      ValidateContactRoute(kCallBack, Route("Anna Berg", "", ""), true);
  ExpectInvalid(status, "referral.impulse.call_back.phone");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("referral.impulse.call_back.email"));
}

TEST(ValidateContactRoute, BadPhoneIsRefused) {
  for (absl::string_view phone : {
           "12345",                   // five digits
           "035 (13) 70 00",          // parentheses
           "46+35137000",             // '+' not leading
           "ring mig",                // no digits
           "+46 35 13 70 00 00 00 0"  // 23 characters
       }) {
    SCOPED_TRACE(phone);
    const absl::Status status =
        ValidateContactRoute(kCallBack, Route("Anna Berg", phone, ""), true);
    ExpectInvalid(status, "referral.impulse.call_back.phone");
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("\"" + std::string(phone) + "\""));
  }
}

TEST(ValidateContactRoute, BadEmailIsRefused) {
  for (absl::string_view email :
       {"anna.example.se", "anna@", "@example.se", "anna@example",
        "anna@example.", "anna@@example.se", "anna berg@example.se",
        "anna@ex,ample.se", "<anna@example.se>"}) {
    SCOPED_TRACE(email);
    const absl::Status status =
        ValidateContactRoute(kCallBack, Route("Anna Berg", "", email), true);
    ExpectInvalid(status, "referral.impulse.call_back.email");
  }
}

TEST(ValidateContactRoute, PersonnummerInDisplayNameOrUnitIsRefused) {
  v1::ContactRoute in_name = Route("Klient 19121212-1212", "035-13 70 00", "");
  const absl::Status status = ValidateContactRoute(kCallBack, in_name, true);
  ExpectInvalid(status, kCallBack);
  EXPECT_THAT(std::string(status.message()), EndsWith(kWithheld));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("1212")));

  v1::ContactRoute in_unit = Route("Anna Berg", "035-13 70 00", "");
  in_unit.set_unit("EB, ärende 1212121212");
  const absl::Status unit_status =
      ValidateContactRoute("referral.referrer", in_unit, false);
  ExpectInvalid(unit_status, "referral.referrer");
  EXPECT_THAT(std::string(unit_status.message()), Not(HasSubstr("1212")));
}

// A display name that holds a personnummer and also breaks another rule
// must not have its value echoed either: messages are logged.
TEST(ValidateContactRoute, NeverEchoesAPersonnummerInABrokenDisplayName) {
  const absl::Status control = ValidateContactRoute(
      kCallBack, Route("Klient 19121212-1212\x01", "035-13 70 00", ""), true);
  EXPECT_EQ(control.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(control.message()), Not(HasSubstr("1212-1212")));

  const absl::Status too_long = ValidateContactRoute(
      kCallBack,
      Route("Klient 19121212-1212 " + std::string(200, 'x'), "035-13 70 00",
            ""),
      true);
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.message()), Not(HasSubstr("1212-1212")));
}

// --- ValidateEtag ------------------------------------------------------

TEST(ValidateEtag, EmptyOrTheServersDigitsAreAllowed) {
  EXPECT_TRUE(ValidateEtag("etag", "").ok());
  EXPECT_TRUE(ValidateEtag("etag", "1").ok());
  EXPECT_TRUE(ValidateEtag("etag", "9223372036854775807").ok());
  EXPECT_TRUE(ValidateEtag("etag", std::string(20, '9')).ok());
}

TEST(ValidateEtag, AnythingElseIsRefused) {
  for (const std::string& etag :
       {std::string(21, '1'), std::string("W/\"3\""), std::string("-1"),
        std::string("3 "), std::string("abc"), std::string(1 << 20, 'x')}) {
    SCOPED_TRACE(etag.substr(0, 30));
    const absl::Status status = ValidateEtag("provider.etag", etag);
    ExpectInvalid(status, "provider.etag");
    EXPECT_THAT(std::string(status.message()), HasSubstr("1..20 digits"));
    // However long the value, the message stays short.
    EXPECT_LT(status.message().size(), 200u);
  }
}

// --- ValidateLanguageCode ----------------------------------------------

TEST(ValidateLanguageCode, TwoLowercaseLettersAreValid) {
  EXPECT_TRUE(ValidateLanguageCode("l", "sv").ok());
  EXPECT_TRUE(ValidateLanguageCode("l", "ar").ok());
  EXPECT_TRUE(ValidateLanguageCode("l", "so").ok());
}

TEST(ValidateLanguageCode, OtherCodesAreRefused) {
  for (absl::string_view code : {"swe", "SV", "Sv", "s", "", "s1", "å"}) {
    SCOPED_TRACE(code);
    const absl::Status status =
        ValidateLanguageCode("attributes.languages[0]", code);
    ExpectInvalid(status, "attributes.languages[0]");
    EXPECT_THAT(std::string(status.message()), HasSubstr("ISO 639-1"));
  }
}

}  // namespace
}  // namespace slussen::core
