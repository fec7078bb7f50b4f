#include "clients/web/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/strutil.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace slussen::web {
namespace {

namespace pb = ::google::protobuf;
using Field = pb::FieldDescriptor;

constexpr absl::string_view kProtobufPackage = "google.protobuf";
// The range protobuf's printer accepts: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z, and about 10,000 years of duration.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
constexpr int64_t kMaxDurationSeconds = 315576000000;
constexpr int32_t kNanosPerSecond = 1000000000;

// A code point's escape as protobuf's printer writes it: the ones JSON
// requires, those that HTML or JavaScript could take as markup or a line
// end, and invisible format characters. Empty if it is written as it is.
bool NeedsEscape(uint32_t cp) {
  if (cp < 0x20 || cp == '"' || cp == '\\' || cp == '<' || cp == '>') {
    return true;
  }
  if (cp >= 0x7f && cp <= 0x9f) return true;
  switch (cp) {
    case 0x00ad:
    case 0x06dd:
    case 0x070f:
    case 0x17b4:
    case 0x17b5:
    case 0xfeff:
    case 0xfff9:
    case 0xfffa:
    case 0xfffb:
    case 0xe0001:
      return true;
    default:
      break;
  }
  return (cp >= 0x0600 && cp <= 0x0603) || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x206a && cp <= 0x206f) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
         (cp >= 0xe0020 && cp <= 0xe007f);
}

void AppendUnicodeEscape(uint32_t unit, std::string* out) {
  constexpr char kHex[] = "0123456789abcdef";
  const char escape[6] = {'\\',
                          'u',
                          kHex[(unit >> 12) & 0xf],
                          kHex[(unit >> 8) & 0xf],
                          kHex[(unit >> 4) & 0xf],
                          kHex[unit & 0xf]};
  out->append(escape, sizeof escape);
}

void AppendEscape(uint32_t cp, std::string* out) {
  // Each character with a short escape, and the letter of its escape.
  constexpr absl::string_view kShort = "\"\"\\\\\bb\tt\nn\ff\rr";
  for (size_t k = 0; k < kShort.size(); k += 2) {
    if (cp == static_cast<uint8_t>(kShort[k])) {
      out->push_back('\\');
      out->push_back(kShort[k + 1]);
      return;
    }
  }
  if (cp < 0x10000) return AppendUnicodeEscape(cp, out);
  const uint32_t v = cp - 0x10000;  // as a UTF-16 surrogate pair
  AppendUnicodeEscape(0xd800 + (v >> 10), out);
  AppendUnicodeEscape(0xdc00 + (v & 0x3ff), out);
}

// The UTF-8 code point at `text[*i]`, advancing `*i`; false if the bytes
// there are no UTF-8 (overlong forms and surrogates included).
bool NextCodePoint(absl::string_view text, size_t* i, uint32_t* cp) {
  const auto byte = [&](size_t at) { return static_cast<uint8_t>(text[at]); };
  const uint8_t lead = byte(*i);
  int length;
  uint32_t min;
  if (lead < 0x80) {
    *cp = lead;
    ++*i;
    return true;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, *cp = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, *cp = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, *cp = lead & 0x07;
  } else {
    return false;
  }
  if (*i + length > text.size()) return false;
  for (int k = 1; k < length; ++k) {
    const uint8_t next = byte(*i + k);
    if ((next & 0xc0) != 0x80) return false;
    *cp = (*cp << 6) | (next & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) {
    return false;
  }
  *i += length;
  return true;
}

// `value` (not negative) in `width` digits, zeros in front.
void AppendDigits(int64_t value, int width, std::string* out) {
  out->append(width, '0');
  for (char* digit = &out->back(); value > 0 && width > 0; --width) {
    *digit-- = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "0.5" as ".500": the fraction of a second in 3, 6 or 9 digits, as few as
// keep it exact; nothing for none.
void AppendNanos(int32_t nanos, std::string* out) {
  if (nanos == 0) return;
  out->push_back('.');
  if (nanos % 1000000 == 0) {
    AppendDigits(nanos / 1000000, 3, out);
  } else if (nanos % 1000 == 0) {
    AppendDigits(nanos / 1000, 6, out);
  } else {
    AppendDigits(nanos, 9, out);
  }
}

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  // Any message: a well-known type as its string, others as an object.
  bool Message(const pb::Message& message) {
    const pb::Descriptor& type = *message.GetDescriptor();
    if (type.file()->package() == kProtobufPackage) {
      const std::string& name = type.name();
      if (name == "Timestamp") return Timestamp(message);
      if (name == "Duration") return Duration(message);
      if (name == "FieldMask") return FieldMask(message);
      return false;  // Any, Struct, Value, the wrappers, Empty: protobuf's
    }
    return Object(message);
  }

 private:
  bool Object(const pb::Message& message) {
    const pb::Reflection& reflection = *message.GetReflection();
    std::vector<const Field*> fields;
    reflection.ListFields(message, &fields);  // by number, as on the wire
    out_->push_back('{');
    for (size_t f = 0; f < fields.size(); ++f) {
      const Field& field = *fields[f];
      if (field.is_extension()) return false;
      if (f > 0) out_->push_back(',');
      if (!String(field.json_name())) return false;
      out_->push_back(':');
      if (field.is_map()) {
        if (!Map(message, field)) return false;
      } else if (field.is_repeated()) {
        out_->push_back('[');
        const int size = reflection.FieldSize(message, &field);
        for (int i = 0; i < size; ++i) {
          if (i > 0) out_->push_back(',');
          if (!Value(message, field, i)) return false;
        }
        out_->push_back(']');
      } else if (!Value(message, field, -1)) {
        return false;
      }
    }
    out_->push_back('}');
    return true;
  }

  // The field's value, or its `index`th when repeated (-1 when not).
  bool Value(const pb::Message& message, const Field& field, int index) {
    const pb::Reflection& r = *message.GetReflection();
    const bool one = index < 0;
    switch (field.cpp_type()) {
      case Field::CPPTYPE_INT32:
        absl::StrAppend(out_, one ? r.GetInt32(message, &field)
                                  : r.GetRepeatedInt32(message, &field, index));
        return true;
      case Field::CPPTYPE_UINT32:
        absl::StrAppend(out_,
                        one ? r.GetUInt32(message, &field)
                            : r.GetRepeatedUInt32(message, &field, index));
        return true;
      case Field::CPPTYPE_INT64:  // quoted: JavaScript's numbers are doubles
        absl::StrAppend(out_, "\"",
                        one ? r.GetInt64(message, &field)
                            : r.GetRepeatedInt64(message, &field, index),
                        "\"");
        return true;
      case Field::CPPTYPE_UINT64:
        absl::StrAppend(out_, "\"",
                        one ? r.GetUInt64(message, &field)
                            : r.GetRepeatedUInt64(message, &field, index),
                        "\"");
        return true;
      case Field::CPPTYPE_DOUBLE:
        Number(one ? r.GetDouble(message, &field)
                   : r.GetRepeatedDouble(message, &field, index),
               pb::SimpleDtoa);
        return true;
      case Field::CPPTYPE_FLOAT:
        Number(one ? r.GetFloat(message, &field)
                   : r.GetRepeatedFloat(message, &field, index),
               pb::SimpleFtoa);
        return true;
      case Field::CPPTYPE_BOOL:
        out_->append((one ? r.GetBool(message, &field)
                          : r.GetRepeatedBool(message, &field, index))
                         ? "true"
                         : "false");
        return true;
      case Field::CPPTYPE_ENUM:
        return Enum(*field.enum_type(),
                    one ? r.GetEnumValue(message, &field)
                        : r.GetRepeatedEnumValue(message, &field, index));
      case Field::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& text =
            one ? r.GetStringReference(message, &field, &scratch)
                : r.GetRepeatedStringReference(message, &field, index,
                                               &scratch);
        if (field.type() == Field::TYPE_BYTES) {
          absl::StrAppend(out_, "\"", absl::Base64Escape(text), "\"");
          return true;
        }
        return String(text);
      }
      case Field::CPPTYPE_MESSAGE:
        return Message(one ? r.GetMessage(message, &field)
                           : r.GetRepeatedMessage(message, &field, index));
    }
    return false;
  }

  // A number as a number; NaN and the infinities as strings.
  template <typename T>
  void Number(T value, std::string (*to_string)(T)) {
    if (std::isfinite(value)) {
      out_->append(to_string(value));
    } else {
      absl::StrAppend(out_, "\"",
                      std::isnan(value) ? "NaN"
                      : value > 0       ? "Infinity"
                                        : "-Infinity",
                      "\"");
    }
  }

  // By name; a number the enum does not name as the number.
  bool Enum(const pb::EnumDescriptor& type, int value) {
    if (type.file()->package() == kProtobufPackage) return false;  // null
    const pb::EnumValueDescriptor* named = type.FindValueByNumber(value);
    if (named == nullptr) {
      absl::StrAppend(out_, value);
      return true;
    }
    return String(named->name());
  }

  // A map as an object, its entries ordered by key.
  bool Map(const pb::Message& message, const Field& field) {
    const pb::Reflection& reflection = *message.GetReflection();
    const Field& key = *field.message_type()->map_key();
    const Field& value = *field.message_type()->map_value();
    std::vector<const pb::Message*> entries;
    const int size = reflection.FieldSize(message, &field);
    entries.reserve(size);
    for (int i = 0; i < size; ++i) {
      entries.push_back(&reflection.GetRepeatedMessage(message, &field, i));
    }
    std::sort(entries.begin(), entries.end(),
              [&](const pb::Message* a, const pb::Message* b) {
                return KeyLess(key, *a, *b);
              });
    out_->push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out_->push_back(',');
      const pb::Message& entry = *entries[i];
      const pb::Reflection& r = *entry.GetReflection();
      std::string text;
      switch (key.cpp_type()) {
        case Field::CPPTYPE_STRING:
          text = r.GetString(entry, &key);
          break;
        case Field::CPPTYPE_BOOL:
          text = r.GetBool(entry, &key) ? "true" : "false";
          break;
        case Field::CPPTYPE_INT32:
          text = absl::StrCat(r.GetInt32(entry, &key));
          break;
        case Field::CPPTYPE_UINT32:
          text = absl::StrCat(r.GetUInt32(entry, &key));
          break;
        case Field::CPPTYPE_INT64:
          text = absl::StrCat(r.GetInt64(entry, &key));
          break;
        case Field::CPPTYPE_UINT64:
          text = absl::StrCat(r.GetUInt64(entry, &key));
          break;
        default:
          return false;  // no other type can be a key
      }
      if (!String(text)) return false;
      out_->push_back(':');
      if (!Value(entry, value, -1)) return false;
    }
    out_->push_back('}');
    return true;
  }

  static bool KeyLess(const Field& key, const pb::Message& a,
                      const pb::Message& b) {
    const pb::Reflection& r = *a.GetReflection();
    switch (key.cpp_type()) {
      case Field::CPPTYPE_STRING:
        return r.GetString(a, &key) < r.GetString(b, &key);
      case Field::CPPTYPE_BOOL:
        return r.GetBool(a, &key) < r.GetBool(b, &key);
      case Field::CPPTYPE_INT32:
        return r.GetInt32(a, &key) < r.GetInt32(b, &key);
      case Field::CPPTYPE_UINT32:
        return r.GetUInt32(a, &key) < r.GetUInt32(b, &key);
      case Field::CPPTYPE_INT64:
        return r.GetInt64(a, &key) < r.GetInt64(b, &key);
      case Field::CPPTYPE_UINT64:
        return r.GetUInt64(a, &key) < r.GetUInt64(b, &key);
      default:
        return false;
    }
  }

  // A JSON string; false if `text` is not UTF-8.
  bool String(absl::string_view text) {
    out_->push_back('"');
    size_t plain = 0;  // the start of what is written as it is
    for (size_t i = 0; i < text.size();) {
      const uint8_t c = static_cast<uint8_t>(text[i]);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' &&
          c != '>') {
        ++i;
        continue;
      }
      const size_t start = i;
      uint32_t cp;
      if (!NextCodePoint(text, &i, &cp)) return false;
      if (NeedsEscape(cp)) {
        out_->append(text.data() + plain, start - plain);
        AppendEscape(cp, out_);
        plain = i;
      }
    }
    out_->append(text.data() + plain, text.size() - plain);
    out_->push_back('"');
    return true;
  }

  // Seconds and nanos, as both Timestamp and Duration hold them.
  static void SecondsAndNanos(const pb::Message& message, int64_t* seconds,
                              int32_t* nanos) {
    const pb::Descriptor& type = *message.GetDescriptor();
    const pb::Reflection& r = *message.GetReflection();
    *seconds = r.GetInt64(message, type.FindFieldByNumber(1));
    *nanos = r.GetInt32(message, type.FindFieldByNumber(2));
  }

  // "2026-12-07T21:00:00.500Z" (RFC 3339, UTC).
  bool Timestamp(const pb::Message& message) {
    int64_t seconds;
    int32_t nanos;
    SecondsAndNanos(message, &seconds, &nanos);
    if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds ||
        nanos < 0 || nanos >= kNanosPerSecond) {
      return false;
    }
    const absl::CivilSecond civil = absl::ToCivilSecond(
        absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
    out_->push_back('"');
    AppendDigits(civil.year(), 4, out_);
    out_->push_back('-');
    AppendDigits(civil.month(), 2, out_);
    out_->push_back('-');
    AppendDigits(civil.day(), 2, out_);
    out_->push_back('T');
    AppendDigits(civil.hour(), 2, out_);
    out_->push_back(':');
    AppendDigits(civil.minute(), 2, out_);
    out_->push_back(':');
    AppendDigits(civil.second(), 2, out_);
    AppendNanos(nanos, out_);
    out_->append("Z\"");
    return true;
  }

  // "-1.500s".
  bool Duration(const pb::Message& message) {
    int64_t seconds;
    int32_t nanos;
    SecondsAndNanos(message, &seconds, &nanos);
    if (seconds < -kMaxDurationSeconds || seconds > kMaxDurationSeconds ||
        nanos <= -kNanosPerSecond || nanos >= kNanosPerSecond ||
        (seconds < 0 && nanos > 0) || (seconds > 0 && nanos < 0)) {
      return false;
    }
    const bool negative = seconds < 0 || nanos < 0;
    absl::StrAppend(out_, negative ? "\"-" : "\"",
                    negative ? -seconds : seconds);
    AppendNanos(negative ? -nanos : nanos, out_);
    out_->append("s\"");
    return true;
  }

  // "referral.state,updateTime": the paths in lowerCamelCase, joined.
  bool FieldMask(const pb::Message& message) {
    const pb::Reflection& r = *message.GetReflection();
    const Field& paths = *message.GetDescriptor()->FindFieldByNumber(1);
    std::string joined, scratch;
    for (int i = 0; i < r.FieldSize(message, &paths); ++i) {
      const std::string& path =
          r.GetRepeatedStringReference(message, &paths, i, &scratch);
      // Only snake_case names of lower-case letters and digits, whose
      // renaming is plain; others are protobuf's to rename.
      if (path.empty() || path.front() == '_') return false;
      if (i > 0) joined.push_back(',');
      for (size_t k = 0; k < path.size(); ++k) {
        const char c = path[k];
        if (c == '_') {
          if (k + 1 == path.size() || path[k + 1] < 'a' || path[k + 1] > 'z') {
            return false;
          }
          joined.push_back(static_cast<char>(path[++k] - 'a' + 'A'));
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '.') {
          joined.push_back(c);
        } else {
          return false;
        }
      }
    }
    return String(joined);
  }

  std::string* out_;
};

// Reads the subset of protobuf's JSON that ReadJson takes (proto_json.h).
// Every method answers false for what it leaves to protobuf.
class Reader {
 public:
  explicit Reader(absl::string_view text) : text_(text) {}

  bool Document(pb::Message* message) {
    message->Clear();
    Space();
    if (!Object(message, 0)) return false;
    Space();
    return pos_ == text_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  void Space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool Object(pb::Message* message, int depth) {
    const pb::Descriptor& type = *message->GetDescriptor();
    if (depth > kMaxDepth || type.file()->package() == kProtobufPackage ||
        !Take('{')) {
      return false;
    }
    Space();
    if (Take('}')) return true;
    std::vector<const Field*> seen;
    do {
      Space();
      std::string name;
      if (!String(&name)) return false;
      Space();
      if (!Take(':')) return false;
      Space();
      const Field* field = FieldNamed(type, name);
      if (field == nullptr) return false;  // protobuf's error names it
      for (const Field* other : seen) {
        if (other == field ||
            (field->containing_oneof() != nullptr &&
             other->containing_oneof() == field->containing_oneof())) {
          return false;  // twice, or two of a oneof
        }
      }
      seen.push_back(field);
      if (!FieldValue(message, *field, depth)) return false;
      Space();
    } while (Take(','));
    return Take('}');
  }

  // The field with `name` as its JSON name or its own, or null.
  static const Field* FieldNamed(const pb::Descriptor& type,
                                 const std::string& name) {
    for (int f = 0; f < type.field_count(); ++f) {
      if (type.field(f)->json_name() == name) return type.field(f);
    }
    return type.FindFieldByName(name);
  }

  bool FieldValue(pb::Message* message, const Field& field, int depth) {
    if (field.is_map()) return Map(message, field, depth);
    if (!field.is_repeated()) return Value(message, field, depth);
    if (!Take('[')) return false;
    Space();
    if (Take(']')) return true;
    do {
      Space();
      if (!Value(message, field, depth)) return false;
      Space();
    } while (Take(','));
    return Take(']');
  }

  // A map with string keys, as an object.
  bool Map(pb::Message* message, const Field& field, int depth) {
    const Field& key = *field.message_type()->map_key();
    const Field& value = *field.message_type()->map_value();
    if (key.cpp_type() != Field::CPPTYPE_STRING || !Take('{')) return false;
    const pb::Reflection& reflection = *message->GetReflection();
    std::vector<std::string> keys;
    Space();
    if (Take('}')) return true;
    do {
      Space();
      std::string name;
      if (!String(&name)) return false;
      if (std::find(keys.begin(), keys.end(), name) != keys.end()) {
        return false;
      }
      Space();
      if (!Take(':')) return false;
      Space();
      pb::Message* entry = reflection.AddMessage(message, &field);
      entry->GetReflection()->SetString(entry, &key, name);
      if (!Value(entry, value, depth + 1)) return false;
      keys.push_back(std::move(name));
      Space();
    } while (Take(','));
    return Take('}');
  }

  // One value of the field: its value, or one more when it repeats.
  bool Value(pb::Message* message, const Field& field, int depth) {
    const pb::Reflection& r = *message->GetReflection();
    const bool add = field.is_repeated();
    switch (field.cpp_type()) {
      case Field::CPPTYPE_INT32: {
        int64_t v;
        if (!Integer(&v) || v < std::numeric_limits<int32_t>::min() ||
            v > std::numeric_limits<int32_t>::max()) {
          return false;
        }
        const auto value = static_cast<int32_t>(v);
        add ? r.AddInt32(message, &field, value)
            : r.SetInt32(message, &field, value);
        return true;
      }
      case Field::CPPTYPE_INT64: {
        int64_t value;
        if (!Integer(&value)) return false;
        add ? r.AddInt64(message, &field, value)
            : r.SetInt64(message, &field, value);
        return true;
      }
      case Field::CPPTYPE_UINT32: {
        int64_t v;
        if (!Integer(&v) || v < 0 || v > std::numeric_limits<uint32_t>::max()) {
          return false;
        }
        const auto value = static_cast<uint32_t>(v);
        add ? r.AddUInt32(message, &field, value)
            : r.SetUInt32(message, &field, value);
        return true;
      }
      case Field::CPPTYPE_UINT64: {
        int64_t v;  // to 2^63 - 1; more is protobuf's
        if (!Integer(&v) || v < 0) return false;
        const auto value = static_cast<uint64_t>(v);
        add ? r.AddUInt64(message, &field, value)
            : r.SetUInt64(message, &field, value);
        return true;
      }
      case Field::CPPTYPE_BOOL: {
        bool value;
        if (Word("true")) {
          value = true;
        } else if (Word("false")) {
          value = false;
        } else {
          return false;
        }
        add ? r.AddBool(message, &field, value)
            : r.SetBool(message, &field, value);
        return true;
      }
      case Field::CPPTYPE_ENUM: {
        std::string name;
        if (field.enum_type()->file()->package() == kProtobufPackage ||
            !String(&name)) {
          return false;
        }
        const pb::EnumValueDescriptor* value =
            field.enum_type()->FindValueByName(name);
        if (value == nullptr) return false;
        add ? r.AddEnumValue(message, &field, value->number())
            : r.SetEnumValue(message, &field, value->number());
        return true;
      }
      case Field::CPPTYPE_STRING: {
        std::string value;
        if (field.type() == Field::TYPE_BYTES || !String(&value)) {
          return false;
        }
        add ? r.AddString(message, &field, std::move(value))
            : r.SetString(message, &field, std::move(value));
        return true;
      }
      case Field::CPPTYPE_MESSAGE: {
        pb::Message* value = add ? r.AddMessage(message, &field)
                                 : r.MutableMessage(message, &field);
        const std::string& type = field.message_type()->full_name();
        if (type == "google.protobuf.Timestamp") return Timestamp(value);
        if (type == "google.protobuf.Duration") return Duration(value);
        return Object(value, depth + 1);
      }
      case Field::CPPTYPE_DOUBLE:
      case Field::CPPTYPE_FLOAT:
        return false;
    }
    return false;
  }

  // "2026-12-07T21:00:00.5Z": RFC 3339 in UTC, up to nine digits of a
  // second (an offset other than Z is protobuf's to read).
  bool Timestamp(pb::Message* time) {
    if (!Take('"')) return false;
    int64_t parts[6];  // year, month, day, hour, minute, second
    const char separators[6] = {'-', '-', 'T', ':', ':', '\0'};
    const int widths[6] = {4, 2, 2, 2, 2, 2};
    for (int k = 0; k < 6; ++k) {
      if (!Digits(widths[k], widths[k], &parts[k]) ||
          (separators[k] != '\0' && !Take(separators[k]))) {
        return false;
      }
    }
    const absl::CivilSecond civil(parts[0], parts[1], parts[2], parts[3],
                                  parts[4], parts[5]);
    // CivilSecond normalises 31 April into 1 May: a date that moved was
    // no date.
    if (parts[0] < 1 || civil.year() != parts[0] || civil.month() != parts[1] ||
        civil.day() != parts[2] || civil.hour() != parts[3] ||
        civil.minute() != parts[4] || civil.second() != parts[5]) {
      return false;
    }
    int32_t nanos = 0;
    if (!Fraction(&nanos) || !Take('Z') || !Take('"')) return false;
    SetSecondsAndNanos(
        time, absl::ToUnixSeconds(absl::FromCivil(civil, absl::UTCTimeZone())),
        nanos);
    return true;
  }

  // "-1.5s": seconds, up to nine digits of a second, within ±10,000 years.
  bool Duration(pb::Message* span) {
    if (!Take('"')) return false;
    const bool negative = Take('-');
    int64_t seconds;
    int32_t nanos = 0;
    if (!Digits(1, 12, &seconds) || seconds > kMaxDurationSeconds ||
        !Fraction(&nanos) || !Take('s') || !Take('"')) {
      return false;
    }
    SetSecondsAndNanos(span, negative ? -seconds : seconds,
                       negative ? -nanos : nanos);
    return true;
  }

  // ".5" as 500000000 nanoseconds; nothing as none.
  bool Fraction(int32_t* nanos) {
    if (!Take('.')) return true;
    const size_t start = pos_;
    int64_t digits;
    if (!Digits(1, 9, &digits)) return false;
    for (size_t n = pos_ - start; n < 9; ++n) digits *= 10;
    *nanos = static_cast<int32_t>(digits);
    return true;
  }

  // Between `least` and `most` decimal digits.
  bool Digits(size_t least, size_t most, int64_t* value) {
    const size_t start = pos_;
    *value = 0;
    while (pos_ < text_.size() && pos_ - start < most &&
           absl::ascii_isdigit(text_[pos_])) {
      *value = *value * 10 + (text_[pos_++] - '0');
    }
    return pos_ - start >= least &&
           (pos_ == text_.size() || !absl::ascii_isdigit(text_[pos_]));
  }

  static void SetSecondsAndNanos(pb::Message* message, int64_t seconds,
                                 int32_t nanos) {
    const pb::Descriptor& type = *message->GetDescriptor();
    const pb::Reflection& r = *message->GetReflection();
    r.SetInt64(message, type.FindFieldByNumber(1), seconds);
    r.SetInt32(message, type.FindFieldByNumber(2), nanos);
  }

  bool Word(absl::string_view word) {
    if (!absl::StartsWith(text_.substr(pos_), word)) return false;
    pos_ += word.size();
    return true;
  }

  // An integer: -?(0|[1-9][0-9]*), as a number or in quotes, that fits.
  bool Integer(int64_t* value) {
    const bool quoted = Take('"');
    const size_t start = pos_;
    Take('-');
    const size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      ++pos_;
    }
    if (pos_ == digits || pos_ - digits > 19 ||
        (text_[digits] == '0' && pos_ - digits > 1)) {
      return false;
    }
    if (pos_ < text_.size() &&
        (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return false;
    }
    if (!absl::SimpleAtoi(text_.substr(start, pos_ - start), value)) {
      return false;
    }
    return !quoted || Take('"');
  }

  // A JSON string, its escapes read; false if it is not UTF-8, or holds a
  // control character or a lone surrogate.
  bool String(std::string* out) {
    if (!Take('"')) return false;
    out->clear();
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<uint8_t>(c) < 0x20) return false;
      if (c == '\\') {
        if (!Escape(out)) return false;
        continue;
      }
      if (static_cast<uint8_t>(c) < 0x80) {
        out->push_back(c);
        ++pos_;
        continue;
      }
      const size_t start = pos_;
      uint32_t cp;
      if (!NextCodePoint(text_, &pos_, &cp)) return false;
      out->append(text_.data() + start, pos_ - start);
    }
    return false;
  }

  bool Escape(std::string* out) {
    if (pos_ + 1 >= text_.size()) return false;
    const char c = text_[pos_ + 1];
    pos_ += 2;
    constexpr absl::string_view kShort = "\"\"\\\\//b\bf\fn\nr\rt\t";
    for (size_t k = 0; k < kShort.size(); k += 2) {
      if (c == kShort[k]) {
        out->push_back(kShort[k + 1]);
        return true;
      }
    }
    if (c != 'u') return false;
    uint32_t cp;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xd800 && cp <= 0xdbff) {  // a pair's first half
      uint32_t low;
      if (!Word("\\u") || !Hex4(&low) || low < 0xdc00 || low > 0xdfff) {
        return false;
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      return false;
    }
    AppendUtf8(cp, out);
    return true;
  }

  bool Hex4(uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return false;
    *cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text_[pos_++];
      const int digit = absl::ascii_isdigit(c) ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) return false;
      *cp = *cp * 16 + static_cast<uint32_t>(digit);
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  const absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool ReadJson(absl::string_view json, pb::Message* message) {
  return Reader(json).Document(message);
}

bool AppendJson(const pb::Message& message, std::string* out) {
  const size_t size = out->size();
  if (Writer(out).Message(message)) return true;
  out->resize(size);
  return false;
}

}  // namespace slussen::web
