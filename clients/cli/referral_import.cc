#include "clients/cli/referral_import.h"

#include <openssl/sha.h>

#include <set>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "broker/core/model/status_macros.h"
#include "clients/cli/command_line.h"
#include "clients/cli/field_path.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

constexpr char kRegionColumn[] = "region";
constexpr char kRequestIdColumn[] = "request_id";

// Fields the broker sets; a request that names them is refused.
const std::set<std::string>& OutputOnly() {
  static const auto* const fields =
      new std::set<std::string>{"name",
                                "kind",
                                "state",
                                "referring_organisation",
                                "allowed_actions",
                                "history",
                                "create_time",
                                "update_time",
                                "etag",
                                "assigned_provider",
                                "current_offer",
                                "excluded_offerings",
                                "cohort",
                                "assigned_offering",
                                "participant.has_personal_identity_number"};
  return *fields;
}

bool IsUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra;
    if (c < 0x80) {
      extra = 0;
    } else if ((c >> 5) == 0x6) {
      extra = 1;
    } else if ((c >> 4) == 0xE) {
      extra = 2;
    } else if ((c >> 3) == 0x1E) {
      extra = 3;
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text) {
  if (!IsUtf8(text)) {
    return absl::InvalidArgumentError(
        "the file is not UTF-8 text (save it as \"CSV UTF-8\")");
  }
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  CsvTable table;
  const absl::string_view first_line = text.substr(0, text.find('\n'));
  table.delimiter = absl::StrContains(first_line, ';') ? ';' : ',';
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  int line = 1;
  int row_line = 1;
  const auto end_row = [&]() -> absl::Status {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
    const bool blank = row.size() == 1 && row[0].empty();
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(row);
      } else {
        if (row.size() != table.header.size()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", row_line, ": ", row.size(),
              " fields, but the header has ", table.header.size()));
        }
        table.rows.push_back(std::move(row));
        table.lines.push_back(row_line);
      }
    }
    row.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == table.delimiter) {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      absl::Status ended = end_row();
      if (!ended.ok()) return ended;
      ++line;
      row_line = line;
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", row_line, ": a quote is never closed"));
  }
  if (field_started || !row.empty()) {
    absl::Status ended = end_row();
    if (!ended.ok()) return ended;
  }
  if (table.header.empty()) {
    return absl::InvalidArgumentError("the file has no header line");
  }
  for (std::string& name : table.header) {
    name = std::string(absl::StripAsciiWhitespace(name));
  }
  return table;
}

std::string CsvField(absl::string_view value, char delimiter) {
  if (value.find_first_of(std::string("\"\r\n") + delimiter) ==
      absl::string_view::npos) {
    return std::string(value);
  }
  return absl::StrCat("\"", absl::StrReplaceAll(value, {{"\"", "\"\""}}), "\"");
}

absl::StatusOr<RowMapper> RowMapper::Create(
    const std::vector<std::string>& header,
    const v1::Referral& template_referral, std::string default_region) {
  std::vector<std::string> known =
      FieldPaths(v1::Referral::descriptor(), OutputOnly());
  known.push_back(kRegionColumn);
  known.push_back(kRequestIdColumn);
  std::set<std::string> seen;
  for (const std::string& column : header) {
    if (column.empty()) {
      return absl::InvalidArgumentError("a column has no name");
    }
    if (!seen.insert(column).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", column, " is given twice"));
    }
    if (column == kRegionColumn || column == kRequestIdColumn) continue;
    if (OutputOnly().count(column) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", column, " is set by the broker, not by a referral"));
    }
    if (ResolvePath(v1::Referral::descriptor(), column).empty()) {
      const std::string nearest = NearestWord(column, known);
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", column, " is no field of a referral",
          nearest.empty() ? "" : absl::StrCat("; did you mean ", nearest, "?"),
          " (a column is a field's path, impulse.kommun_code; see "
          "docs/integrating.md, Bulk import)"));
    }
  }
  RowMapper mapper;
  mapper.header_ = header;
  mapper.template_ = template_referral;
  mapper.default_region_ = std::move(default_region);
  return mapper;
}

absl::StatusOr<v1::CreateReferralRequest> RowMapper::Request(
    const std::vector<std::string>& cells) const {
  v1::CreateReferralRequest request;
  v1::Referral* referral = request.mutable_referral();
  *referral = template_;
  std::string region = default_region_;
  bool has_request_id = false;
  for (size_t i = 0; i < header_.size() && i < cells.size(); ++i) {
    const std::string& column = header_[i];
    const std::string value(absl::StripAsciiWhitespace(cells[i]));
    if (value.empty()) continue;
    if (column == kRegionColumn) {
      region = value;
      continue;
    }
    if (column == kRequestIdColumn) {
      request.set_request_id(value);
      has_request_id = true;
      continue;
    }
    RETURN_IF_ERROR(
        SetPath(*referral, column, value, absl::StrCat("column ", column)));
  }
  if (region.empty()) {
    // The region of the kommun the referral names.
    const std::string kommun =
        referral->has_impulse()
            ? referral->impulse().kommun_code()
            : referral->participant().attributes().kommun_code();
    if (kommun.size() >= 2) region = kommun.substr(0, 2);
  }
  if (region.empty()) {
    return absl::InvalidArgumentError(
        "no region: give a region column, --region, or a kommun "
        "(impulse.kommun_code or participant.attributes.kommun_code)");
  }
  request.set_parent(absl::StrCat("regions/", region));
  if (!has_request_id) request.set_request_id(DerivedRequestId(header_, cells));
  return request;
}

std::string RowMapper::ColumnOf(absl::string_view field_path) const {
  absl::ConsumePrefix(&field_path, "referral.");
  std::string best;
  for (const std::string& column : header_) {
    // The column itself or a field inside it (a JSON cell).
    if ((field_path == column ||
         absl::StartsWith(field_path, absl::StrCat(column, ".")) ||
         absl::StartsWith(field_path, absl::StrCat(column, "["))) &&
        column.size() > best.size()) {
      best = column;
    }
  }
  if (best.empty() && (field_path == "parent")) return kRegionColumn;
  if (best.empty() && field_path == "request_id") return kRequestIdColumn;
  return best;
}

std::string DerivedRequestId(const std::vector<std::string>& header,
                             const std::vector<std::string>& cells) {
  std::string text = absl::StrJoin(header, "\x1f");
  absl::StrAppend(&text, "\x1e", absl::StrJoin(cells, "\x1f"));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         digest);
  return absl::StrCat("import-",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(digest), 16)));
}

}  // namespace slussen::cli
