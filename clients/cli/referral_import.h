// The pure parts of `slussctl referrals import FILE.csv`: the CSV, a row
// into a CreateReferralRequest, and the request id each row carries.
//
// A column is named by the path of a field of slussen.v1.Referral in proto
// names ("impulse.kommun_code", "participant.attributes.age_years"), or is
// one of two of the import's own: "region" (the region to send to) and
// "request_id". A cell fills its field, typed as the field is: text,
// numbers, true/false (or ja/nej), an enum value by its name, long or
// short ("female" for GENDER_FEMALE), a date (2026-12-23), a time (RFC
// 3339, or a date meaning its start in Europe/Stockholm), several values of
// a repeated field separated by "|", and a message field as JSON. An empty
// cell leaves the field as the template has it (--template: a Referral in
// JSON, for what every row shares, such as the consent form).
//
//   ASSIGN_OR_RETURN(CsvTable table, ParseCsv(text));
//   ASSIGN_OR_RETURN(RowMapper mapper,
//                    RowMapper::Create(table.header, template_referral, "13"));
//   ASSIGN_OR_RETURN(v1::CreateReferralRequest request,
//                    mapper.Request(table.rows[0]));
//
// The request id of a row is derived from its cells (unless it has a
// request_id column), so importing a file again, after a crash or Ctrl-C,
// creates nothing twice: the broker answers a repeated request id with the
// referral it already made.
#ifndef SLUSSEN_CLIENTS_CLI_REFERRAL_IMPORT_H_
#define SLUSSEN_CLIENTS_CLI_REFERRAL_IMPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"

namespace slussen::cli {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // The line in the file each row starts on (the header is line 1).
  std::vector<int> lines;
  char delimiter = ';';
};

// UTF-8 CSV (RFC 4180 quoting; a byte-order mark and CRLF are fine), the
// delimiter ';' or ',' as the header line uses. INVALID_ARGUMENT naming the
// line for an unclosed quote, a row of the wrong width, or text that is not
// UTF-8.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text);

// One CSV field: quoted when it holds the delimiter, a quote or a line end.
std::string CsvField(absl::string_view value, char delimiter);

class RowMapper {
 public:
  // INVALID_ARGUMENT naming a column that is no field of Referral (with the
  // nearest that is), a column given twice, or an output-only field.
  static absl::StatusOr<RowMapper> Create(
      const std::vector<std::string>& header,
      const slussen::v1::Referral& template_referral,
      std::string default_region);

  // The request of one row: the template with the row's fields, the
  // region, the request id. INVALID_ARGUMENT naming the column and value.
  absl::StatusOr<slussen::v1::CreateReferralRequest> Request(
      const std::vector<std::string>& cells) const;

  // The column a field path of the broker's refusal came from
  // ("referral.impulse.kommun_code" -> "impulse.kommun_code"); empty when
  // no column set it (the template did, or nothing did).
  std::string ColumnOf(absl::string_view field_path) const;

 private:
  RowMapper() = default;

  std::vector<std::string> header_;
  slussen::v1::Referral template_;
  std::string default_region_;
};

// "import-" and 32 hex digits of a SHA-256 of the header and the cells:
// the same row of the same layout gets the same id.
std::string DerivedRequestId(const std::vector<std::string>& header,
                             const std::vector<std::string>& cells);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_REFERRAL_IMPORT_H_
