// The gateway's pure parts: the Connect mapping of codes and errors, JSON
// bodies, and the users file.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "clients/web/connect.h"
#include "clients/web/identity.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "slussen/v1/coordinator_service.pb.h"
#include "slussen/v1/queue_service.pb.h"
#include "slussen/v1/referral_service.pb.h"
#include "tests/support/sample_referrals.h"

namespace slussen::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConnectTest, CodesHaveTheSpecificationsNamesAndStatuses) {
  EXPECT_EQ(ConnectCodeName(absl::StatusCode::kInvalidArgument),
            "invalid_argument");
  EXPECT_EQ(ConnectCodeName(absl::StatusCode::kCancelled), "canceled");
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
}

TEST(ConnectTest, AnErrorCarriesTheBrokersDetails) {
  google::rpc::BadRequest bad;
  auto* violation = bad.add_field_violations();
  violation->set_field("referral.impulse.kommun_code");
  violation->set_description("must be four digits");
  google::rpc::Status status;
  status.set_code(3);
  status.set_message("referral.impulse.kommun_code must be four digits");
  status.add_details()->PackFrom(bad);
  const ConnectError error =
      ConnectErrorOf(absl::StatusCode::kInvalidArgument, status.message(),
                     status.SerializeAsString());
  EXPECT_EQ(error.http_status, 400);
  google::protobuf::Struct body;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(error.body, &body).ok())
      << error.body;
  EXPECT_EQ(body.fields().at("code").string_value(), "invalid_argument");
  const auto& detail =
      body.fields().at("details").list_value().values(0).struct_value();
  EXPECT_EQ(detail.fields().at("type").string_value(), "google.rpc.BadRequest");
  std::string value;
  ASSERT_TRUE(
      absl::Base64Unescape(detail.fields().at("value").string_value(), &value));
  google::rpc::BadRequest decoded;
  ASSERT_TRUE(decoded.ParseFromString(value));
  EXPECT_EQ(decoded.field_violations(0).field(),
            "referral.impulse.kommun_code");
  EXPECT_THAT(error.body, HasSubstr("\"fieldViolations\""));
}

TEST(ConnectTest, DetailsThatCannotBeReadAreLeftOut) {
  const ConnectError error = ConnectErrorOf(absl::StatusCode::kNotFound,
                                            "no such referral", "\xff\xff");
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.body,
            "{\"code\":\"not_found\",\"message\":\"no such referral\"}");
}

TEST(ConnectTest, ABodyIsParsedAsTheMethodsMessage) {
  const auto* descriptor = v1::ListReferralsRequest::descriptor();
  auto parsed = ParseJson(*descriptor, "{\"parent\":\"regions/13\"}");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)->ShortDebugString(), "parent: \"regions/13\"");
  EXPECT_TRUE(ParseJson(*descriptor, "").ok());
  auto unknown = ParseJson(*descriptor, "{\"parrent\":\"regions/13\"}");
  EXPECT_TRUE(absl::IsInvalidArgument(unknown.status()));
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("slussen.v1.ListReferralsRequest"));
}

// Every kind of message the API answers comes out as protobuf's own printer
// writes it (web_proto_json_test compares random ones), and back through
// the gateway's resolver, which keeps each type once, without the
// annotations of its fields.
TEST(ConnectTest, JsonIsAsProtobufsOwnPrinterWritesIt) {
  std::vector<std::unique_ptr<google::protobuf::Message>> messages;
  for (const v1::CreateReferralRequest& request :
       slussen::testing::SampleOfEveryKind()) {
    auto referral = std::make_unique<v1::Referral>(request.referral());
    referral->set_name("regions/13/referrals/01JD0000000000000000000000");
    referral->set_state(v1::REFERRAL_STATE_QUEUED);
    referral->mutable_create_time()->set_seconds(1765000000);
    referral->mutable_create_time()->set_nanos(120000000);
    v1::Transition* step = referral->add_history();
    step->set_action(v1::ACTION_QUEUE);
    step->mutable_actor()->set_role(v1::ROLE_SYSTEM);
    referral->set_etag("2");
    messages.push_back(std::move(referral));
  }
  auto policy = std::make_unique<v1::PriorityPolicy>();
  // One entry: protobuf writes a map in the order of the wire, which
  // MessageToJsonString leaves to the map (web_proto_json_test orders it).
  (*policy->mutable_agency_weights())["forsakringskassan"] = 2;
  messages.push_back(std::move(policy));
  auto worklist = std::make_unique<v1::ListWorklistRequest>();
  worklist->mutable_due_within()->set_seconds(3 * 86400);
  worklist->mutable_due_within()->set_nanos(500000000);
  messages.push_back(std::move(worklist));
  for (int pass = 0; pass < 2; ++pass) {  // the second from the cache
    for (const auto& message : messages) {
      const auto& descriptor = *message->GetDescriptor();
      std::string expected;
      ASSERT_TRUE(
          google::protobuf::util::MessageToJsonString(*message, &expected)
              .ok());
      absl::StatusOr<std::string> json =
          BinaryToJson(descriptor, message->SerializeAsString());
      ASSERT_TRUE(json.ok()) << json.status();
      EXPECT_EQ(*json, expected) << descriptor.full_name();
      absl::StatusOr<std::unique_ptr<google::protobuf::Message>> back =
          ParseJson(descriptor, *json);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(**back, *message))
          << descriptor.full_name();
    }
  }
}

TEST(ConnectTest, TheTableHoldsEveryUnaryRpcAndNoStream) {
  const MethodTable table = MethodTable::FromGeneratedFiles(ApiServiceFiles());
  EXPECT_NE(table.Find("/slussen.v1.ReferralService/CreateReferral"), nullptr);
  EXPECT_NE(table.Find("/slussen.v1.EventService/ListEvents"), nullptr);
  EXPECT_EQ(table.Find("/slussen.v1.EventService/WatchEvents"), nullptr);
  EXPECT_EQ(table.Find("/slussen.v1.ReferralService/Nothing"), nullptr);
}

TEST(UsersFileTest, ReadsPeopleAndTheirNames) {
  auto users = UsersFile::Parse(
      "# comment\n"
      "hsa:SE2321000016-A1B2 kommun-halmstad-eb agency 13 a123 Anna Andersson\n"
      "user:bertil samordning-halland coordinator 13 - Bertil Berg # note\n",
      "users");
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_EQ(users->entries().size(), 2u);
  const WebIdentity* anna = users->Find("hsa:SE2321000016-A1B2");
  ASSERT_NE(anna, nullptr);
  EXPECT_EQ(anna->name, "Anna Andersson");
  EXPECT_EQ(anna->person, "a123");
  EXPECT_EQ(users->Find("user:bertil")->person, "");
  EXPECT_EQ(users->Find("user:nobody"), nullptr);
}

TEST(UsersFileTest, ABadLineIsNamedByItsNumber) {
  auto role = UsersFile::Parse(
      "dev:a kommun-x agency 13 a1 A\ndev:b kommun-x boss 13 b1 B\n", "users");
  EXPECT_TRUE(absl::IsInvalidArgument(role.status()));
  EXPECT_THAT(role.status().message(), HasSubstr("users:2:"));
  EXPECT_THAT(role.status().message(), HasSubstr("role"));
  auto coordinator =
      UsersFile::Parse("dev:c samordning-x coordinator - - C\n", "users");
  EXPECT_THAT(coordinator.status().message(), HasSubstr("region"));
  auto twice = UsersFile::Parse(
      "dev:a kommun-x agency 13 a1 A\ndev:a kommun-y agency 13 a2 B\n",
      "users");
  EXPECT_THAT(twice.status().message(), HasSubstr("twice"));
  auto pnr = UsersFile::Parse("dev:a kommun-x agency 13 191212121212 A\n", "u");
  EXPECT_TRUE(absl::IsInvalidArgument(pnr.status()));
  EXPECT_THAT(pnr.status().message(), Not(HasSubstr("191212121212")));
  auto key = UsersFile::Parse("anna kommun-x agency 13 a1 A\n", "users");
  EXPECT_THAT(key.status().message(), HasSubstr("hsa:, san:, user: or dev:"));
}

TEST(UsersFileTest, TheDevelopmentUsersFileIsValid) {
  auto users = UsersFile::Load(SLUSSEN_DEV_USERS_FILE);
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_GE(users->entries().size(), 8u);
}

}  // namespace
}  // namespace slussen::web
