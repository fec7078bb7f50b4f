#include "clients/cli/referral_import.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/sha.h>

#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/cli/command_line.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"
#include "slussen/v1/common.pb.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;
using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

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

// Every settable field path of `descriptor` under `prefix`, for "did you
// mean"; message fields by their own path too (a cell of JSON).
void FieldPaths(const Descriptor* descriptor, const std::string& prefix,
                int depth, std::vector<std::string>& out) {
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string path = absl::StrCat(prefix, field->name());
    if (OutputOnly().count(path) > 0) continue;
    out.push_back(path);
    if (field->type() == FieldDescriptor::TYPE_MESSAGE &&
        !field->is_repeated() && depth < 4) {
      FieldPaths(field->message_type(), absl::StrCat(path, "."), depth + 1,
                 out);
    }
  }
}

// The fields along `path` from Referral; an empty vector when a part is
// not a field or a part before the last is not a singular message.
std::vector<const FieldDescriptor*> Resolve(absl::string_view path) {
  std::vector<const FieldDescriptor*> fields;
  const Descriptor* descriptor = v1::Referral::descriptor();
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (descriptor == nullptr) return {};
    const FieldDescriptor* field =
        descriptor->FindFieldByName(std::string(part));
    if (field == nullptr) return {};
    fields.push_back(field);
    descriptor =
        field->type() == FieldDescriptor::TYPE_MESSAGE && !field->is_repeated()
            ? field->message_type()
            : nullptr;
  }
  return fields;
}

absl::Status CellError(absl::string_view column, absl::string_view value,
                       absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("column ", column, ": \"", value, "\" ", rule));
}

const EnumDescriptor* EnumOf(const FieldDescriptor* field) {
  return field->enum_type();
}

// "female", "GENDER_FEMALE", "sickness-benefit" -> the value's number.
absl::StatusOr<int> EnumValue(absl::string_view column,
                              const EnumDescriptor* type,
                              absl::string_view text) {
  std::string prefix(type->value(0)->name());
  prefix = prefix.substr(0, prefix.rfind('_') + 1);  // "GENDER_"
  std::string name = absl::AsciiStrToUpper(text);
  absl::StrReplaceAll({{"-", "_"}}, &name);
  if (!absl::StartsWith(name, prefix)) name = absl::StrCat(prefix, name);
  const auto* value = type->FindValueByName(name);
  if (value == nullptr || value->number() == 0) {
    std::vector<std::string> names;
    for (int i = 1; i < type->value_count(); ++i) {
      std::string option = absl::AsciiStrToLower(
          absl::StripPrefix(type->value(i)->name(), prefix));
      absl::StrReplaceAll({{"_", "-"}}, &option);
      names.push_back(option);
    }
    return CellError(column, text,
                     absl::StrCat("is none of ", absl::StrJoin(names, ", ")));
  }
  return value->number();
}

absl::StatusOr<absl::Time> ParseInstant(absl::string_view column,
                                        absl::string_view text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  absl::CivilDay day;
  absl::TimeZone zone;
  if (absl::ParseCivilTime(text, &day) &&
      absl::LoadTimeZone("Europe/Stockholm", &zone)) {
    return absl::FromCivil(day, zone);
  }
  return CellError(column, text,
                   "is not a time: RFC 3339 (2026-11-02T09:00:00+01:00) or "
                   "a date (2026-11-02)");
}

// Sets one value of `field` (repeated: adds it) in `message` from `text`.
absl::Status SetValue(absl::string_view column, Message& message,
                      const FieldDescriptor* field, absl::string_view text) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      repeated ? r->AddString(&message, field, std::string(text))
               : r->SetString(&message, field, std::string(text));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t n;
      if (!absl::SimpleAtoi(text, &n)) {
        return CellError(column, text, "is not a whole number");
      }
      repeated ? r->AddInt32(&message, field, n)
               : r->SetInt32(&message, field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t n;
      if (!absl::SimpleAtoi(text, &n)) {
        return CellError(column, text, "is not a whole number");
      }
      repeated ? r->AddInt64(&message, field, n)
               : r->SetInt64(&message, field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t n;
      if (!absl::SimpleAtoi(text, &n)) {
        return CellError(column, text, "is not a whole number from 0");
      }
      repeated ? r->AddUInt32(&message, field, n)
               : r->SetUInt32(&message, field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t n;
      if (!absl::SimpleAtoi(text, &n)) {
        return CellError(column, text, "is not a whole number from 0");
      }
      repeated ? r->AddUInt64(&message, field, n)
               : r->SetUInt64(&message, field, n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double n;
      if (!absl::SimpleAtod(absl::StrReplaceAll(text, {{",", "."}}), &n)) {
        return CellError(column, text, "is not a number");
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        repeated ? r->AddFloat(&message, field, static_cast<float>(n))
                 : r->SetFloat(&message, field, static_cast<float>(n));
      } else {
        repeated ? r->AddDouble(&message, field, n)
                 : r->SetDouble(&message, field, n);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const std::string lower = absl::AsciiStrToLower(text);
      bool value;
      if (lower == "true" || lower == "ja" || lower == "yes" || lower == "1") {
        value = true;
      } else if (lower == "false" || lower == "nej" || lower == "no" ||
                 lower == "0") {
        value = false;
      } else {
        return CellError(column, text, "is not true or false (ja or nej)");
      }
      repeated ? r->AddBool(&message, field, value)
               : r->SetBool(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      absl::StatusOr<int> value = EnumValue(column, EnumOf(field), text);
      if (!value.ok()) return value.status();
      repeated ? r->AddEnumValue(&message, field, *value)
               : r->SetEnumValue(&message, field, *value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* sub = repeated ? r->AddMessage(&message, field)
                              : r->MutableMessage(&message, field);
      if (field->message_type() == google::protobuf::Timestamp::descriptor()) {
        absl::StatusOr<absl::Time> time = ParseInstant(column, text);
        if (!time.ok()) return time.status();
        auto* ts = static_cast<google::protobuf::Timestamp*>(sub);
        ts->set_seconds(absl::ToUnixSeconds(*time));
        return absl::OkStatus();
      }
      if (field->message_type() == v1::Date::descriptor()) {
        absl::CivilDay day;
        if (!absl::ParseCivilTime(text, &day)) {
          return CellError(column, text, "is not a date such as 2026-12-23");
        }
        auto* date = static_cast<v1::Date*>(sub);
        date->set_year(static_cast<int>(day.year()));
        date->set_month(day.month());
        date->set_day(day.day());
        return absl::OkStatus();
      }
      const auto parsed =
          google::protobuf::util::JsonStringToMessage(std::string(text), sub);
      if (!parsed.ok()) {
        return CellError(
            column, text,
            absl::StrCat("is not a ", field->message_type()->full_name(),
                         " in JSON: ", parsed.message().as_string()));
      }
      return absl::OkStatus();
    }
  }
  return CellError(column, text, "cannot be set from a CSV cell");
}

// The message holding the last field of `path` in `root`, made as needed.
Message* Holder(Message& root,
                const std::vector<const FieldDescriptor*>& path) {
  Message* message = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    message = message->GetReflection()->MutableMessage(message, path[i]);
  }
  return message;
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
  std::vector<std::string> known;
  FieldPaths(v1::Referral::descriptor(), "", 0, known);
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
    if (Resolve(column).empty()) {
      const std::string nearest = NearestWord(column, known);
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", column, " is no field of a referral",
          nearest.empty() ? "" : absl::StrCat("; did you mean ", nearest, "?"),
          " (a column is a field's path, impulse.kommun_code; see "
          "README, Bulk import)"));
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
    const std::vector<const FieldDescriptor*> path = Resolve(column);
    Message* holder = Holder(*referral, path);
    const FieldDescriptor* field = path.back();
    holder->GetReflection()->ClearField(holder, field);
    if (field->is_repeated() &&
        field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      for (absl::string_view part : absl::StrSplit(value, '|')) {
        part = absl::StripAsciiWhitespace(part);
        if (part.empty()) continue;
        absl::Status set = SetValue(column, *holder, field, part);
        if (!set.ok()) return set;
      }
      continue;
    }
    if (field->is_repeated()) {
      // A repeated message: a JSON array of them.
      const std::string wrapped =
          absl::StrCat("{\"", field->json_name(), "\":", value, "}");
      std::unique_ptr<Message> scratch(holder->New());
      const auto parsed =
          google::protobuf::util::JsonStringToMessage(wrapped, scratch.get());
      if (!parsed.ok()) {
        return CellError(column, value,
                         absl::StrCat("is not a JSON array of ",
                                      field->message_type()->full_name(), ": ",
                                      parsed.message().as_string()));
      }
      holder->MergeFrom(*scratch);
      continue;
    }
    absl::Status set = SetValue(column, *holder, field, value);
    if (!set.ok()) return set;
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
