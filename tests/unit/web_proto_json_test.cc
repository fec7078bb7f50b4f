// The gateway's JSON writer against protobuf's own printer: random messages
// of every type of the API, written by both, must be the same bytes.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/web/connect.h"
#include "clients/web/proto_json.h"
#include "gtest/gtest.h"
#include "slussen/v1/coordinator_service.pb.h"
#include "slussen/v1/queue_service.pb.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"
#include "tests/support/sample_referrals.h"

namespace slussen::web {
namespace {

namespace pb = ::google::protobuf;
using Field = pb::FieldDescriptor;

// Every message type of the API's files and the files they import, but
// protobuf's own (which the writer leaves to protobuf, but three).
std::vector<const pb::Descriptor*> ApiMessageTypes() {
  std::vector<const pb::Descriptor*> types;
  std::set<const pb::FileDescriptor*> seen;
  std::vector<const pb::FileDescriptor*> files;
  for (const std::string& name : ApiServiceFiles()) {
    files.push_back(pb::DescriptorPool::generated_pool()->FindFileByName(name));
  }
  const auto add = [&](const pb::Descriptor* type, auto& self) -> void {
    if (type->options().map_entry()) return;
    types.push_back(type);
    for (int n = 0; n < type->nested_type_count(); ++n) {
      self(type->nested_type(n), self);
    }
  };
  while (!files.empty()) {
    const pb::FileDescriptor* file = files.back();
    files.pop_back();
    if (file == nullptr || !seen.insert(file).second) continue;
    for (int d = 0; d < file->dependency_count(); ++d) {
      files.push_back(file->dependency(d));
    }
    if (file->package() == "google.protobuf") continue;
    for (int m = 0; m < file->message_type_count(); ++m) {
      add(file->message_type(m), add);
    }
  }
  types.push_back(pb::Timestamp::descriptor());
  types.push_back(pb::Duration::descriptor());
  types.push_back(pb::FieldMask::descriptor());
  return types;
}

// Random messages. Tame ones hold nothing the writer leaves to protobuf;
// wild ones also hold times out of range and field mask paths that
// protobuf renames its own way.
class RandomMessages {
 public:
  RandomMessages(uint64_t seed, bool wild) : rng_(seed), wild_(wild) {}

  std::unique_ptr<pb::Message> Make(const pb::Descriptor& type) {
    std::unique_ptr<pb::Message> message(
        pb::MessageFactory::generated_factory()->GetPrototype(&type)->New());
    Fill(message.get(), 0);
    // Through the wire and back, as the gateway meets messages: a map's
    // entries added by reflection may repeat a key, a map does not.
    std::unique_ptr<pb::Message> parsed(message->New());
    EXPECT_TRUE(parsed->ParseFromString(message->SerializeAsString()));
    return parsed;
  }

 private:
  int Below(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng_);
  }
  bool OneIn(int n) { return Below(n) == 0; }
  template <typename T>
  T Pick(const std::vector<T>& from) {
    return from[Below(static_cast<int>(from.size()))];
  }

  void Fill(pb::Message* message, int depth) {
    const pb::Descriptor& type = *message->GetDescriptor();
    if (type.full_name() == "google.protobuf.Timestamp") return Time(message);
    if (type.full_name() == "google.protobuf.Duration") return Span(message);
    if (type.full_name() == "google.protobuf.FieldMask") return Mask(message);
    for (int f = 0; f < type.field_count(); ++f) {
      const Field& field = *type.field(f);
      if (field.containing_oneof() != nullptr) {
        // At most one of a oneof: whichever is set last.
        if (!OneIn(field.containing_oneof()->field_count())) continue;
      } else if (OneIn(3)) {
        continue;
      }
      if (field.cpp_type() == Field::CPPTYPE_MESSAGE && depth >= 4) continue;
      for (int n = field.is_repeated() ? Below(4) : 1; n > 0; --n) {
        Put(message, field, depth);
      }
    }
  }

  // Sets the field, or adds to it when it repeats.
  void Put(pb::Message* message, const Field& field, int depth) {
    const pb::Reflection& r = *message->GetReflection();
    const bool add = field.is_repeated();
    switch (field.cpp_type()) {
      case Field::CPPTYPE_INT32:
        return add ? r.AddInt32(message, &field, Int32())
                   : r.SetInt32(message, &field, Int32());
      case Field::CPPTYPE_UINT32: {
        const auto value = static_cast<uint32_t>(Int64());
        return add ? r.AddUInt32(message, &field, value)
                   : r.SetUInt32(message, &field, value);
      }
      case Field::CPPTYPE_INT64:
        return add ? r.AddInt64(message, &field, Int64())
                   : r.SetInt64(message, &field, Int64());
      case Field::CPPTYPE_UINT64: {
        const auto value = static_cast<uint64_t>(Int64());
        return add ? r.AddUInt64(message, &field, value)
                   : r.SetUInt64(message, &field, value);
      }
      case Field::CPPTYPE_DOUBLE:
        return add ? r.AddDouble(message, &field, Double())
                   : r.SetDouble(message, &field, Double());
      case Field::CPPTYPE_FLOAT: {
        const auto value = static_cast<float>(Double());
        return add ? r.AddFloat(message, &field, value)
                   : r.SetFloat(message, &field, value);
      }
      case Field::CPPTYPE_BOOL:
        return add ? r.AddBool(message, &field, OneIn(2))
                   : r.SetBool(message, &field, OneIn(2));
      case Field::CPPTYPE_ENUM:
        return add ? r.AddEnumValue(message, &field, Enum(field))
                   : r.SetEnumValue(message, &field, Enum(field));
      case Field::CPPTYPE_STRING:
        return add ? r.AddString(message, &field, Text(field))
                   : r.SetString(message, &field, Text(field));
      case Field::CPPTYPE_MESSAGE:  // a map's entry too
        return Fill(add ? r.AddMessage(message, &field)
                        : r.MutableMessage(message, &field),
                    depth + 1);
    }
  }

  int32_t Int32() {
    return Pick<int32_t>({0, 1, -1, 13, std::numeric_limits<int32_t>::max(),
                          std::numeric_limits<int32_t>::min(),
                          static_cast<int32_t>(rng_())});
  }
  int64_t Int64() {
    return Pick<int64_t>(
        {0, 1, -1, 1765000000, std::numeric_limits<int64_t>::max(),
         std::numeric_limits<int64_t>::min(), static_cast<int64_t>(rng_())});
  }
  double Double() {
    return Pick<double>(
        {0.0, -0.0, 1.5, 0.1, 1.0 / 3, 123456789.125, 1e300, -2.5e-300, 100.0,
         std::nan(""), std::numeric_limits<double>::infinity(),
         -std::numeric_limits<double>::infinity(),
         std::uniform_real_distribution<double>(-1e6, 1e6)(rng_)});
  }
  int Enum(const Field& field) {
    const pb::EnumDescriptor& type = *field.enum_type();
    if (OneIn(8)) return 77;  // a number the enum does not name
    return type.value(Below(type.value_count()))->number();
  }

  std::string Text(const Field& field) {
    if (field.type() == Field::TYPE_BYTES) {
      std::string bytes(Below(7), '\0');
      for (char& c : bytes) c = static_cast<char>(rng_());
      return bytes;
    }
    // Plain text, Swedish letters, what JSON and HTML need escaped, and
    // the invisible characters protobuf escapes besides.
    static const std::vector<std::string> pieces = {"",
                                                    "regions/13",
                                                    "Åsa Öberg",
                                                    "ä",
                                                    "<script>",
                                                    "a&b",
                                                    "\"",
                                                    "\\",
                                                    "\n\t\r\b\f",
                                                    "\x01",
                                                    "\x1f",
                                                    "\x7f",
                                                    "\xc2\x80",
                                                    "\xc2\x9f",
                                                    "\xc2\xa0",
                                                    "\xc2\xad",
                                                    "\xd8\x80",
                                                    "\xdb\x9d",
                                                    "\xe2\x80\x8b",
                                                    "\xe2\x80\xa8",
                                                    "\xe2\x80\xae",
                                                    "\xe2\x81\xa0",
                                                    "\xe2\x81\xaf",
                                                    "\xef\xbb\xbf",
                                                    "\xef\xbf\xb9",
                                                    "\xef\xbf\xbd",
                                                    "\xf0\x9f\x98\x80",
                                                    "\xf3\xa0\x80\x81",
                                                    "\xf3\xa0\x81\xbf",
                                                    "\xf0\x9d\x85\xb3",
                                                    "\xe1\x9e\xb4",
                                                    "/",
                                                    "'",
                                                    " "};
    std::string text;
    for (int n = Below(5); n > 0; --n) text += Pick(pieces);
    return text;
  }

  void Time(pb::Message* message) {
    auto* time = static_cast<pb::Timestamp*>(message);
    time->set_seconds(
        Pick<int64_t>({0, 1765000000, -1, -62135596800, 253402300799,
                       951782400,  // 2000-02-29
                       static_cast<int64_t>(rng_() % 4000000000)}));
    time->set_nanos(
        Pick<int32_t>({0, 500000000, 120000000, 1000, 7, 999999999}));
    if (wild_ && OneIn(4)) {
      Pick<int>({0, 1}) == 0 ? time->set_seconds(253402300800)
                             : time->set_nanos(-1);
    }
  }

  void Span(pb::Message* message) {
    auto* span = static_cast<pb::Duration*>(message);
    const int64_t seconds = Pick<int64_t>({0, 1, 259200, 315576000000});
    const int32_t nanos = Pick<int32_t>({0, 500000000, 1000, 7, 999999999});
    const bool negative = OneIn(3);
    span->set_seconds(negative ? -seconds : seconds);
    span->set_nanos(negative ? -nanos : nanos);
    if (wild_ && OneIn(4)) span->set_nanos(seconds > 0 ? -5 : 2000000000);
  }

  void Mask(pb::Message* message) {
    auto* mask = static_cast<pb::FieldMask*>(message);
    std::vector<std::string> paths = {
        "state", "update_time", "referral.state", "a_b.c_d", "x1_y", "labels"};
    if (wild_) {
      paths.insert(paths.end(), {"Foo", "a__b", "_x", "", "a_1", "x_", "a.B"});
    }
    for (int n = Below(4); n > 0; --n) mask->add_paths(Pick(paths));
  }

  std::mt19937_64 rng_;
  const bool wild_;
};

std::string Deterministic(const pb::Message& message) {
  std::string binary;
  {
    pb::io::StringOutputStream stream(&binary);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return binary;
}

// Protobuf's printer, over bytes whose maps are ordered by key.
pb::util::Status ProtobufJson(const pb::Message& message, std::string* json) {
  static pb::util::TypeResolver* resolver =
      pb::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com", pb::DescriptorPool::generated_pool());
  return pb::util::BinaryToJsonString(
      resolver,
      absl::StrCat("type.googleapis.com/",
                   message.GetDescriptor()->full_name()),
      Deterministic(message), json);
}

TEST(ProtoJsonTest, WritesWhatProtobufsPrinterWrites) {
  const std::vector<const pb::Descriptor*> types = ApiMessageTypes();
  ASSERT_GT(types.size(), 50u);
  RandomMessages random(/*seed=*/20261207, /*wild=*/false);
  int compared = 0;
  for (const pb::Descriptor* type : types) {
    for (int n = 0; n < 40; ++n) {
      const std::unique_ptr<pb::Message> message = random.Make(*type);
      std::string expected;
      ASSERT_TRUE(ProtobufJson(*message, &expected).ok())
          << message->ShortDebugString();
      std::string json = "[";  // appended to, never replaced
      ASSERT_TRUE(AppendJson(*message, &json))
          << type->full_name() << ": " << message->ShortDebugString();
      ASSERT_EQ(json, "[" + expected)
          << type->full_name() << ": " << message->ShortDebugString();
      ++compared;
    }
  }
  EXPECT_EQ(compared, 40 * static_cast<int>(types.size()));
}

// What the writer leaves to protobuf still comes out as protobuf writes it,
// through the gateway's functions, and a message protobuf cannot write is
// an error, as before.
TEST(ProtoJsonTest, TheGatewayWritesWildMessagesAsProtobufDoes) {
  RandomMessages random(/*seed=*/7, /*wild=*/true);
  const pb::LogSilencer quiet;  // protobuf logs each message it refuses
  int left_to_protobuf = 0, refused = 0;
  for (const pb::Descriptor* type : ApiMessageTypes()) {
    for (int n = 0; n < 40; ++n) {
      const std::unique_ptr<pb::Message> message = random.Make(*type);
      std::string expected, ours;
      const bool written = AppendJson(*message, &ours);
      left_to_protobuf += written ? 0 : 1;
      const absl::StatusOr<std::string> json =
          BinaryToJson(*type, Deterministic(*message));
      if (!ProtobufJson(*message, &expected).ok()) {
        EXPECT_FALSE(written) << message->ShortDebugString();
        EXPECT_FALSE(json.ok()) << *json;
        ++refused;
        continue;
      }
      ASSERT_TRUE(json.ok()) << json.status();
      EXPECT_EQ(*json, expected) << message->ShortDebugString();
      if (written) {
        EXPECT_EQ(ours, expected);
      }
    }
  }
  // Both kinds were met, so both paths were compared.
  EXPECT_GT(left_to_protobuf, refused);
  EXPECT_GT(refused, 0);
}

TEST(ProtoJsonTest, EscapesAsProtobufDoes) {
  v1::Referral referral;
  referral.set_etag(
      "<\"a\\b\">\n\x01\x7f\xc2\xad\xe2\x80\xa8\xf3\xa0\x80\x81 Å");
  std::string json;
  ASSERT_TRUE(AppendJson(referral, &json));
  EXPECT_EQ(json,
            "{\"etag\":\"\\u003c\\\"a\\\\b\\\"\\u003e\\n\\u0001\\u007f\\u00ad"
            "\\u2028\\udb40\\udc01 Å\"}");
}

TEST(ProtoJsonTest, LeavesToProtobufWhatItDoesNotWrite) {
  pb::Struct any_struct;
  std::string json = "kept";
  EXPECT_FALSE(AppendJson(any_struct, &json));
  EXPECT_EQ(json, "kept");
  v1::Referral bad;
  bad.set_etag("\xff");  // not UTF-8
  EXPECT_FALSE(AppendJson(bad, &json));
  EXPECT_EQ(json, "kept");
}

TEST(ProtoJsonTest, WritesAMapOrderedByKey) {
  v1::PriorityPolicy policy;
  (*policy.mutable_agency_weights())["kommun"] = 1;
  (*policy.mutable_agency_weights())["forsakringskassan"] = 2;
  (*policy.mutable_agency_weights())["arbetsformedlingen"] = 0;
  std::string json;
  ASSERT_TRUE(AppendJson(policy, &json));
  EXPECT_EQ(json,
            "{\"agencyWeights\":{\"arbetsformedlingen\":0,"
            "\"forsakringskassan\":2,\"kommun\":1}}");
}

// A new, empty message of `type`.
std::unique_ptr<pb::Message> New(const pb::Descriptor& type) {
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(&type)->New());
}

// Where ReadJson reads `json`, protobuf's parser reads it too, into the
// same message. Counts the texts ReadJson read.
void ExpectReadAsProtobufReadsIt(const pb::Descriptor& type,
                                 const std::string& json, int* read) {
  const std::unique_ptr<pb::Message> ours = New(type);
  if (!ReadJson(json, ours.get())) return;
  ++*read;
  const std::unique_ptr<pb::Message> theirs = New(type);
  ASSERT_TRUE(pb::util::JsonStringToMessage(json, theirs.get()).ok())
      << type.full_name() << ": " << json;
  EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*ours, *theirs))
      << type.full_name() << ": " << json
      << "\nours:   " << ours->ShortDebugString()
      << "\ntheirs: " << theirs->ShortDebugString();
}

// Random messages of every type as protobuf's printer writes them (with
// JSON names and with proto names, with and without the fields that hold
// no value) and as AppendJson does.
std::vector<std::pair<const pb::Descriptor*, std::string>> RandomJson() {
  std::vector<std::pair<const pb::Descriptor*, std::string>> texts;
  RandomMessages random(/*seed=*/99, /*wild=*/false);
  pb::util::JsonPrintOptions proto_names, all_fields;
  proto_names.preserve_proto_field_names = true;
  all_fields.always_print_primitive_fields = true;
  for (const pb::Descriptor* type : ApiMessageTypes()) {
    for (int n = 0; n < 20; ++n) {
      const std::unique_ptr<pb::Message> message = random.Make(*type);
      for (const auto& options :
           {pb::util::JsonPrintOptions(), proto_names, all_fields}) {
        std::string json;
        EXPECT_TRUE(
            pb::util::MessageToJsonString(*message, &json, options).ok());
        texts.emplace_back(type, std::move(json));
      }
      std::string ours;
      if (AppendJson(*message, &ours)) texts.emplace_back(type, ours);
    }
  }
  return texts;
}

TEST(ProtoJsonTest, ReadsWhatProtobufsParserReads) {
  int read = 0, texts = 0;
  for (const auto& [type, json] : RandomJson()) {
    ExpectReadAsProtobufReadsIt(*type, json, &read);
    ++texts;
  }
  // Most are read here, not left to protobuf (those with floating point,
  // bytes, times or enum numbers are).
  EXPECT_GT(read, texts / 3) << read << " of " << texts;
}

// Damaged JSON (a character gone, added or changed, the text cut short) is
// either read as protobuf reads it or left to protobuf, never read wrong.
TEST(ProtoJsonTest, DamagedJsonIsReadAsProtobufReadsItOrLeftToIt) {
  const pb::LogSilencer quiet;
  std::mt19937_64 rng(5);
  const std::string inserts = "{}[]:,\"\\ 0-1e.nutrf\x01\xc3";
  int read = 0;
  for (const auto& [type, json] : RandomJson()) {
    if (json.size() < 3) continue;
    for (int n = 0; n < 4; ++n) {
      std::string damaged = json;
      const size_t at = rng() % damaged.size();
      switch (rng() % 4) {
        case 0:
          damaged.erase(at, 1);
          break;
        case 1:
          damaged.insert(at, 1, inserts[rng() % inserts.size()]);
          break;
        case 2:
          damaged[at] = inserts[rng() % inserts.size()];
          break;
        default:
          damaged.resize(at);
      }
      ExpectReadAsProtobufReadsIt(*type, damaged, &read);
    }
  }
  EXPECT_GT(read, 0);  // some damage leaves valid JSON
}

// What a caseworker's desk sends: every kind of referral's create.
TEST(ProtoJsonTest, ReadsEveryKindOfCreate) {
  for (const v1::CreateReferralRequest& request :
       slussen::testing::SampleOfEveryKind()) {
    std::string json;
    ASSERT_TRUE(pb::util::MessageToJsonString(request, &json).ok());
    v1::CreateReferralRequest read;
    ASSERT_TRUE(ReadJson(json, &read)) << json;
    EXPECT_TRUE(pb::util::MessageDifferencer::Equals(read, request)) << json;
  }
}

// Times and durations protobuf's parser reads are read the same here or
// left to it; those it refuses are left to it.
TEST(ProtoJsonTest, ReadsTimesAndDurationsAsProtobufDoes) {
  const pb::LogSilencer quiet;
  int read = 0;
  for (const char* time :
       {"2026-12-07T21:00:00Z", "2026-12-07T21:00:00.5Z",
        "2026-12-07T21:00:00.50Z", "2026-12-07T21:00:00.123456789Z",
        "2024-02-29T00:00:00Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z", "2026-02-29T00:00:00Z",
        "2026-12-07T24:00:00Z", "2026-12-07T21:00:60Z",
        "2026-12-07T21:00:00.1234567890Z", "2026-12-07T21:00:00+01:00",
        "2026-12-07t21:00:00z", "2026-12-07T21:00:00", "0000-01-01T00:00:00Z",
        "12026-12-07T21:00:00Z"}) {
    ExpectReadAsProtobufReadsIt(*v1::Referral::descriptor(),
                                absl::StrCat("{\"createTime\":\"", time, "\"}"),
                                &read);
  }
  EXPECT_GE(read, 7);
  read = 0;
  for (const char* span : {"0s", "1s", "1.5s", "-1.5s", "-0.5s", "0.000000001s",
                           "259200s", "315576000000s", "315576000001s",
                           "1.1234567890s", "1.s", ".5s", "1", "+1s", "01s"}) {
    ExpectReadAsProtobufReadsIt(*v1::ListWorklistRequest::descriptor(),
                                absl::StrCat("{\"dueWithin\":\"", span, "\"}"),
                                &read);
  }
  EXPECT_GE(read, 8);
}

// Integers at the edges of their grammar and range, escapes and space.
TEST(ProtoJsonTest, ReadsTheEdgesOfTheGrammarAsProtobufDoes) {
  const pb::LogSilencer quiet;
  int read = 0;
  for (const char* number :
       {"0", "-0", "\"-0\"", "7", "\"7\"", "2147483647", "-2147483648",
        "2147483648", "\"2147483647\"", "1e2", "12.0", "\" 7\"", "\"+7\"", "00",
        "-", "\"\"", "true", "9223372036854775808"}) {
    ExpectReadAsProtobufReadsIt(*v1::ListReferralsRequest::descriptor(),
                                absl::StrCat("{\"pageSize\":", number, "}"),
                                &read);
  }
  EXPECT_GE(read, 6);
  // Names and strings with escapes, and space where JSON allows it.
  read = 0;
  for (const char* json :
       {"{\"page\\u0053ize\":5}", "{\"parent\":\"a\\/b\\u00e5\"}",
        "{\"parent\":\"\\ud83d\\ude00\"}", "\t{ \"parent\" :\r\n\"a\" }\n",
        "{\"parent\":\"a\",}", "{,}", "{\"filter\":{}}", "[]", "{}"}) {
    ExpectReadAsProtobufReadsIt(*v1::ListReferralsRequest::descriptor(), json,
                                &read);
  }
  EXPECT_GE(read, 5);
}

TEST(ProtoJsonTest, LeavesToProtobufWhatItDoesNotRead) {
  v1::ListReferralsRequest request;
  for (const char* json : {
           "{\"parrent\":\"regions/13\"}",         // unknown field
           "{\"parent\":null}",                    // null
           "{\"parent\":\"a\",\"parent\":\"b\"}",  // twice
           "{\"parent\":\"\\ud800\"}",             // lone surrogate
           "{\"pageSize\":1.0}",                   // not an integer
           "{\"pageSize\":01}",                    // not JSON
           "{\"pageSize\":2147483648}",            // out of range
           "{\"parent\":\"a\"} x",                 // more after it
       }) {
    EXPECT_FALSE(ReadJson(json, &request)) << json;
  }
  ASSERT_TRUE(ReadJson("{ \"parent\" : \"regions/13\", \"page_size\": \"5\" }",
                       &request));
  EXPECT_EQ(request.parent(), "regions/13");
  EXPECT_EQ(request.page_size(), 5);
}

}  // namespace
}  // namespace slussen::web
