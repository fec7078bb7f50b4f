// Consent, audit and erasure end to end, over gRPC, on a real Redis:
// withdrawing consent ends the participation and shuts the provider out;
// every read and change of personal data is in the audit trail, whose hash
// chain finds a record altered or removed in Redis; erasure leaves no trace
// of the participant in Redis nor, after a rewrite, in the append-only
// file; the retention sweep erases finished referrals by itself.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/core/model/personnummer.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/event_log.h"
#include "broker/store/redis_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/consent_service.grpc.pb.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/privacy_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_capacity.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

// The personnummer of SampleJointMapping.
std::string SamplePersonnummer() {
  return SampleJointMapping("13")
      .referral()
      .participant()
      .personal_identity_number();
}

// The participant's facts an answer spells out, as the matcher's reasons
// put them ("age 34 within 18..64", "kommun 1380 served", ...).
std::vector<std::string> ParticipantFactsIn(
    const google::protobuf::Message& answer) {
  static const std::regex kFact(
      "age [0-9]+|kommun [0-9]{4}|[0-9]+ days left|[0-9]+ hours a week");
  const std::string text = answer.DebugString();
  std::vector<std::string> facts;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kFact);
       it != std::sregex_iterator(); ++it) {
    facts.push_back(it->str());
  }
  return facts;
}

class PrivacyE2eTest : public ::testing::Test {
 protected:
  void StartBroker(BrokerHarness::Options options = {}) {
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    consents_ = v1::ConsentService::NewStub(harness_->channel());
    privacy_ = v1::PrivacyService::NewStub(harness_->channel());
    offers_ = v1::OfferService::NewStub(harness_->channel());
    events_ = v1::EventService::NewStub(harness_->channel());
    store::RedisOptions redis = harness_->redis_options();
    pool_ = std::make_unique<store::RedisPool>(redis);
  }

  template <typename Call>
  grpc::Status As(const Identity& who, Call call,
                  const std::string& request_id = "") {
    grpc::ClientContext context;
    Identify(&context, who);
    if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
    return call(&context);
  }

  v1::Referral Create(const v1::CreateReferralRequest& request) {
    v1::Referral made;
    const grpc::Status status =
        harness_->Client(kFkHalmstad).Create(request, &made);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return made;
  }

  // Creates a referral and waits until the matcher has queued it (its
  // QUEUE change is audited too, and may come just after the answer),
  // reading Redis directly so that the wait reads nothing through the API.
  v1::Referral CreateQueued(const v1::CreateReferralRequest& request) {
    const v1::Referral made = Create(request);
    const std::string key =
        absl::StrCat("slussen:{r13}:referral:",
                     made.name().substr(made.name().rfind('/') + 1));
    for (int i = 0; i < 400; ++i) {
      if (Redis({"HGET", key, "state"}).str ==
          absl::StrCat(v1::REFERRAL_STATE_QUEUED)) {
        return made;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << made.name() << " was not queued";
    return made;
  }

  grpc::Status Get(const Identity& who, const std::string& name,
                   v1::Referral* out, const std::string& request_id = "") {
    auto stub = harness_->ReferralStub();
    v1::GetReferralRequest request;
    request.set_name(name);
    return As(
        who, [&](auto* c) { return stub->GetReferral(c, request, out); },
        request_id);
  }

  v1::VerifyAuditChainResponse Verify() {
    v1::VerifyAuditChainRequest request;
    request.set_parent("regions/13");
    v1::VerifyAuditChainResponse response;
    const grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
      return privacy_->VerifyAuditChain(c, request, &response);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::AuditRecord> AuditOf(const std::string& personnummer) {
    v1::ListAuditRecordsRequest request;
    request.set_parent("regions/13");
    request.set_personal_identity_number(personnummer);
    v1::ListAuditRecordsResponse response;
    const grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
      return privacy_->ListAuditRecords(c, request, &response);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.records().begin(), response.records().end()};
  }

  store::RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<store::RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.value_or(store::RedisValue());
  }

  // The audit stream's entries: [id, [field, value, ...]].
  std::vector<store::RedisValue> AuditEntries() {
    return Redis({"XRANGE", "slussen:{r13}:audit", "-", "+"}).elements;
  }

  std::unique_ptr<BrokerHarness> harness_;
  std::unique_ptr<v1::ConsentService::Stub> consents_;
  std::unique_ptr<v1::PrivacyService::Stub> privacy_;
  std::unique_ptr<v1::OfferService::Stub> offers_;
  std::unique_ptr<v1::EventService::Stub> events_;
  std::unique_ptr<store::RedisPool> pool_;
};

TEST_F(PrivacyE2eTest, WithdrawingConsentEndsTheParticipationAndShutsOut) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  const absl::Status capacity = CreateHalsosamCapacity(harness_->channel());
  ASSERT_TRUE(capacity.ok()) << capacity;
  const v1::Referral referral = Create(SampleActivityReferral("13"));
  v1::Referral seen;
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  ASSERT_EQ(seen.state(), v1::REFERRAL_STATE_OFFERED);

  // The provider accepts and, under the consent, sees the participant.
  v1::AcceptOfferRequest accept;
  accept.set_name(seen.current_offer());
  v1::Offer accepted;
  grpc::Status status = As(kHalsosam, [&](auto* c) {
    return offers_->AcceptOffer(c, accept, &accepted);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(Get(kHalsosam, referral.name(), &seen).ok());
  EXPECT_TRUE(seen.has_participant());
  v1::GetConsentRequest get_consent;
  get_consent.set_name(ConsentName(referral.name()));
  v1::Consent consent;
  ASSERT_TRUE(As(kHalsosam, [&](auto* c) {
                return consents_->GetConsent(c, get_consent, &consent);
              }).ok());
  EXPECT_EQ(consent.state(), v1::CONSENT_STATE_ACTIVE);
  EXPECT_EQ(consent.name(), ConsentName(referral.name()));

  // The coordinator may not record it; the referring agency does, by the
  // name its referral gives the consent.
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  EXPECT_EQ(seen.consent().name(), ConsentName(referral.name()));
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_name(seen.consent().name());
  withdraw.set_recorded_by_person("handlaggare-7");
  v1::Consent withdrawn;
  status = As(kHallandCoordinator, [&](auto* c) {
    return consents_->WithdrawConsent(c, withdraw, &withdrawn);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = As(kFkHalmstad, [&](auto* c) {
    return consents_->WithdrawConsent(c, withdraw, &withdrawn);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(withdrawn.state(), v1::CONSENT_STATE_WITHDRAWN);
  EXPECT_EQ(withdrawn.withdrawn_by().organisation(), "fk-lfc-halmstad");
  EXPECT_EQ(withdrawn.withdrawn_by().person(), "handlaggare-7");
  EXPECT_TRUE(withdrawn.has_withdraw_time());

  // The participation ended; the provider no longer sees the referral nor
  // its consent; the agency still sees its own.
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  EXPECT_EQ(seen.state(), v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_EQ(seen.history(seen.history_size() - 1).action(),
            v1::ACTION_WITHDRAW_CONSENT);
  EXPECT_EQ(Get(kHalsosam, referral.name(), &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(As(kHalsosam,
               [&](auto* c) {
                 return consents_->GetConsent(c, get_consent, &consent);
               })
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The place is free again: the next referral gets the offer.
  const std::string capacity_key =
      "slussen:{r13}:offering:halsosam-halmstad:kom-igang";
  EXPECT_EQ(Redis({"HGET", capacity_key, "u:host:occupied"}).str, "0");
  // One CONSENT_WITHDRAWN event.
  int withdrawals = 0;
  for (const store::RedisValue& entry :
       Redis({"XRANGE", "slussen:{r13}:events", "-", "+"}).elements) {
    const std::vector<store::RedisValue>& fields = entry.elements[1].elements;
    if (fields.size() >= 2 && fields[0].str == "type" &&
        fields[1].str == absl::StrCat(v1::EVENT_TYPE_CONSENT_WITHDRAWN)) {
      ++withdrawals;
    }
  }
  EXPECT_EQ(withdrawals, 1);

  // Recording it again changes nothing.
  v1::Consent again;
  ASSERT_TRUE(As(kFkHalmstad, [&](auto* c) {
                return consents_->WithdrawConsent(c, withdraw, &again);
              }).ok());
  EXPECT_EQ(again.withdraw_time().seconds(),
            withdrawn.withdraw_time().seconds());

  // The agency finds the consent by the participant's pseudonym.
  v1::ListConsentsRequest list;
  list.set_parent("regions/13");
  list.set_participant_pseudonym(
      SampleActivityReferral("13").referral().participant().pseudonym());
  v1::ListConsentsResponse listed;
  ASSERT_TRUE(As(kFkHalmstad, [&](auto* c) {
                return consents_->ListConsents(c, list, &listed);
              }).ok());
  ASSERT_EQ(listed.consents_size(), 1);
  EXPECT_EQ(listed.consents(0).state(), v1::CONSENT_STATE_WITHDRAWN);
  // Another agency finds nothing under the same pseudonym.
  ASSERT_TRUE(As(kHalmstadKommun, [&](auto* c) {
                return consents_->ListConsents(c, list, &listed);
              }).ok());
  EXPECT_EQ(listed.consents_size(), 0);
}

// Every answer a provider or a coordinator gets (the offer, the offers
// listed, the referral's history, the region's events) carries the
// participant's facts only while the consent covers that reader.
TEST_F(PrivacyE2eTest, NoAnswerCarriesFactsTheConsentDoesNotCover) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  const absl::Status capacity = CreateHalsosamCapacity(harness_->channel());
  ASSERT_TRUE(capacity.ok()) << capacity;
  const v1::Referral referral = Create(SampleActivityReferral("13"));
  v1::Referral seen;
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  ASSERT_EQ(seen.state(), v1::REFERRAL_STATE_OFFERED);
  const std::string offer_name = seen.current_offer();

  const auto offer_as = [&](const Identity& who) {
    v1::GetOfferRequest request;
    request.set_name(offer_name);
    v1::Offer offer;
    const grpc::Status status =
        As(who, [&](auto* c) { return offers_->GetOffer(c, request, &offer); });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return offer;
  };
  const auto offers_as = [&](const Identity& who) {
    v1::ListOffersRequest request;
    request.set_parent(who.role == "provider" ? "regions/-" : "regions/13");
    v1::ListOffersResponse listed;
    const grpc::Status status = As(
        who, [&](auto* c) { return offers_->ListOffers(c, request, &listed); });
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(listed.offers_size(), 1);
    return listed;
  };
  const auto events_as = [&](const Identity& who) {
    v1::ListEventsRequest request;
    request.set_parent("regions/13");
    v1::ListEventsResponse listed;
    const grpc::Status status = As(
        who, [&](auto* c) { return events_->ListEvents(c, request, &listed); });
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(listed.events_size(), 0);
    return listed;
  };
  const auto history_as = [&](const Identity& who) {
    auto stub = harness_->ReferralStub();
    v1::GetReferralRequest request;
    request.set_name(referral.name());
    request.set_view(v1::REFERRAL_VIEW_FULL);
    v1::Referral full;
    const grpc::Status status =
        As(who, [&](auto* c) { return stub->GetReferral(c, request, &full); });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return full;
  };
  const auto audited_reads_of_offer = [&] {
    int reads = 0;
    for (const store::RedisValue& entry : AuditEntries()) {
      const std::vector<store::RedisValue>& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        v1::AuditRecord record;
        if (fields[i].str == "r" && record.ParseFromString(fields[i + 1].str) &&
            record.operation() == v1::AUDIT_OPERATION_READ &&
            record.resource() == offer_name) {
          ++reads;
        }
      }
    }
    return reads;
  };

  // The consent covers the provider's eligibility data: the offer says why
  // the place fits, and the read is in the audit trail.
  EXPECT_THAT(ParticipantFactsIn(offer_as(kHalsosam)),
              ::testing::Contains(::testing::StartsWith("age ")));
  EXPECT_EQ(audited_reads_of_offer(), 1);
  EXPECT_FALSE(ParticipantFactsIn(offers_as(kHalsosam)).empty());
  EXPECT_EQ(audited_reads_of_offer(), 2);
  // It covers the region's coordinators for outcomes only: none of the
  // participant's facts reach them, by any of the four ways.
  EXPECT_THAT(ParticipantFactsIn(offer_as(kHallandCoordinator)),
              ::testing::IsEmpty());
  EXPECT_THAT(ParticipantFactsIn(offers_as(kHallandCoordinator)),
              ::testing::IsEmpty());
  EXPECT_THAT(ParticipantFactsIn(history_as(kHallandCoordinator)),
              ::testing::IsEmpty());
  EXPECT_THAT(ParticipantFactsIn(events_as(kHallandCoordinator)),
              ::testing::IsEmpty());
  EXPECT_EQ(audited_reads_of_offer(), 2);  // they saw nothing personal

  // The provider accepts; then the agency records the consent withdrawn.
  v1::AcceptOfferRequest accept;
  accept.set_name(offer_name);
  v1::Offer accepted;
  ASSERT_TRUE(As(kHalsosam, [&](auto* c) {
                return offers_->AcceptOffer(c, accept, &accepted);
              }).ok());
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_name(ConsentName(referral.name()));
  v1::Consent withdrawn;
  ASSERT_TRUE(As(kFkHalmstad, [&](auto* c) {
                return consents_->WithdrawConsent(c, withdraw, &withdrawn);
              }).ok());

  // The provider still sees the offer it accepted, without the facts.
  const v1::Offer after = offer_as(kHalsosam);
  EXPECT_EQ(after.state(), v1::OFFER_STATE_ACCEPTED);
  EXPECT_THAT(ParticipantFactsIn(after), ::testing::IsEmpty());
  EXPECT_THAT(ParticipantFactsIn(offers_as(kHalsosam)), ::testing::IsEmpty());
  EXPECT_THAT(ParticipantFactsIn(events_as(kHalsosam)), ::testing::IsEmpty());
  EXPECT_THAT(ParticipantFactsIn(offer_as(kHallandCoordinator)),
              ::testing::IsEmpty());
  // The referring agency still reads them in its own referral.
  EXPECT_THAT(ParticipantFactsIn(history_as(kFkHalmstad)),
              ::testing::Contains(::testing::StartsWith("age ")));
}

TEST_F(PrivacyE2eTest, ReadsAndChangesAreAuditedAndTamperingIsFound) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  const v1::Referral referral = CreateQueued(SampleJointMapping("13"));
  v1::Referral seen;
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen, "read-one").ok());
  ASSERT_TRUE(
      Get(kHallandCoordinator, referral.name(), &seen, "read-two").ok());
  // An impulse holds no personal data: nothing to audit.
  Create(SampleImpulse("13"));

  // Create: the change, the broker's matching; then the agency's read.
  // (The create's answer is covered by the creation's record.) The
  // coordinator's read is not there: the consent gives coordinators only
  // outcomes, so it showed no personal data.
  const std::vector<v1::AuditRecord> records = AuditOf(SamplePersonnummer());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].operation(), v1::AUDIT_OPERATION_CREATE);
  EXPECT_EQ(records[0].actor().organisation(), "fk-lfc-halmstad");
  EXPECT_EQ(records[0].resource(), referral.name());
  EXPECT_EQ(records[0].purpose(), "CONSENT_PURPOSE_JOINT_MAPPING");
  EXPECT_EQ(records[1].operation(), v1::AUDIT_OPERATION_UPDATE);
  EXPECT_EQ(records[1].actor().role(), v1::ROLE_SYSTEM);  // queued
  EXPECT_EQ(records[2].operation(), v1::AUDIT_OPERATION_READ);
  EXPECT_EQ(records[2].request_id(), "read-one");
  EXPECT_EQ(records[2].actor().organisation(), "fk-lfc-halmstad");
  for (const v1::AuditRecord& record : records) {
    EXPECT_FALSE(record.subject().empty());
    EXPECT_EQ(record.subject(), records[0].subject());
    EXPECT_FALSE(record.hash().empty());
  }
  EXPECT_EQ(records[1].previous_hash(), records[0].hash());
  // Only coordinators of the region and admins read the trail.
  v1::ListAuditRecordsRequest foreign;
  foreign.set_parent("regions/13");
  foreign.set_personal_identity_number(SamplePersonnummer());
  v1::ListAuditRecordsResponse ignored;
  EXPECT_EQ(As(kSkaneCoordinator,
               [&](auto* c) {
                 return privacy_->ListAuditRecords(c, foreign, &ignored);
               })
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As(kFkHalmstad,
               [&](auto* c) {
                 return privacy_->ListAuditRecords(c, foreign, &ignored);
               })
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Reading the trail was itself recorded: 4 records, all linked.
  v1::VerifyAuditChainResponse verified = Verify();
  EXPECT_TRUE(verified.intact()) << verified.problem();
  EXPECT_EQ(verified.records_checked(), 4);

  // Alter one record's content in Redis, keeping its id and hashes: the
  // stream is rebuilt with the same ids.
  const std::vector<store::RedisValue> entries = AuditEntries();
  ASSERT_EQ(entries.size(), 4u);
  Redis({"DEL", "slussen:{r13}:audit"});
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<std::string> argv = {"XADD", "slussen:{r13}:audit",
                                     entries[i].elements[0].str};
    for (const store::RedisValue& field : entries[i].elements[1].elements) {
      argv.push_back(field.str);
    }
    if (i == 2) {
      std::string& bytes = argv[4];  // the value of "r"
      ASSERT_EQ(argv[3], "r");
      const size_t at = bytes.find("read-one");
      ASSERT_NE(at, std::string::npos);
      bytes.replace(at, 8, "read-xxx");
    }
    Redis(argv);
  }
  verified = Verify();
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(
      verified.first_broken_record(),
      absl::StrCat("regions/13/auditRecords/", entries[2].elements[0].str));
  EXPECT_THAT(verified.problem(), HasSubstr("altered"));
}

TEST_F(PrivacyE2eTest, RemovingARecordBreaksTheChain) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  const v1::Referral referral = CreateQueued(SampleJointMapping("13"));
  v1::Referral seen;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  }
  ASSERT_TRUE(Verify().intact());
  // Create, queue, three reads.
  std::vector<store::RedisValue> entries = AuditEntries();
  ASSERT_EQ(entries.size(), 5u);
  // A record in the middle.
  Redis({"XDEL", "slussen:{r13}:audit", entries[2].elements[0].str});
  v1::VerifyAuditChainResponse verified = Verify();
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(
      verified.first_broken_record(),
      absl::StrCat("regions/13/auditRecords/", entries[3].elements[0].str));
  EXPECT_THAT(verified.problem(), HasSubstr("removed"));
}

TEST_F(PrivacyE2eTest, RemovingTheLastRecordShowsAtTheHead) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  const v1::Referral referral = CreateQueued(SampleJointMapping("13"));
  v1::Referral seen;
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  std::vector<store::RedisValue> entries = AuditEntries();
  ASSERT_EQ(entries.size(), 3u);
  Redis({"XDEL", "slussen:{r13}:audit", entries[2].elements[0].str});
  const v1::VerifyAuditChainResponse verified = Verify();
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(verified.first_broken_record(), "regions/13/auditRecords/head");
}

// Every file of the AOF directory, concatenated.
std::string AppendOnlyFiles(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (!absl::StrContains(name, ".aof")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    all += bytes.str();
  }
  return all;
}

TEST_F(PrivacyE2eTest, ErasureLeavesNoTraceInRedisOrTheAppendOnlyFile) {
  BrokerHarness::Options options;
  // Plain commands and uncompressed values, so that a search of the files
  // and of DUMP output sees every byte stored.
  options.redis.extra_args = {"--aof-use-rdb-preamble", "no",
                              "--rdbcompression", "no",
                              // DEBUG DIGEST, from this (local) socket only.
                              "--enable-debug-command", "local"};
  ASSERT_NO_FATAL_FAILURE(StartBroker(std::move(options)));
  if (harness_->redis_options().cluster) {
    GTEST_SKIP() << "needs one redis-server (SLUSSEN_TEST_REDIS_CLUSTER)";
  }
  const std::string personnummer = SamplePersonnummer();
  const v1::CreateReferralRequest request = SampleJointMapping("13");
  const std::string pseudonym = request.referral().participant().pseudonym();
  absl::StatusOr<core::Pseudonymizer> keyed =
      core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey);
  ASSERT_TRUE(keyed.ok());
  absl::StatusOr<core::Personnummer> number =
      core::ParsePersonnummer(personnummer, absl::CivilDay(2026, 1, 1), "test");
  ASSERT_TRUE(number.ok());
  const std::string hashed = keyed->Pseudonymize(*number);
  const std::string digits = number->digits;

  const v1::Referral referral = Create(request);
  // While the participant takes part, erasure is refused, writing nothing.
  v1::EraseParticipantRequest erase;
  erase.set_parent("regions/13");
  erase.set_personal_identity_number(personnummer);
  erase.set_reason("Begäran om radering enligt art. 17");
  v1::EraseParticipantResponse erased;
  const std::string before = Redis({"DEBUG", "DIGEST"}).str;
  grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
    return privacy_->EraseParticipant(c, erase, &erased);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr(referral.name()));
  EXPECT_EQ(Redis({"DEBUG", "DIGEST"}).str, before);

  v1::Referral cancelled;
  ASSERT_TRUE(harness_->Client(kFkHalmstad)
                  .Cancel(referral.name(),
                          v1::CANCEL_REASON_PARTICIPANT_DECLINED, &cancelled)
                  .ok());
  // Before erasure the participant is there to be found (else the search
  // below would prove nothing).
  ASSERT_TRUE(Redis({"BGREWRITEAOF"}).type != store::RedisValue::Type::kError);
  auto wait_for_rewrite = [&] {
    for (int i = 0; i < 200; ++i) {
      const std::string info = Redis({"INFO", "persistence"}).str;
      if (absl::StrContains(info, "aof_rewrite_in_progress:0") &&
          absl::StrContains(info, "aof_rewrite_scheduled:0")) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "the AOF rewrite did not finish";
  };
  wait_for_rewrite();
  std::string files = AppendOnlyFiles(harness_->redis().dir());
  ASSERT_TRUE(absl::StrContains(files, pseudonym));
  ASSERT_TRUE(absl::StrContains(files, hashed));

  status = As(kHallandCoordinator, [&](auto* c) {
    return privacy_->EraseParticipant(c, erase, &erased);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(erased.referrals_size(), 1);
  EXPECT_EQ(erased.referrals(0), referral.name());

  // The referral stays, for the statistics, without the participant.
  v1::Referral seen;
  ASSERT_TRUE(Get(kFkHalmstad, referral.name(), &seen).ok());
  EXPECT_EQ(seen.state(), v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_FALSE(seen.has_participant());
  EXPECT_TRUE(seen.joint_mapping().reason().empty());
  EXPECT_TRUE(seen.has_personal_data_erase_time());

  // Nothing in Redis holds the pseudonym, the keyed hash or the number.
  Redis({"BGREWRITEAOF"});
  wait_for_rewrite();
  std::string cursor = "0";
  int keys = 0;
  do {
    const store::RedisValue scan = Redis({"SCAN", cursor, "COUNT", "1000"});
    ASSERT_EQ(scan.elements.size(), 2u);
    cursor = scan.elements[0].str;
    for (const store::RedisValue& key : scan.elements[1].elements) {
      ++keys;
      const std::string dumped = Redis({"DUMP", key.str}).str;
      for (const std::string& secret : {pseudonym, hashed, digits}) {
        EXPECT_FALSE(absl::StrContains(key.str, secret)) << key.str;
        EXPECT_FALSE(absl::StrContains(dumped, secret)) << key.str;
      }
    }
  } while (cursor != "0");
  EXPECT_GT(keys, 5);
  files = AppendOnlyFiles(harness_->redis().dir());
  EXPECT_FALSE(files.empty());
  EXPECT_FALSE(absl::StrContains(files, pseudonym));
  EXPECT_FALSE(absl::StrContains(files, hashed));
  EXPECT_FALSE(absl::StrContains(files, digits));

  // The erasure is in the audit trail, which still verifies; the subject
  // access request finds the person's records by the number.
  const std::vector<v1::AuditRecord> records = AuditOf(personnummer);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().operation(), v1::AUDIT_OPERATION_ERASE);
  EXPECT_THAT(records.back().purpose(), HasSubstr("art. 17"));
  EXPECT_TRUE(Verify().intact());
}

TEST_F(PrivacyE2eTest, APseudonymTwoAgenciesUseNamesNoOneForErasure) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  v1::CreateReferralRequest fk = SampleRehabServiceOrder("13");
  fk.mutable_referral()->mutable_participant()->set_pseudonym("deltagare-1");
  v1::CreateReferralRequest kommun = SampleActivityReferral("13");
  kommun.mutable_referral()->mutable_participant()->set_pseudonym(
      "deltagare-1");
  v1::Referral made;
  ASSERT_TRUE(harness_->Client(kFkHalmstad).Create(fk, &made).ok());
  ASSERT_TRUE(harness_->Client(kHalmstadKommun).Create(kommun, &made).ok());
  v1::EraseParticipantRequest erase;
  erase.set_parent("regions/13");
  erase.set_participant_pseudonym("deltagare-1");
  erase.set_reason("Begäran om radering");
  v1::EraseParticipantResponse erased;
  const grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
    return privacy_->EraseParticipant(c, erase, &erased);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(),
              HasSubstr("fk-lfc-halmstad, kommun-halmstad-eb"));
}

TEST_F(PrivacyE2eTest, TheRetentionSweepErasesFinishedReferrals) {
  BrokerHarness::Options options;
  options.broker.retention.retention = absl::Seconds(1);
  options.broker.retention.interval = absl::Milliseconds(100);
  ASSERT_NO_FATAL_FAILURE(StartBroker(std::move(options)));
  const v1::Referral finished = Create(SampleJointMapping("13"));
  v1::CreateReferralRequest other = SampleRehabServiceOrder("13");
  const v1::Referral open = Create(other);
  v1::Referral cancelled;
  ASSERT_TRUE(harness_->Client(kFkHalmstad)
                  .Cancel(finished.name(),
                          v1::CANCEL_REASON_PARTICIPANT_DECLINED, &cancelled)
                  .ok());
  v1::Referral seen;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Get(kFkHalmstad, finished.name(), &seen).ok());
    if (seen.has_personal_data_erase_time()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(seen.has_personal_data_erase_time());
  EXPECT_FALSE(seen.has_participant());
  EXPECT_EQ(seen.history(seen.history_size() - 1).actor().role(),
            v1::ROLE_AGENCY);  // history stays; only notes go
  ASSERT_TRUE(Get(kFkHalmstad, open.name(), &seen).ok());
  EXPECT_FALSE(seen.has_personal_data_erase_time());
  EXPECT_TRUE(seen.has_participant());
}

// The same sweep removes events older than the retention; a watcher
// resuming from before them is refused OUT_OF_RANGE (it would miss
// them), one starting afresh is not.
TEST_F(PrivacyE2eTest, TheRetentionSweepRemovesOldEventsAndRefusesOldTokens) {
  BrokerHarness::Options options;
  options.broker.retention.retention = absl::Seconds(1);
  options.broker.retention.interval = absl::Milliseconds(100);
  ASSERT_NO_FATAL_FAILURE(StartBroker(std::move(options)));
  // A watch open throughout: the broker then keeps region 13's events in
  // memory (EventFeed), from where nothing removed may still be listed.
  grpc::ClientContext watching;
  Identify(&watching, kFkHalmstad);
  watching.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  v1::WatchEventsRequest open;
  open.set_parent("regions/13");
  auto watcher = events_->WatchEvents(&watching, open);
  watcher->WaitForInitialMetadata();
  Create(SampleRehabServiceOrder("13"));
  v1::ListEventsRequest list;
  list.set_parent("regions/13");
  const auto listed = [&] {
    v1::ListEventsResponse response;
    const grpc::Status status = As(kFkHalmstad, [&](auto* c) {
      return events_->ListEvents(c, list, &response);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.events_size();
  };
  EXPECT_GE(listed(), 1);
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (listed() > 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(listed(), 0) << "the events outlived the retention";

  // From the start of region 13's stream: events were removed since.
  v1::WatchEventsRequest watch;
  watch.set_parent("regions/13");
  watch.set_resume_token(core::EncodeWatchPositions({{"13", "0-0"}}));
  grpc::ClientContext context;
  Identify(&context, kFkHalmstad);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  auto reader = events_->WatchEvents(&context, watch);
  v1::WatchEventsResponse event;
  EXPECT_FALSE(reader->Read(&event));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(), HasSubstr("resume_token"));

  // A watch without a token starts at the newest events, as ever.
  grpc::ClientContext fresh;
  Identify(&fresh, kFkHalmstad);
  fresh.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(500));
  watch.clear_resume_token();
  auto fresh_reader = events_->WatchEvents(&fresh, watch);
  EXPECT_FALSE(fresh_reader->Read(&event));  // nothing new: the deadline
  EXPECT_EQ(fresh_reader->Finish().error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  watching.TryCancel();
  watcher->Finish();
}

}  // namespace
}  // namespace slussen::testing
