// Bad input over real gRPC: every invalid request is answered
// INVALID_ARGUMENT with a message naming the field and, for a program, a
// google.rpc.Status in the trailers whose BadRequest names the field path,
// and changes nothing in Redis (the key count and the event stream stay as
// they were).
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/error_details.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// The google.rpc.Status a failed call carries in its trailer
// grpc-status-details-bin, as a client library reads it.
google::rpc::Status RpcStatusOf(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(details.message(), status.error_message());
  return details;
}

struct InvalidCreate {
  std::string name;
  std::function<v1::CreateReferralRequest()> request;
  // The field path the message must name.
  std::string field;
};

v1::CreateReferralRequest With(
    v1::CreateReferralRequest request,
    const std::function<void(v1::CreateReferralRequest&)>& change) {
  change(request);
  return request;
}

std::vector<InvalidCreate> InvalidCreates() {
  using R = v1::CreateReferralRequest;
  return {
      {"MissingParent",
       [] { return With(SampleImpulse(), [](R& r) { r.clear_parent(); }); },
       "parent"},
      {"UnknownRegion",
       [] {
         return With(SampleImpulse(), [](R& r) { r.set_parent("regions/99"); });
       },
       "parent"},
      {"AnyRegionOnCreate",
       [] {
         return With(SampleImpulse(), [](R& r) { r.set_parent("regions/-"); });
       },
       "parent"},
      {"BadRequestId",
       [] {
         return With(SampleImpulse(),
                     [](R& r) { r.set_request_id("has space"); });
       },
       "request_id"},
      {"NoReferral",
       [] { return With(SampleImpulse(), [](R& r) { r.clear_referral(); }); },
       "referral"},
      {"NoDetails",
       [] {
         return With(SampleImpulse(),
                     [](R& r) { r.mutable_referral()->clear_impulse(); });
       },
       "referral.details"},
      {"ImpulseWithParticipant",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()->mutable_participant()->set_pseudonym("abcd");
         });
       },
       "referral.participant"},
      {"ImpulseWithConsent",
       [] {
         return With(SampleImpulse(),
                     [](R& r) { r.mutable_referral()->mutable_consent(); });
       },
       "referral.consent"},
      {"ImpulseWithoutCallBack",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()->mutable_impulse()->clear_call_back();
         });
       },
       "referral.impulse.call_back"},
      {"ImpulseCallBackWithoutPhoneOrEmail",
       [] {
         return With(SampleImpulse(), [](R& r) {
           auto* c =
               r.mutable_referral()->mutable_impulse()->mutable_call_back();
           c->clear_phone();
           c->clear_email();
         });
       },
       "referral.impulse.call_back.phone"},
      {"ImpulseBadEmail",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()
               ->mutable_impulse()
               ->mutable_call_back()
               ->set_email("anna.berg");
         });
       },
       "referral.impulse.call_back.email"},
      {"ImpulseKommunFormat",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()->mutable_impulse()->set_kommun_code("138");
         });
       },
       "referral.impulse.kommun_code"},
      {"ImpulseKommunOutsideRegion",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()->mutable_impulse()->set_kommun_code("1280");
         });
       },
       "referral.impulse.kommun_code"},
      {"ImpulseNeedUnspecified",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()->mutable_impulse()->set_need_category(
               v1::NEED_CATEGORY_UNSPECIFIED);
         });
       },
       "referral.impulse.need_category"},
      {"ImpulseNeedUnknown",
       [] {
         return With(SampleImpulse(), [](R& r) {
           r.mutable_referral()->mutable_impulse()->set_need_category(
               static_cast<v1::NeedCategory>(42));
         });
       },
       "referral.impulse.need_category"},
      {"ActivityWithoutParticipant",
       [] {
         return With(SampleActivityReferral(),
                     [](R& r) { r.mutable_referral()->clear_participant(); });
       },
       "referral.participant"},
      {"PseudonymIsAPersonnummer",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()->mutable_participant()->set_pseudonym(
               "191212121212");
         });
       },
       "referral.participant.pseudonym"},
      {"PersonnummerCheckDigit",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()
               ->mutable_participant()
               ->set_personal_identity_number("19121212-1213");
         });
       },
       "referral.participant.personal_identity_number"},
      {"JointMappingWithoutPersonnummer",
       [] {
         return With(SampleJointMapping(), [](R& r) {
           r.mutable_referral()
               ->mutable_participant()
               ->clear_personal_identity_number();
         });
       },
       "referral.participant.personal_identity_number"},
      {"AgeOutOfRange",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()
               ->mutable_participant()
               ->mutable_attributes()
               ->set_age_years(212);
         });
       },
       "referral.participant.attributes.age_years"},
      {"DuplicateBenefitStatus",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()
               ->mutable_participant()
               ->mutable_attributes()
               ->add_benefit_statuses(v1::BENEFIT_STATUS_SICKNESS_BENEFIT);
         });
       },
       "referral.participant.attributes.benefit_statuses[1]"},
      {"LanguageCode",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()
               ->mutable_participant()
               ->mutable_attributes()
               ->add_languages("svenska");
         });
       },
       "referral.participant.attributes.languages[1]"},
      {"NoConsent",
       [] {
         return With(SampleActivityReferral(),
                     [](R& r) { r.mutable_referral()->clear_consent(); });
       },
       "referral.consent"},
      {"ConsentInTheFuture",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()
               ->mutable_consent()
               ->mutable_start_time()
               ->set_seconds(4102444800);
         });
       },
       "referral.consent.start_time"},
      {"ConsentWithoutProviderScope",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()
               ->mutable_consent()
               ->mutable_scopes(0)
               ->set_party_class(v1::PARTY_CLASS_REGION_COORDINATORS);
         });
       },
       "referral.consent.scopes"},
      {"RehabWithoutDoctor",
       [] {
         return With(SampleRehabServiceOrder(), [](R& r) {
           r.mutable_referral()
               ->mutable_rehab_service_order()
               ->set_doctor_confirmed_plan(false);
         });
       },
       "referral.rehab_service_order.doctor_confirmed_plan"},
      {"RehabAgreementName",
       [] {
         return With(SampleRehabServiceOrder(), [](R& r) {
           r.mutable_referral()
               ->mutable_rehab_service_order()
               ->set_framework_agreement("fk-rehab-2025");
         });
       },
       "referral.rehab_service_order.framework_agreement"},
      {"JointMappingWithKommun",
       [] {
         return With(SampleJointMapping(), [](R& r) {
           r.mutable_referral()->mutable_joint_mapping()->set_counterpart(
               v1::AGENCY_KIND_KOMMUN);
         });
       },
       "referral.joint_mapping.counterpart"},
      {"ActivityTypeUppercase",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()->mutable_activity()->set_activity_type(
               "Hälsosam");
         });
       },
       "referral.activity.activity_type"},
      {"PersonnummerInNote",
       [] {
         return With(SampleActivityReferral(), [](R& r) {
           r.mutable_referral()->mutable_activity()->set_note(
               "Gäller 19121212-1212, ring först");
         });
       },
       "referral.activity.note"},
      {"TeamName",
       [] {
         return With(SampleTeamHandover(), [](R& r) {
           r.mutable_referral()->mutable_team_handover()->set_team(
               "teams/amia");
         });
       },
       "referral.team_handover.team"},
      {"CaseSummaryTooLong",
       [] {
         return With(SampleTeamHandover(), [](R& r) {
           r.mutable_referral()->mutable_team_handover()->set_case_summary(
               std::string(4001, 'x'));
         });
       },
       "referral.team_handover.case_summary"},
  };
}

class InvalidRequestsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    // DEBUG DIGEST: one hash over every key and value.
    options.redis.extra_args = {"--enable-debug-command", "local"};
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(options);
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    stub_ = harness_->ReferralStub();
    // One valid referral, so that "nothing changed" is not trivially true
    // of an empty database.
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    ASSERT_TRUE(
        stub_->CreateReferral(&context, SampleImpulse(), &existing_).ok());
  }

  // The digest once the broker's own background work at its start is
  // done: the deadline ticker's first tick marks every region (a quarter
  // second after the start) and the matcher's first sweep may pass over
  // the region, both on their own threads and, on a slow run (ASan, a
  // loaded CI machine), after the first call. Two digests a tick and more
  // apart that agree say it is done, so that "nothing changed" is about
  // the calls alone.
  std::string Settled() {
    std::string last = Fingerprint();
    for (int i = 0; i < 30; ++i) {
      absl::SleepFor(absl::Milliseconds(300));
      std::string now = Fingerprint();
      if (now == last) return now;
      last = std::move(now);
    }
    ADD_FAILURE() << "Redis kept changing with no call made";
    return last;
  }

  // A digest of every key and value, so any write shows.
  std::string Fingerprint() {
    absl::StatusOr<std::string> digest = harness_->DataDigest();
    EXPECT_TRUE(digest.ok()) << digest.status();
    EXPECT_GE(digest.value_or("").size(), 40u);
    return digest.value_or("unavailable");
  }

  std::unique_ptr<BrokerHarness> harness_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
  v1::Referral existing_;
};

TEST_F(InvalidRequestsE2eTest,
       EveryInvalidCreateNamesItsFieldAndWritesNothing) {
  const std::vector<InvalidCreate> cases = InvalidCreates();
  ASSERT_GE(cases.size(), 20u);
  const std::string before = Settled();
  for (const InvalidCreate& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::Referral out;
    const grpc::Status status =
        stub_->CreateReferral(&context, c.request(), &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
    EXPECT_THAT(ViolatedFields(status), ElementsAre(c.field));
  }
  EXPECT_EQ(Fingerprint(), before);
}

TEST_F(InvalidRequestsE2eTest, AProgramReadsTheFieldFromTheErrorDetails) {
  v1::CreateReferralRequest request = SampleImpulse();
  request.mutable_referral()->mutable_impulse()->set_kommun_code("1280");
  grpc::ClientContext context;
  Identify(&context, kHalmstadKommun);
  v1::Referral out;
  const grpc::Status status = stub_->CreateReferral(&context, request, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Two details: the BadRequest naming the field, and an ErrorInfo with
  // the stable reason INVALID_FIELD.
  const google::rpc::Status details = RpcStatusOf(status);
  ASSERT_EQ(details.details_size(), 2);
  std::set<std::string> types;
  google::rpc::ErrorInfo info;
  for (const google::protobuf::Any& any : details.details()) {
    types.insert(any.type_url());
    // Braces: ASSERT_TRUE is an if-else of its own.
    if (any.Is<google::rpc::ErrorInfo>()) {
      ASSERT_TRUE(any.UnpackTo(&info));
    }
  }
  EXPECT_THAT(types, ::testing::ElementsAre(
                         "type.googleapis.com/google.rpc.BadRequest",
                         "type.googleapis.com/google.rpc.ErrorInfo"));
  EXPECT_EQ(info.reason(), "INVALID_FIELD");
  EXPECT_EQ(info.domain(), "slussen.se");
  const std::vector<google::rpc::BadRequest::FieldViolation> violations =
      FieldViolationsOf(status);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field(), "referral.impulse.kommun_code");
  EXPECT_EQ(violations[0].description(),
            "must lie in the referral's region 13 (its first two digits), "
            "got \"1280\"");
}

TEST_F(InvalidRequestsE2eTest, PersonalValuesAreNeverEchoed) {
  for (const char* pnr : {"19121212-1213", "191212121212"}) {
    v1::CreateReferralRequest request = SampleActivityReferral();
    request.mutable_referral()->mutable_activity()->set_note(
        std::string("Gäller ") + "19121212-1212");
    request.mutable_referral()->mutable_participant()->set_pseudonym(pnr);
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::Referral out;
    const grpc::Status status = stub_->CreateReferral(&context, request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("1212121")));
    // Nor do the details a program reads.
    EXPECT_THAT(ViolatedFields(status), SizeIs(1));
    EXPECT_THAT(status.error_details(), ::testing::Not(HasSubstr("1212121")));
  }
}

TEST_F(InvalidRequestsE2eTest, InvalidGetListAndCancelNameTheirField) {
  const std::string before = Settled();
  v1::Referral referral;
  {
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::GetReferralRequest request;
    request.set_name("referrals/123");
    const grpc::Status status =
        stub_->GetReferral(&context, request, &referral);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("name"));
  }
  {
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::ListReferralsRequest request;
    request.set_parent("regions/13");
    request.set_page_size(5000);
    v1::ListReferralsResponse response;
    const grpc::Status status =
        stub_->ListReferrals(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("page_size"));
  }
  {
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::ListReferralsRequest request;
    request.set_parent("regions/13");
    request.set_page_token("not-a-token");
    v1::ListReferralsResponse response;
    const grpc::Status status =
        stub_->ListReferrals(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  }
  {
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::CancelReferralRequest request;
    request.set_name(existing_.name());
    request.set_reason(v1::CANCEL_REASON_OTHER);
    const grpc::Status status =
        stub_->CancelReferral(&context, request, &referral);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("note"));
  }
  EXPECT_EQ(Fingerprint(), before);
}

TEST_F(InvalidRequestsE2eTest,
       OversizedMessagesAreRefusedByTheTransportAndWriteNothing) {
  const std::string before = Settled();
  v1::CreateReferralRequest request = SampleActivityReferral();
  request.mutable_referral()->mutable_activity()->set_note(
      std::string(2 << 20, 'x'));
  grpc::ClientContext context;
  Identify(&context, kHalmstadKommun);
  v1::Referral out;
  const grpc::Status status = stub_->CreateReferral(&context, request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Fingerprint(), before);
}

}  // namespace
}  // namespace slussen::testing
