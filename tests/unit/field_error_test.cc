#include "broker/core/model/field_error.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

TEST(QuoteValue, PlainValueIsQuoted) {
  EXPECT_EQ(QuoteValue("1380"), "\"1380\"");
  EXPECT_EQ(QuoteValue(""), "\"\"");
}

TEST(QuoteValue, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(QuoteValue("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(QuoteValue("C:\\tmp"), R"("C:\\tmp")");
}

TEST(QuoteValue, ControlCharactersAreHexEscaped) {
  EXPECT_EQ(QuoteValue("a\nb"), R"("a\x0ab")");
  EXPECT_EQ(QuoteValue("\t\r"), R"("\x09\x0d")");
  EXPECT_EQ(QuoteValue(absl::string_view("\0x", 2)), R"("\x00x")");
  EXPECT_EQ(QuoteValue("\x1b[31m"), R"("\x1b[31m")");
  EXPECT_EQ(QuoteValue("\x7f"), R"("\x7f")");
}

// Found by the request fuzzer: a lead byte whose sequence broke off was
// copied with the next two bytes whatever they were, so a NUL or a line
// break could ride into a message (and a log line) unescaped.
TEST(QuoteValue, BytesThatAreNotUtf8AreEscapedOneByOne) {
  EXPECT_EQ(QuoteValue(absl::string_view("h\xe2\x00"
                                         "1",
                                         4)),
            R"("h\xe2\x001")");
  EXPECT_EQ(QuoteValue("\xe2\n{\"x\":1}"), R"("\xe2\x0a{\"x\":1}")");
  EXPECT_EQ(QuoteValue("\xc3"), R"("\xc3")");          // cut short by the end
  EXPECT_EQ(QuoteValue("\x80\xff"), R"("\x80\xff")");  // never UTF-8
  EXPECT_EQ(QuoteValue("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
}

TEST(QuoteValue, NonAsciiIsKept) {
  EXPECT_EQ(QuoteValue("Hälsosam"), "\"Hälsosam\"");
}

TEST(QuoteValue, SixtyFourBytesAreNotCut) {
  const std::string value(64, 'x');
  EXPECT_EQ(QuoteValue(value), "\"" + value + "\"");
}

TEST(QuoteValue, LongerValueIsCutAfterSixtyFourBytes) {
  EXPECT_EQ(QuoteValue(std::string(65, 'x')),
            "\"" + std::string(64, 'x') + "...\"");
  EXPECT_EQ(QuoteValue(std::string(100000, 'x')),
            "\"" + std::string(64, 'x') + "...\"");
}

TEST(QuoteValue, CutNeverSplitsAUtf8Character) {
  // 40 "ö" are 80 bytes; the cut falls after the 32nd, on a boundary.
  EXPECT_EQ(QuoteValue(Repeat("ö", 40)), "\"" + Repeat("ö", 32) + "...\"");

  // Shifted by one byte, the 64-byte mark falls inside a character: the
  // output must still hold whole characters only.
  const std::string shifted = "a" + Repeat("ö", 40);
  const std::string quoted = QuoteValue(shifted);
  ASSERT_THAT(quoted, EndsWith("...\""));
  const std::string body = quoted.substr(1, quoted.size() - 5);
  EXPECT_EQ(shifted.compare(0, body.size(), body), 0) << quoted;
  ASSERT_LT(body.size(), shifted.size());
  // The next input byte starts a character (is not 10xxxxxx).
  EXPECT_NE(static_cast<unsigned char>(shifted[body.size()]) & 0xC0, 0x80)
      << quoted;
  EXPECT_GE(body.size(), 63u);

  // Four-byte characters too.
  const std::string emoji = "ab" + Repeat("\xF0\x9F\x98\x80", 20);
  const std::string q = QuoteValue(emoji);
  const std::string b = q.substr(1, q.size() - 5);
  EXPECT_EQ(emoji.compare(0, b.size(), b), 0);
  EXPECT_EQ((b.size() - 2) % 4, 0u) << q;
}

TEST(InvalidField, NamesFieldRuleAndQuotedValue) {
  const absl::Status status =
      InvalidField("referral.impulse.kommun_code",
                   "must be four digits (SCB kommunkod)", "13800");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "referral.impulse.kommun_code must be four digits (SCB "
            "kommunkod), got \"13800\"");
}

TEST(InvalidField, HostileValueIsEscapedInTheMessage) {
  const absl::Status status =
      InvalidField("f", "must be short", "a\nFAKE LOG LINE\"");
  EXPECT_EQ(status.message(), R"(f must be short, got "a\x0aFAKE LOG LINE\"")");
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("\n")));
}

TEST(InvalidField, NumberIsUnquoted) {
  const absl::Status status =
      InvalidField("referral.participant.attributes.age_years",
                   "must be 16..69", int64_t{212});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "referral.participant.attributes.age_years must be 16..69, got "
            "212");
  EXPECT_EQ(InvalidField("f", "must be positive", int64_t{-3}).message(),
            "f must be positive, got -3");
}

TEST(MissingField, SaysRequired) {
  const absl::Status bare = MissingField("referral");
  EXPECT_EQ(bare.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bare.message(), "referral is required");

  const absl::Status with_rule =
      MissingField("referral.impulse.call_back", "who to call back");
  EXPECT_EQ(with_rule.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with_rule.message(),
            "referral.impulse.call_back is required: who to call back");
}

TEST(InvalidFieldWithheld, SaysTheValueIsWithheld) {
  const absl::Status status =
      InvalidFieldWithheld("referral.participant.personal_identity_number",
                           "has a wrong check digit");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "referral.participant.personal_identity_number has a wrong check "
            "digit (value withheld: personal data)");
}

// What a program reads instead of the message: the one field violation of
// the BadRequest a field error carries.
google::rpc::BadRequest::FieldViolation OnlyViolation(
    const absl::Status& status) {
  const std::optional<google::rpc::BadRequest> bad_request =
      BadRequestOf(status);
  if (!bad_request.has_value()) {
    ADD_FAILURE() << "no BadRequest payload in " << status;
    return {};
  }
  EXPECT_EQ(bad_request->field_violations_size(), 1) << status;
  return bad_request->field_violations_size() == 0
             ? google::rpc::BadRequest::FieldViolation()
             : bad_request->field_violations(0);
}

TEST(FieldViolation, CarriesABadRequestUnderItsAnyTypeUrl) {
  const absl::Status status =
      FieldViolation("referral.impulse.kommun_code", "must be in region 13");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "referral.impulse.kommun_code must be in region 13");
  const absl::optional<absl::Cord> payload =
      status.GetPayload("type.googleapis.com/google.rpc.BadRequest");
  ASSERT_TRUE(payload.has_value());
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(std::string(*payload)));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(),
            "referral.impulse.kommun_code");
  EXPECT_EQ(bad_request.field_violations(0).description(),
            "must be in region 13");
}

TEST(InvalidField, CarriesTheFieldPathAndTheRestOfTheMessage) {
  const google::rpc::BadRequest::FieldViolation violation = OnlyViolation(
      InvalidField("referral.impulse.kommun_code",
                   "must be four digits (SCB kommunkod)", "13800"));
  EXPECT_EQ(violation.field(), "referral.impulse.kommun_code");
  EXPECT_EQ(violation.description(),
            "must be four digits (SCB kommunkod), got \"13800\"");

  const google::rpc::BadRequest::FieldViolation number =
      OnlyViolation(InvalidField("referral.participant.attributes.age_years",
                                 "must be 16..69", int64_t{212}));
  EXPECT_EQ(number.field(), "referral.participant.attributes.age_years");
  EXPECT_EQ(number.description(), "must be 16..69, got 212");
}

TEST(InvalidField, HostileValueIsEscapedInTheViolationToo) {
  const google::rpc::BadRequest::FieldViolation violation =
      OnlyViolation(InvalidField("f", "must be short", "a\nFAKE\""));
  EXPECT_EQ(violation.description(), R"(must be short, got "a\x0aFAKE\"")");
}

TEST(MissingField, CarriesTheFieldPath) {
  const google::rpc::BadRequest::FieldViolation bare =
      OnlyViolation(MissingField("referral"));
  EXPECT_EQ(bare.field(), "referral");
  EXPECT_EQ(bare.description(), "is required");
  const google::rpc::BadRequest::FieldViolation with_rule = OnlyViolation(
      MissingField("referral.impulse.call_back", "who to call back"));
  EXPECT_EQ(with_rule.field(), "referral.impulse.call_back");
  EXPECT_EQ(with_rule.description(), "is required: who to call back");
}

TEST(InvalidFieldWithheld, TheViolationWithholdsTheValueToo) {
  const absl::Status status =
      InvalidFieldWithheld("referral.participant.personal_identity_number",
                           "has a wrong check digit");
  const google::rpc::BadRequest::FieldViolation violation =
      OnlyViolation(status);
  EXPECT_EQ(violation.field(), "referral.participant.personal_identity_number");
  EXPECT_EQ(violation.description(),
            "has a wrong check digit (value withheld: personal data)");
  // Nothing else rides along: the BadRequest is the only payload.
  int payloads = 0;
  status.ForEachPayload(
      [&](absl::string_view, const absl::Cord&) { ++payloads; });
  EXPECT_EQ(payloads, 1);
}

TEST(BadRequestOf, IsEmptyForAnErrorThatIsNotAFieldError) {
  EXPECT_FALSE(BadRequestOf(absl::NotFoundError("no such referral")));
  EXPECT_FALSE(BadRequestOf(absl::InvalidArgumentError("a bare message")));
  EXPECT_FALSE(BadRequestOf(absl::OkStatus()));
}

}  // namespace
}  // namespace slussen::core
