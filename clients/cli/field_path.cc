#include "clients/cli/field_path.h"

#include <google/protobuf/util/json_util.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
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

// Every settable field path of `descriptor` under `prefix`, for "did you
// mean"; message fields by their own path too (a cell of JSON).
void CollectPaths(const Descriptor* descriptor, const std::string& prefix,
                  int depth, const std::set<std::string>& skip,
                  std::vector<std::string>& out) {
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string path = absl::StrCat(prefix, field->name());
    if (skip.count(path) > 0) continue;
    out.push_back(path);
    if (field->type() == FieldDescriptor::TYPE_MESSAGE &&
        !field->is_repeated() && depth < 4) {
      CollectPaths(field->message_type(), absl::StrCat(path, "."), depth + 1,
                   skip, out);
    }
  }
}

// The fields along `path` from Referral; an empty vector when a part is
// not a field or a part before the last is not a singular message.
}  // namespace

std::vector<const FieldDescriptor*> ResolvePath(const Descriptor* descriptor,
                                                absl::string_view path) {
  std::vector<const FieldDescriptor*> fields;
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

namespace {

absl::Status CellError(absl::string_view label, absl::string_view value,
                       absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(label, ": \"", value, "\" ", rule));
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
  return CellError(column, text, "cannot be set from text");
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

std::vector<std::string> FieldPaths(const Descriptor* descriptor,
                                    const std::set<std::string>& skip) {
  std::vector<std::string> out;
  CollectPaths(descriptor, "", 0, skip, out);
  return out;
}

absl::Status SetPath(Message& root, absl::string_view path,
                     absl::string_view text, absl::string_view label) {
  const std::vector<const FieldDescriptor*> fields =
      ResolvePath(root.GetDescriptor(), path);
  if (fields.empty()) {
    const std::string nearest =
        NearestWord(path, FieldPaths(root.GetDescriptor()));
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": ", path, " is no field of ", root.GetDescriptor()->name(),
        nearest.empty() ? "" : absl::StrCat("; did you mean ", nearest, "?")));
  }
  Message* holder = Holder(root, fields);
  const FieldDescriptor* field = fields.back();
  holder->GetReflection()->ClearField(holder, field);
  if (field->is_repeated() &&
      field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    for (absl::string_view part : absl::StrSplit(text, '|')) {
      part = absl::StripAsciiWhitespace(part);
      if (part.empty()) continue;
      absl::Status set = SetValue(label, *holder, field, part);
      if (!set.ok()) return set;
    }
    return absl::OkStatus();
  }
  if (field->is_repeated()) {
    // A repeated message: a JSON array of them.
    const std::string wrapped =
        absl::StrCat("{\"", field->json_name(), "\":", text, "}");
    std::unique_ptr<Message> scratch(holder->New());
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(wrapped, scratch.get());
    if (!parsed.ok()) {
      return CellError(label, text,
                       absl::StrCat("is not a JSON array of ",
                                    field->message_type()->full_name(), ": ",
                                    parsed.message().as_string()));
    }
    holder->MergeFrom(*scratch);
    return absl::OkStatus();
  }
  return SetValue(label, *holder, field, text);
}

}  // namespace slussen::cli
