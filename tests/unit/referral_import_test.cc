// The pure parts of `slussctl referrals import`: the CSV, a row into a
// request, the request id. The import against a real broker is
// tests/e2e/import_cli_test.sh.
#include "clients/cli/referral_import.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(ParseCsv, QuotesDelimitersLineEndsAndAByteOrderMark) {
  const absl::StatusOr<CsvTable> table = ParseCsv(
      "\xEF\xBB\xBF"
      "a;b\r\n"
      "1;\"two; \"\"quoted\"\"\nlines\"\r\n"
      "\r\n"
      "3;\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->delimiter, ';');
  EXPECT_THAT(table->header, ElementsAre("a", "b"));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_THAT(table->rows[0], ElementsAre("1", "two; \"quoted\"\nlines"));
  EXPECT_THAT(table->rows[1], ElementsAre("3", ""));
  EXPECT_THAT(table->lines, ElementsAre(2, 5));
}

TEST(ParseCsv, CommaWhenTheHeaderHasNoSemicolon) {
  const absl::StatusOr<CsvTable> table = ParseCsv("a,b\n1,\"x,y\"\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->delimiter, ',');
  EXPECT_THAT(table->rows[0], ElementsAre("1", "x,y"));
}

TEST(ParseCsv, RefusesWhatItCannotReadNamingTheLine) {
  EXPECT_THAT(ParseCsv("a;b\n1;2\n3\n").status().message(),
              HasSubstr("line 3: 1 fields, but the header has 2"));
  EXPECT_THAT(ParseCsv("a;b\n1;\"2\n").status().message(),
              HasSubstr("line 2: a quote is never closed"));
  EXPECT_THAT(ParseCsv("a;b\n1;\xE5ke\n").status().message(),
              HasSubstr("not UTF-8"));
  EXPECT_FALSE(ParseCsv("").ok());
}

TEST(CsvField, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain", ';'), "plain");
  EXPECT_EQ(CsvField("a;b", ';'), "\"a;b\"");
  EXPECT_EQ(CsvField("say \"hej\"", ','), "\"say \"\"hej\"\"\"");
}

absl::StatusOr<v1::CreateReferralRequest> RequestOf(
    std::vector<std::string> header, std::vector<std::string> cells,
    const v1::Referral& template_referral = v1::Referral(),
    std::string region = "") {
  absl::StatusOr<RowMapper> mapper =
      RowMapper::Create(header, template_referral, std::move(region));
  if (!mapper.ok()) return mapper.status();
  return mapper->Request(cells);
}

TEST(RowMapper, CellsFillTheirFieldsAsTheFieldsAreTyped) {
  const absl::StatusOr<v1::CreateReferralRequest> request = RequestOf(
      {"participant.pseudonym", "participant.attributes.age_years",
       "participant.attributes.gender",
       "participant.attributes.benefit_statuses",
       "participant.attributes.needs_interpreter",
       "participant.attributes.kommun_code", "consent.start_time",
       "activity.activity_type"},
      {"p-1", "41", "female", "sickness-benefit | BENEFIT_STATUS_NONE", "ja",
       "1380", "2026-11-02", "halsosam"});
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::Referral& r = request->referral();
  EXPECT_EQ(r.participant().pseudonym(), "p-1");
  EXPECT_EQ(r.participant().attributes().age_years(), 41);
  EXPECT_EQ(r.participant().attributes().gender(), v1::GENDER_FEMALE);
  EXPECT_THAT(r.participant().attributes().benefit_statuses(),
              ElementsAre(v1::BENEFIT_STATUS_SICKNESS_BENEFIT,
                          v1::BENEFIT_STATUS_NONE));
  EXPECT_TRUE(r.participant().attributes().needs_interpreter());
  // A date as a time: its start in Stockholm (CET, UTC+1).
  EXPECT_EQ(r.consent().start_time().seconds(), 1793574000);  // 23:00Z
  EXPECT_EQ(r.activity().activity_type(), "halsosam");
  EXPECT_EQ(request->parent(), "regions/13");  // from the kommun
  EXPECT_THAT(request->request_id(), MatchesRegex("import-[0-9a-f]{32}"));
}

TEST(RowMapper, TheTemplateGivesWhatEveryRowSharesAndACellReplacesIt) {
  v1::Referral shared;
  shared.mutable_referrer()->set_display_name("Per Lind");
  shared.mutable_participant()->mutable_attributes()->add_languages("sv");
  shared.mutable_activity()->set_activity_type("halsosam");
  const absl::StatusOr<v1::CreateReferralRequest> request = RequestOf(
      {"participant.attributes.languages", "impulse.kommun_code", "region"},
      {"ar|en", "1380", "14"}, shared);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->referral().referrer().display_name(), "Per Lind");
  EXPECT_THAT(request->referral().participant().attributes().languages(),
              ElementsAre("ar", "en"));
  // The row's impulse replaces the template's activity (one of them).
  EXPECT_TRUE(request->referral().has_impulse());
  EXPECT_EQ(request->parent(), "regions/14");
}

TEST(RowMapper, AMessageCellIsJson) {
  const absl::StatusOr<v1::CreateReferralRequest> request = RequestOf(
      {"consent.scopes", "impulse.kommun_code"},
      {R"([{"party_class": "PARTY_CLASS_ASSIGNED_PROVIDER"}])", "1380"});
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->referral().consent().scopes_size(), 1);
  EXPECT_EQ(request->referral().consent().scopes(0).party_class(),
            v1::PARTY_CLASS_ASSIGNED_PROVIDER);
}

TEST(RowMapper, ABadCellNamesItsColumnAndValue) {
  EXPECT_THAT(RequestOf({"participant.attributes.age_years"}, {"fyrtio"})
                  .status()
                  .message(),
              HasSubstr("column participant.attributes.age_years: \"fyrtio\" "
                        "is not a whole number"));
  EXPECT_THAT(RequestOf({"participant.attributes.gender"}, {"okänd"})
                  .status()
                  .message(),
              HasSubstr("is none of female, male"));
  EXPECT_THAT(
      RequestOf({"impulse.need_category"}, {"other"}).status().message(),
      HasSubstr("no region"));
}

TEST(RowMapper, ColumnsThatAreNoFieldAreRefusedWithTheNearest) {
  const std::vector<std::string> fields = {"impulse.komun_code"};
  EXPECT_THAT(RowMapper::Create(fields, v1::Referral(), "").status().message(),
              HasSubstr("did you mean impulse.kommun_code?"));
  EXPECT_THAT(
      RowMapper::Create({"state"}, v1::Referral(), "").status().message(),
      HasSubstr("set by the broker"));
  EXPECT_THAT(RowMapper::Create({"region", "region"}, v1::Referral(), "")
                  .status()
                  .message(),
              HasSubstr("given twice"));
}

TEST(RowMapper, ARefusalsFieldPathNamesTheColumn) {
  const absl::StatusOr<RowMapper> mapper = RowMapper::Create(
      {"impulse.kommun_code", "consent.scopes"}, v1::Referral(), "13");
  ASSERT_TRUE(mapper.ok()) << mapper.status();
  EXPECT_EQ(mapper->ColumnOf("referral.impulse.kommun_code"),
            "impulse.kommun_code");
  EXPECT_EQ(mapper->ColumnOf("referral.consent.scopes[0].party_class"),
            "consent.scopes");
  EXPECT_EQ(mapper->ColumnOf("referral.consent.purpose"), "");
  EXPECT_EQ(mapper->ColumnOf("parent"), "region");
}

TEST(DerivedRequestId, TheSameRowTheSameIdAnotherRowAnother) {
  const std::vector<std::string> header = {"a", "b"};
  EXPECT_EQ(DerivedRequestId(header, {"1", "2"}),
            DerivedRequestId(header, {"1", "2"}));
  EXPECT_NE(DerivedRequestId(header, {"1", "2"}),
            DerivedRequestId(header, {"12", ""}));
  EXPECT_NE(DerivedRequestId(header, {"1", "2"}),
            DerivedRequestId({"b", "a"}, {"1", "2"}));
}

}  // namespace
}  // namespace slussen::cli
