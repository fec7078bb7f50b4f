// Protected personal data (skyddade personuppgifter) end to end, over gRPC,
// on a real Redis (Referral.protected_personal_data): a referral whose
// participant has protected personal data is known only to the referring
// agency and the provider holding it. To the region's coordinator, another
// agency and another provider every read answers as if it did not exist:
// no answer names it, the Gets are NOT_FOUND, and another agency referring
// the same person is not refused as a twin. The holding provider reaches
// the participant through the referrer. The agency may set (or lift) the
// protection later, which removes the participant's kommun.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/model/proto_time.h"
#include "broker/store/redis_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "slussen/v1/consent_service.grpc.pb.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/privacy_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "slussen/v1/queue_service.grpc.pb.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/error_details.h"
#include "tests/support/event_watcher.h"
#include "tests/support/eventually.h"
#include "tests/support/sample_capacity.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::AnyOf;
using ::testing::Contains;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// A provider of the region that holds none of the tests' referrals (the
// sample directory's rehab supplier).
const Identity kOtherProvider{"work-for-you", "provider", "13"};

// Who must not learn of a protected referral of FK Halmstad's held by
// Hälsosam: the region's coordinator, another agency, another provider.
const std::vector<Identity>& Outsiders() {
  static const auto* const outsiders = new std::vector<Identity>{
      kHallandCoordinator, kLaholmKommun, kOtherProvider};
  return *outsiders;
}

constexpr char kNote[] = "Sekretessmarkering enligt Skatteverket 2026-12-01";
// Well formed, made by no one.
constexpr char kUnknownReferral[] =
    "regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C";

std::string IdOf(const std::string& name) {
  return name.substr(name.rfind('/') + 1);
}

std::string StatusText(const grpc::Status& status) {
  return absl::StrCat(static_cast<int>(status.error_code()), " ",
                      status.error_message());
}

// An activity referral of a participant with protected personal data: the
// sample (with its referrer), with a personnummer and without the kommun,
// which protection forbids.
v1::CreateReferralRequest ProtectedReferral(
    const std::string& pseudonym,
    const std::string& activity_type = "halsosam") {
  v1::CreateReferralRequest request = SampleActivityReferral("13");
  v1::Referral* referral = request.mutable_referral();
  referral->set_protected_personal_data(true);
  v1::Participant* participant = referral->mutable_participant();
  participant->set_pseudonym(pseudonym);
  participant->set_personal_identity_number(kTestPersonnummer);
  participant->mutable_attributes()->clear_kommun_code();
  referral->mutable_activity()->set_activity_type(activity_type);
  return request;
}

// The same referral of a participant without protection, who has a kommun
// as usual (the sample's, Halmstad).
v1::CreateReferralRequest UnprotectedTwin(const std::string& pseudonym) {
  v1::CreateReferralRequest request = ProtectedReferral(pseudonym);
  request.mutable_referral()->set_protected_personal_data(false);
  request.mutable_referral()
      ->mutable_participant()
      ->mutable_attributes()
      ->set_kommun_code("1380");
  return request;
}

// The names of a referral, as its agency and its provider know them.
struct Target {
  std::string referral;
  std::string pseudonym;
  // While offered: the offer, and its answer clock awaiting Hälsosam.
  std::string offer;
  std::string clock;
  // While queued: the queue.
  std::string queue;
};

// The ids in the targets' names: what no answer to an outsider may
// contain. (A clock's id begins with its referral's; a consent's is its
// referral's.)
std::vector<std::string> IdsOf(const std::vector<Target>& targets) {
  std::vector<std::string> ids;
  for (const Target& target : targets) {
    for (const std::string* name :
         {&target.referral, &target.offer, &target.clock}) {
      if (!name->empty()) ids.push_back(IdOf(*name));
    }
  }
  return ids;
}

// What one read told its caller.
struct Answer {
  // The RPC, and what of it.
  std::string read;
  grpc::Status status;
  // The response (every page of it), as text.
  std::string text;
  // The name the request gave, which a NOT_FOUND message may repeat
  // without telling anything.
  std::string asked;
  // A Get of the target by its name: NOT_FOUND to an outsider.
  bool get = false;
};

// The reads whose answer names one of `ids`: in the response, or in the
// status message beyond repeating the name the request gave.
std::vector<std::string> Naming(const std::vector<Answer>& answers,
                                const std::vector<std::string>& ids) {
  std::vector<std::string> naming;
  for (const Answer& answer : answers) {
    std::string message = answer.status.error_message();
    if (!answer.asked.empty()) {
      message = absl::StrReplaceAll(message, {{answer.asked, "<asked>"}});
    }
    for (const std::string& id : ids) {
      if (absl::StrContains(answer.text, id) ||
          absl::StrContains(message, id)) {
        naming.push_back(absl::StrCat(answer.read, " names ", id, " (",
                                      StatusText(answer.status), ")"));
        break;
      }
    }
  }
  return naming;
}

// What a watch of region 13 as `who` delivered before the fence (a
// referral made after all else), as one answer.
Answer WatchedUntil(EventWatcher& watch, const Identity& who,
                    const std::string& fence) {
  Answer answer;
  answer.read = absl::StrCat("WatchEvents as ", who.organisation);
  for (const v1::WatchEventsResponse& r : watch.Until(fence)) {
    absl::StrAppend(&answer.text, r.DebugString());
  }
  return answer;
}

class ProtectedIdentityE2eTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    const std::shared_ptr<grpc::Channel>& channel = harness_->channel();
    referrals_ = harness_->ReferralStub();
    offers_ = v1::OfferService::NewStub(channel);
    queues_ = v1::QueueService::NewStub(channel);
    coordinators_ = v1::CoordinatorService::NewStub(channel);
    events_ = v1::EventService::NewStub(channel);
    consents_ = v1::ConsentService::NewStub(channel);
    privacy_ = v1::PrivacyService::NewStub(channel);
    pool_ = std::make_unique<store::RedisPool>(harness_->redis_options());
    // Hälsosam in Halmstad (kommun 1380) with places: halsosam referrals
    // are offered at once; redo referrals wait (no offering).
    const absl::Status capacity = CreateHalsosamCapacity(channel);
    ASSERT_TRUE(capacity.ok()) << capacity;
  }

  // Hälsosam admits the residents of `kommun` only (18..64 as before).
  void ServeOnly(const std::string& kommun) {
    v1::UpdateOfferingRequest update;
    update.mutable_offering()->set_name(kHalsosamOffering);
    v1::EligibilityRules* rules =
        update.mutable_offering()->mutable_eligibility();
    rules->set_min_age_years(18);
    rules->set_max_age_years(64);
    rules->add_kommun_codes(kommun);
    update.mutable_update_mask()->add_paths("eligibility");
    v1::Offering updated;
    const grpc::Status changed = As(kAdmin, [&](grpc::ClientContext* c) {
      return v1::ProviderDirectory::NewStub(harness_->channel())
          ->UpdateOffering(c, update, &updated);
    });
    ASSERT_TRUE(changed.ok()) << changed.error_message();
  }

  template <typename Call>
  grpc::Status As(const Identity& who, Call call) {
    grpc::ClientContext context;
    Identify(&context, who);
    return call(&context);
  }

  grpc::Status GetReferral(const Identity& who, const std::string& name,
                           v1::Referral* out) {
    return harness_->Client(who).Get(name, out);
  }

  grpc::Status SetProtection(const Identity& who, const std::string& name,
                             bool protect, v1::Referral* out,
                             const std::string& note = kNote) {
    v1::SetProtectedPersonalDataRequest request;
    request.set_name(name);
    request.set_protected_personal_data(protect);
    request.set_note(note);
    return As(who, [&](auto* c) {
      return referrals_->SetProtectedPersonalData(c, request, out);
    });
  }

  // Waits until the referring agency sees `name` in `state`; the referral
  // as it last read it.
  v1::Referral AwaitState(const std::string& name, v1::ReferralState state) {
    v1::Referral seen;
    const bool reached = Eventually([&] {
      return GetReferral(kFkHalmstad, name, &seen).ok() &&
             seen.state() == state;
    });
    EXPECT_TRUE(reached) << name << " is "
                         << v1::ReferralState_Name(seen.state()) << ", not "
                         << v1::ReferralState_Name(state);
    return seen;
  }

  v1::Referral Create(const v1::CreateReferralRequest& request,
                      const Identity& who = kFkHalmstad) {
    v1::Referral made;
    const grpc::Status status = harness_->Client(who).Create(request, &made);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return made;
  }

  // Creates `request` as FK Halmstad and waits until Hälsosam is offered
  // it.
  Target MakeOffered(const v1::CreateReferralRequest& request) {
    Target target;
    target.referral = Create(request).name();
    target.pseudonym = request.referral().participant().pseudonym();
    target.offer =
        AwaitState(target.referral, v1::REFERRAL_STATE_OFFERED).current_offer();
    target.clock = OfferClockOf(target.referral);
    return target;
  }

  // Creates `request` as FK Halmstad and waits until it is queued.
  Target MakeQueued(const v1::CreateReferralRequest& request) {
    Target target;
    target.referral = Create(request).name();
    target.pseudonym = request.referral().participant().pseudonym();
    AwaitState(target.referral, v1::REFERRAL_STATE_QUEUED);
    v1::GetQueuePositionRequest get;
    get.set_referral(target.referral);
    v1::QueuePosition position;
    const grpc::Status status = As(kFkHalmstad, [&](auto* c) {
      return queues_->GetQueuePosition(c, get, &position);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    target.queue = position.queue();
    return target;
  }

  // An impulse of Laholm's, made after everything else: the fence of the
  // watches (the coordinator and Laholm both see its events).
  std::string MakeFence() {
    return Create(SampleImpulse("13"), kLaholmKommun).name();
  }

  // The clock of `referral` awaiting Hälsosam's answer to the offer, from
  // the worklist of the referring agency or of Hälsosam (of a protected
  // referral, the only ones who see it).
  std::string OfferClockOf(const std::string& referral) {
    for (const Identity& who : {kFkHalmstad, kHalsosam}) {
      v1::ListWorklistRequest request;
      request.set_parent("regions/13");
      request.set_page_size(1000);
      request.mutable_due_within()->set_seconds(365 * 24 * 3600);
      v1::ListWorklistResponse response;
      const grpc::Status status = As(who, [&](auto* c) {
        return coordinators_->ListWorklist(c, request, &response);
      });
      if (!status.ok()) continue;
      for (const v1::WorklistItem& item : response.items()) {
        if (item.clock().referral() == referral &&
            item.clock().awaited_organisation() == kHalsosam.organisation) {
          return item.clock().name();
        }
      }
    }
    ADD_FAILURE() << "no clock of " << referral << " awaits "
                  << kHalsosam.organisation;
    return "";
  }

  // `method` as `who`; a Get when its request names `asked`.
  template <typename Stub, typename Request, typename Response>
  Answer Read(std::string read, const Identity& who, Stub& stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                           Response*),
              const std::type_identity_t<Request>& request,
              std::string asked = "") {
    grpc::ClientContext context;
    Identify(&context, who);
    Response response;
    Answer answer;
    answer.read = std::move(read);
    answer.status = (stub.*method)(&context, request, &response);
    answer.text = response.DebugString();
    answer.asked = std::move(asked);
    answer.get = !answer.asked.empty();
    return answer;
  }

  // The same for a list, following its page tokens.
  template <typename Stub, typename Request, typename Response>
  Answer ReadEveryPage(std::string read, const Identity& who, Stub& stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                    const Request&, Response*),
                       std::type_identity_t<Request> request,
                       std::string asked = "") {
    Answer answer;
    answer.read = std::move(read);
    answer.asked = std::move(asked);
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      Identify(&context, who);
      Response response;
      answer.status = (stub.*method)(&context, request, &response);
      absl::StrAppend(&answer.text, response.DebugString());
      if (!answer.status.ok() || response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return answer;
  }

  // The Gets `who` may try on `target` by its names.
  void GetsOf(const Identity& who, const Target& target,
              std::vector<Answer>* answers) {
    v1::GetReferralRequest referral;
    referral.set_name(target.referral);
    referral.set_view(v1::REFERRAL_VIEW_FULL);
    answers->push_back(Read("GetReferral", who, *referrals_,
                            &v1::ReferralService::Stub::GetReferral, referral,
                            target.referral));
    v1::GetConsentRequest consent;
    consent.set_name(ConsentName(target.referral));
    answers->push_back(Read("GetConsent", who, *consents_,
                            &v1::ConsentService::Stub::GetConsent, consent,
                            consent.name()));
    v1::GetQueuePositionRequest position;
    position.set_referral(target.referral);
    answers->push_back(Read("GetQueuePosition", who, *queues_,
                            &v1::QueueService::Stub::GetQueuePosition, position,
                            target.referral));
    if (!target.offer.empty()) {
      v1::GetOfferRequest offer;
      offer.set_name(target.offer);
      answers->push_back(Read("GetOffer", who, *offers_,
                              &v1::OfferService::Stub::GetOffer, offer,
                              target.offer));
    }
    if (!target.clock.empty()) {
      v1::GetClockRequest clock;
      clock.set_name(target.clock);
      answers->push_back(Read("GetClock", who, *coordinators_,
                              &v1::CoordinatorService::Stub::GetClock, clock,
                              target.clock));
    }
  }

  // The lists `who` may ask for by `target`'s names: its queue, its
  // events, its participant's consents.
  void ListsOf(const Identity& who, const Target& target,
               std::vector<Answer>* answers) {
    if (!target.queue.empty()) {
      v1::ListQueueEntriesRequest entries;
      entries.set_queue(target.queue);
      entries.set_page_size(1000);
      answers->push_back(ReadEveryPage(
          absl::StrCat("ListQueueEntries ", target.queue), who, *queues_,
          &v1::QueueService::Stub::ListQueueEntries, entries));
    }
    v1::ListEventsRequest events;
    events.set_parent("regions/13");
    events.set_referral(target.referral);
    events.set_page_size(1000);
    answers->push_back(ReadEveryPage(
        "ListEvents of the referral", who, *events_,
        &v1::EventService::Stub::ListEvents, events, target.referral));
    v1::ListConsentsRequest consents;
    consents.set_parent("regions/13");
    consents.set_participant_pseudonym(target.pseudonym);
    consents.set_page_size(500);
    answers->push_back(
        ReadEveryPage("ListConsents by pseudonym", who, *consents_,
                      &v1::ConsentService::Stub::ListConsents, consents));
  }

  // The region's lists and reports.
  void RegionReads(const Identity& who, std::vector<Answer>* answers) {
    for (const char* parent : {"regions/13", "regions/-"}) {
      v1::ListReferralsRequest referrals;
      referrals.set_parent(parent);
      referrals.set_page_size(1000);
      referrals.set_view(v1::REFERRAL_VIEW_FULL);
      answers->push_back(ReadEveryPage(
          absl::StrCat("ListReferrals ", parent), who, *referrals_,
          &v1::ReferralService::Stub::ListReferrals, referrals));
      v1::ListOffersRequest offers;
      offers.set_parent(parent);
      offers.set_page_size(1000);
      answers->push_back(
          ReadEveryPage(absl::StrCat("ListOffers ", parent), who, *offers_,
                        &v1::OfferService::Stub::ListOffers, offers));
    }
    v1::ListWorklistRequest worklist;
    worklist.set_parent("regions/13");
    worklist.set_page_size(1000);
    worklist.mutable_due_within()->set_seconds(365 * 24 * 3600);
    answers->push_back(
        ReadEveryPage("ListWorklist", who, *coordinators_,
                      &v1::CoordinatorService::Stub::ListWorklist, worklist));
    v1::ListEventsRequest events;
    events.set_parent("regions/13");
    events.set_page_size(1000);
    answers->push_back(ReadEveryPage("ListEvents regions/13", who, *events_,
                                     &v1::EventService::Stub::ListEvents,
                                     events));
    v1::GetQueueOverviewRequest overview;
    overview.set_parent("regions/13");
    answers->push_back(Read("GetQueueOverview", who, *coordinators_,
                            &v1::CoordinatorService::Stub::GetQueueOverview,
                            overview));
    v1::GetResponseTimeStatisticsRequest statistics;
    statistics.set_parent("regions/13");
    *statistics.mutable_start_time() =
        core::ToProtoTimestamp(absl::Now() - absl::Hours(24 * 30));
    *statistics.mutable_end_time() =
        core::ToProtoTimestamp(absl::Now() + absl::Hours(1));
    answers->push_back(Read(
        "GetResponseTimeStatistics", who, *coordinators_,
        &v1::CoordinatorService::Stub::GetResponseTimeStatistics, statistics));
    v1::GetOutcomeReportRequest outcomes;
    outcomes.set_parent("regions/13");
    *outcomes.mutable_start_date() = DateIn(-30);
    *outcomes.mutable_end_date() = DateIn(0);
    answers->push_back(Read("GetOutcomeReport", who, *coordinators_,
                            &v1::CoordinatorService::Stub::GetOutcomeReport,
                            outcomes));
  }

  // The subject-access answers, by pseudonym and by personnummer.
  void AuditReads(const Identity& who, const std::vector<Target>& targets,
                  std::vector<Answer>* answers) {
    for (const Target& target : targets) {
      v1::ListAuditRecordsRequest by_pseudonym;
      by_pseudonym.set_parent("regions/13");
      by_pseudonym.set_participant_pseudonym(target.pseudonym);
      answers->push_back(ReadEveryPage(
          "ListAuditRecords by pseudonym", who, *privacy_,
          &v1::PrivacyService::Stub::ListAuditRecords, by_pseudonym));
    }
    v1::ListAuditRecordsRequest by_number;
    by_number.set_parent("regions/13");
    by_number.set_personal_identity_number(kTestPersonnummer);
    answers->push_back(
        ReadEveryPage("ListAuditRecords by personnummer", who, *privacy_,
                      &v1::PrivacyService::Stub::ListAuditRecords, by_number));
  }

  // Every read `who` may try that could tell of `targets`: the Gets by
  // name, the lists by name, the region's lists and reports, and last the
  // subject-access answers (which would list the reads made before them).
  std::vector<Answer> EveryRead(const Identity& who,
                                const std::vector<Target>& targets) {
    std::vector<Answer> answers;
    for (const Target& target : targets) {
      GetsOf(who, target, &answers);
      ListsOf(who, target, &answers);
    }
    RegionReads(who, &answers);
    AuditReads(who, targets, &answers);
    return answers;
  }

  // The audit records in Redis of reads of `resource` by `organisation`
  // (read from the store: a coordinator's ListAuditRecords leaves out
  // protected referrals' records).
  int AuditedReads(const std::string& organisation,
                   const std::string& resource) {
    absl::StatusOr<store::RedisValue> entries =
        pool_->Command({"XRANGE", "slussen:{r13}:audit", "-", "+"});
    EXPECT_TRUE(entries.ok()) << entries.status();
    if (!entries.ok()) return -1;
    int reads = 0;
    for (const store::RedisValue& entry : entries->elements) {
      const std::vector<store::RedisValue>& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        v1::AuditRecord record;
        if (fields[i].str == "r" && record.ParseFromString(fields[i + 1].str) &&
            record.operation() == v1::AUDIT_OPERATION_READ &&
            record.resource() == resource &&
            record.actor().organisation() == organisation) {
          ++reads;
        }
      }
    }
    return reads;
  }

  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::OfferService::Stub> offers_;
  std::unique_ptr<v1::QueueService::Stub> queues_;
  std::unique_ptr<v1::CoordinatorService::Stub> coordinators_;
  std::unique_ptr<v1::EventService::Stub> events_;
  std::unique_ptr<v1::ConsentService::Stub> consents_;
  std::unique_ptr<v1::PrivacyService::Stub> privacy_;
  std::unique_ptr<store::RedisPool> pool_;
};

// --- Creating -------------------------------------------------------------

// Protection keeps no kommun of the participant's and needs a referrer to
// reach the participant by; an impulse names no participant to protect.
// Nothing is made.
TEST_F(ProtectedIdentityE2eTest, CreateRefusesAKommunNoReferrerOrAnImpulse) {
  v1::CreateReferralRequest with_kommun = ProtectedReferral("skyddad-1");
  with_kommun.mutable_referral()
      ->mutable_participant()
      ->mutable_attributes()
      ->set_kommun_code("1380");
  v1::CreateReferralRequest without_referrer = ProtectedReferral("skyddad-2");
  without_referrer.mutable_referral()->clear_referrer();
  v1::CreateReferralRequest impulse = SampleImpulse("13");
  impulse.mutable_referral()->set_protected_personal_data(true);

  for (const auto& [request, field] :
       std::vector<std::pair<v1::CreateReferralRequest, std::string>>{
           {with_kommun, "referral.participant.attributes.kommun_code"},
           {without_referrer, "referral.referrer"},
           {impulse, "referral.protected_personal_data"}}) {
    SCOPED_TRACE(field);
    v1::Referral made;
    const grpc::Status status =
        harness_->Client(kFkHalmstad).Create(request, &made);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(ViolatedFields(status), Contains(field));
    EXPECT_THAT(status.error_message(), HasSubstr(field));
  }
  std::vector<std::string> names;
  ASSERT_TRUE(
      harness_->Client(kFkHalmstad).ListNames("regions/-", &names).ok());
  EXPECT_THAT(names, IsEmpty());
}

// Without a kommun the referral is still offered where its other facts fit:
// matching takes the activity's own kommun, so no kommun rule keeps the
// participant out. Hälsosam is made to admit Laholm's residents only
// (1381): the unprotected twin from Halmstad (1380) is rejected for it, so
// the protected referral's offer is the waiver's doing.
TEST_F(ProtectedIdentityE2eTest, AKommunRuleKeepsNoProtectedParticipantOut) {
  ServeOnly("1381");

  v1::Referral twin;
  ASSERT_TRUE(harness_->Client(kFkHalmstad)
                  .Create(UnprotectedTwin("oskyddad-1"), &twin)
                  .ok());
  EXPECT_EQ(twin.state(), v1::REFERRAL_STATE_REJECTED);

  const Target target = MakeOffered(ProtectedReferral("skyddad-1"));
  v1::Referral seen;
  ASSERT_TRUE(GetReferral(kFkHalmstad, target.referral, &seen).ok());
  EXPECT_TRUE(seen.protected_personal_data());
  EXPECT_EQ(seen.state(), v1::REFERRAL_STATE_OFFERED);
  EXPECT_EQ(seen.assigned_offering(), kHalsosamOffering);
  EXPECT_TRUE(seen.participant().attributes().kommun_code().empty());
}

// --- Who learns of it -------------------------------------------------------

// The central promise: to the region's coordinator, another agency and
// another provider, every read there is (Gets, lists, queues, worklist,
// reports, events listed and watched, consents, the audit trail) answers
// as if neither the offered nor the queued protected referral existed.
TEST_F(ProtectedIdentityE2eTest, NoReadOfAnOutsiderNamesAProtectedReferral) {
  EventWatcher coordinator_watch(harness_->channel(), kHallandCoordinator,
                                 "regions/13");
  EventWatcher agency_watch(harness_->channel(), kLaholmKommun, "regions/13");
  const Target offered = MakeOffered(ProtectedReferral("skyddad-1"));
  const Target queued = MakeQueued(ProtectedReferral("skyddad-2", "redo"));
  ASSERT_FALSE(offered.offer.empty());
  ASSERT_FALSE(offered.clock.empty());
  ASSERT_FALSE(queued.queue.empty());
  const std::string fence = MakeFence();
  const std::vector<std::string> ids = IdsOf({offered, queued});

  EXPECT_THAT(
      Naming({WatchedUntil(coordinator_watch, kHallandCoordinator, fence),
              WatchedUntil(agency_watch, kLaholmKommun, fence)},
             ids),
      IsEmpty());
  for (const Identity& who : Outsiders()) {
    SCOPED_TRACE(who.organisation);
    const std::vector<Answer> answers = EveryRead(who, {offered, queued});
    EXPECT_THAT(Naming(answers, ids), IsEmpty());
    for (const Answer& answer : answers) {
      if (!answer.get) continue;
      EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::NOT_FOUND)
          << answer.read << " " << answer.asked << ": "
          << StatusText(answer.status);
    }
  }
  // The referring agency and the holding provider still see it.
  v1::Referral seen;
  EXPECT_TRUE(GetReferral(kFkHalmstad, offered.referral, &seen).ok());
  EXPECT_TRUE(GetReferral(kHalsosam, offered.referral, &seen).ok());
  EXPECT_TRUE(GetReferral(kFkHalmstad, queued.referral, &seen).ok());
}

// The same reads of the coordinator find an unprotected twin by every way
// it has: the check above is not blind.
TEST_F(ProtectedIdentityE2eTest, TheSameReadsFindAnUnprotectedTwin) {
  EventWatcher coordinator_watch(harness_->channel(), kHallandCoordinator,
                                 "regions/13");
  const Target twin = MakeOffered(UnprotectedTwin("skyddad-1"));
  ASSERT_FALSE(twin.offer.empty());
  ASSERT_FALSE(twin.clock.empty());
  const std::string fence = MakeFence();

  std::vector<Answer> answers = EveryRead(kHallandCoordinator, {twin});
  answers.push_back(
      WatchedUntil(coordinator_watch, kHallandCoordinator, fence));
  const std::vector<std::string> naming = Naming(answers, IdsOf({twin}));
  for (const char* read :
       {"GetReferral", "GetConsent", "GetOffer", "GetClock",
        "ListEvents of the referral", "ListReferrals regions/13",
        "ListReferrals regions/-", "ListOffers regions/13", "ListWorklist",
        "ListEvents regions/13", "ListAuditRecords by personnummer",
        "WatchEvents"}) {
    EXPECT_THAT(naming, Contains(StartsWith(read)));
  }
  for (const Answer& answer : answers) {
    if (answer.read == "GetReferral" || answer.read == "GetOffer" ||
        answer.read == "GetClock") {
      EXPECT_TRUE(answer.status.ok())
          << answer.read << ": " << StatusText(answer.status);
    }
  }
}

// Refusing another agency's referral of the same person to the same
// activity as a twin would tell it that a protected one exists.
TEST_F(ProtectedIdentityE2eTest,
       AnotherAgencyReferringTheSamePersonIsNotRefused) {
  const Target target = MakeOffered(ProtectedReferral("skyddad-1"));
  ASSERT_FALSE(target.offer.empty());
  v1::Referral made;
  const grpc::Status status = harness_->Client(kLaholmKommun)
                                  .Create(UnprotectedTwin("laholm-1"), &made);
  EXPECT_TRUE(status.ok()) << StatusText(status);
}

// ...where the same referral of an unprotected participant is refused (so
// the test above can fail).
TEST_F(ProtectedIdentityE2eTest,
       AnotherAgencyReferringAnUnprotectedPersonIsRefused) {
  MakeOffered(UnprotectedTwin("skyddad-1"));
  v1::Referral made;
  const grpc::Status status = harness_->Client(kLaholmKommun)
                                  .Create(UnprotectedTwin("laholm-1"), &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();
}

// --- The holding provider ---------------------------------------------------

// Hälsosam, offered the place, learns that the participant is protected
// and whom to reach them through: the referral's referrer.
TEST_F(ProtectedIdentityE2eTest,
       TheHoldingProviderReachesTheParticipantThroughTheReferrer) {
  const Target target = MakeOffered(ProtectedReferral("skyddad-1"));
  ASSERT_FALSE(target.offer.empty());
  v1::Referral as_referred;
  ASSERT_TRUE(GetReferral(kFkHalmstad, target.referral, &as_referred).ok());
  ASSERT_FALSE(as_referred.referrer().display_name().empty());
  const std::string referrer = as_referred.referrer().DebugString();

  v1::GetOfferRequest get;
  get.set_name(target.offer);
  v1::Offer offer;
  grpc::Status status =
      As(kHalsosam, [&](auto* c) { return offers_->GetOffer(c, get, &offer); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(offer.protected_personal_data());
  EXPECT_EQ(offer.participant_contact().DebugString(), referrer);

  v1::ListOffersRequest list;
  list.set_parent("regions/13");
  list.set_page_size(1000);
  v1::ListOffersResponse listed;
  status = As(kHalsosam,
              [&](auto* c) { return offers_->ListOffers(c, list, &listed); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.offers_size(), 1);
  EXPECT_EQ(listed.offers(0).name(), target.offer);
  EXPECT_TRUE(listed.offers(0).protected_personal_data());
  EXPECT_EQ(listed.offers(0).participant_contact().DebugString(), referrer);

  v1::Referral seen;
  status = GetReferral(kHalsosam, target.referral, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.name(), target.referral);
  EXPECT_TRUE(seen.protected_personal_data());
}

// Each of Hälsosam's reads of the protected referral and of its offer is in
// the audit trail, although the consent shows Hälsosam nothing of the
// participant: its unprotected twin under the same consent is read
// unaudited.
TEST_F(ProtectedIdentityE2eTest, TheHoldingProvidersReadsAreAudited) {
  // The provider's scope covers outcome data only: no participant, no case
  // details.
  const auto without_provider_scope = [](v1::CreateReferralRequest request) {
    for (v1::ConsentScope& scope :
         *request.mutable_referral()->mutable_consent()->mutable_scopes()) {
      if (scope.party_class() == v1::PARTY_CLASS_ASSIGNED_PROVIDER) {
        scope.clear_data_categories();
        scope.add_data_categories(v1::DATA_CATEGORY_OUTCOME);
      }
    }
    return request;
  };
  const auto reads_of = [&](const Target& target) {
    const int referral_reads =
        AuditedReads(kHalsosam.organisation, target.referral);
    const int offer_reads = AuditedReads(kHalsosam.organisation, target.offer);
    v1::Referral seen;
    EXPECT_TRUE(GetReferral(kHalsosam, target.referral, &seen).ok());
    EXPECT_FALSE(seen.has_participant()) << "the consent does not cover it";
    v1::GetOfferRequest get;
    get.set_name(target.offer);
    v1::Offer offer;
    EXPECT_TRUE(As(kHalsosam, [&](auto* c) {
                  return offers_->GetOffer(c, get, &offer);
                }).ok());
    return std::make_pair(
        AuditedReads(kHalsosam.organisation, target.referral) - referral_reads,
        AuditedReads(kHalsosam.organisation, target.offer) - offer_reads);
  };
  // (Another person: the same personnummer would be refused as a twin.)
  v1::CreateReferralRequest other = UnprotectedTwin("oskyddad-1");
  other.mutable_referral()
      ->mutable_participant()
      ->clear_personal_identity_number();
  const Target twin = MakeOffered(without_provider_scope(other));
  ASSERT_FALSE(twin.offer.empty());
  EXPECT_EQ(reads_of(twin), std::make_pair(0, 0));

  const Target target =
      MakeOffered(without_provider_scope(ProtectedReferral("skyddad-1")));
  ASSERT_FALSE(target.offer.empty());
  EXPECT_EQ(reads_of(target), std::make_pair(1, 1));
}

// --- SetProtectedPersonalData -----------------------------------------------

// The agency learns of the protection after referring: setting it removes
// the kommun, is recorded in the history, and takes the referral out of
// the coordinator's sight; Hälsosam, holding it, still sees it.
TEST_F(ProtectedIdentityE2eTest,
       SettingProtectionRemovesTheKommunAndHidesTheReferral) {
  // A kommun rule, so that the offer's reasons name the kommun.
  ServeOnly("1380");
  const Target target = MakeOffered(UnprotectedTwin("skyddad-1"));
  v1::Referral seen;
  ASSERT_TRUE(GetReferral(kHallandCoordinator, target.referral, &seen).ok());
  ASSERT_TRUE(GetReferral(kFkHalmstad, target.referral, &seen).ok());
  ASSERT_THAT(seen.DebugString(), HasSubstr("kommun 1380 served"));

  v1::Referral set;
  const grpc::Status status =
      SetProtection(kFkHalmstad, target.referral, true, &set);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(set.protected_personal_data());

  ASSERT_TRUE(GetReferral(kFkHalmstad, target.referral, &seen).ok());
  EXPECT_TRUE(seen.protected_personal_data());
  EXPECT_TRUE(seen.participant().attributes().kommun_code().empty());
  // Nor does the matcher's reason for the offer keep it ("kommun 1380
  // served" before).
  EXPECT_THAT(seen.DebugString(), ::testing::Not(HasSubstr("1380")));
  EXPECT_EQ(seen.state(), v1::REFERRAL_STATE_OFFERED);
  ASSERT_GT(seen.history_size(), 0);
  const v1::Transition& last = seen.history(seen.history_size() - 1);
  EXPECT_EQ(last.action(), v1::ACTION_SET_PROTECTED_PERSONAL_DATA);
  EXPECT_TRUE(last.protected_personal_data());
  EXPECT_EQ(last.note(), kNote);
  EXPECT_EQ(last.from_state(), last.to_state());
  EXPECT_EQ(last.actor().organisation(), kFkHalmstad.organisation);

  EXPECT_EQ(
      GetReferral(kHallandCoordinator, target.referral, &seen).error_code(),
      grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(GetReferral(kHalsosam, target.referral, &seen).ok());
  EXPECT_TRUE(seen.protected_personal_data());
}

// Lifting the protection is recorded too; the referral is the region's
// again, without the kommun it lost.
// The events written before the protection was set name the referral
// too: the coordinator no longer gets them (listed or watched anew), and
// gets them again once the protection is lifted.
TEST_F(ProtectedIdentityE2eTest, EventsFromBeforeTheProtectionAreHiddenToo) {
  const Target target = MakeOffered(UnprotectedTwin("skyddad-1"));
  const auto coordinator_events = [&] {
    v1::ListEventsRequest request;
    request.set_parent("regions/13");
    request.set_referral(target.referral);
    request.set_page_size(1000);
    v1::ListEventsResponse response;
    const grpc::Status status =
        As(kHallandCoordinator, [&](grpc::ClientContext* c) {
          return events_->ListEvents(c, request, &response);
        });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.events_size();
  };
  const int before = coordinator_events();
  ASSERT_GE(before, 3);  // created, queued, offered

  v1::Referral set;
  ASSERT_TRUE(SetProtection(kFkHalmstad, target.referral, true, &set).ok());
  EXPECT_TRUE(Eventually([&] { return coordinator_events() == 0; }))
      << "the coordinator still lists the referral's earlier events";
  // The agency still has them all, and the new one.
  v1::ListEventsRequest request;
  request.set_parent("regions/13");
  request.set_referral(target.referral);
  v1::ListEventsResponse agency;
  ASSERT_TRUE(As(kFkHalmstad, [&](grpc::ClientContext* c) {
                return events_->ListEvents(c, request, &agency);
              }).ok());
  EXPECT_EQ(agency.events_size(), before + 1);

  ASSERT_TRUE(SetProtection(kFkHalmstad, target.referral, false, &set).ok());
  EXPECT_TRUE(Eventually([&] { return coordinator_events() > before; }))
      << "the coordinator does not get the events back once protection ends";
}

TEST_F(ProtectedIdentityE2eTest, LiftingProtectionShowsTheReferralAgain) {
  const Target target = MakeOffered(ProtectedReferral("skyddad-1"));
  v1::Referral seen;
  ASSERT_EQ(
      GetReferral(kHallandCoordinator, target.referral, &seen).error_code(),
      grpc::StatusCode::NOT_FOUND);

  v1::Referral lifted;
  const grpc::Status status = SetProtection(kFkHalmstad, target.referral, false,
                                            &lifted, "Skyddet har upphört");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(lifted.protected_personal_data());

  ASSERT_TRUE(GetReferral(kFkHalmstad, target.referral, &seen).ok());
  ASSERT_GT(seen.history_size(), 0);
  const v1::Transition& last = seen.history(seen.history_size() - 1);
  EXPECT_EQ(last.action(), v1::ACTION_SET_PROTECTED_PERSONAL_DATA);
  EXPECT_FALSE(last.protected_personal_data());
  EXPECT_TRUE(GetReferral(kHallandCoordinator, target.referral, &seen).ok());
}

// The provider reaches the participant through the referrer: without one,
// protection cannot be set, and the referral stays as it was.
TEST_F(ProtectedIdentityE2eTest, SettingProtectionNeedsAReferrer) {
  v1::CreateReferralRequest request = SampleActivityReferral("13");
  request.mutable_referral()->clear_referrer();
  const v1::Referral made = Create(request);
  ASSERT_FALSE(made.name().empty());

  v1::Referral out;
  const grpc::Status status =
      SetProtection(kFkHalmstad, made.name(), true, &out);
  EXPECT_THAT(status.error_code(),
              AnyOf(Eq(grpc::StatusCode::FAILED_PRECONDITION),
                    Eq(grpc::StatusCode::INVALID_ARGUMENT)))
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("referrer"));

  v1::Referral seen;
  ASSERT_TRUE(GetReferral(kFkHalmstad, made.name(), &seen).ok());
  EXPECT_FALSE(seen.protected_personal_data());
  EXPECT_EQ(seen.participant().attributes().kommun_code(), "1380");
}

// The note saying why is required; an impulse has no participant to
// protect.
TEST_F(ProtectedIdentityE2eTest, SettingProtectionNeedsANoteAndAParticipant) {
  const Target target = MakeOffered(UnprotectedTwin("skyddad-1"));
  v1::Referral out;
  const grpc::Status no_note =
      SetProtection(kFkHalmstad, target.referral, true, &out, "");
  EXPECT_EQ(no_note.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << no_note.error_message();
  EXPECT_THAT(ViolatedFields(no_note), Contains("note"));

  const v1::Referral impulse = Create(SampleImpulse("13"));
  ASSERT_FALSE(impulse.name().empty());
  const grpc::Status on_impulse =
      SetProtection(kFkHalmstad, impulse.name(), true, &out);
  EXPECT_THAT(on_impulse.error_code(),
              AnyOf(Eq(grpc::StatusCode::INVALID_ARGUMENT),
                    Eq(grpc::StatusCode::FAILED_PRECONDITION)))
      << on_impulse.error_message();
}

// Only the referring agency says so: the provider holding the referral and
// the coordinator may not; another agency, and a name no one made, find
// nothing. None of them changed the referral.
TEST_F(ProtectedIdentityE2eTest, OnlyTheReferringAgencySetsProtection) {
  const Target target = MakeOffered(UnprotectedTwin("skyddad-1"));
  v1::Referral out;
  EXPECT_EQ(SetProtection(kHalsosam, target.referral, true, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SetProtection(kHallandCoordinator, target.referral, true, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      SetProtection(kLaholmKommun, target.referral, true, &out).error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(
      SetProtection(kFkHalmstad, kUnknownReferral, true, &out).error_code(),
      grpc::StatusCode::NOT_FOUND);

  v1::Referral seen;
  ASSERT_TRUE(GetReferral(kFkHalmstad, target.referral, &seen).ok());
  EXPECT_FALSE(seen.protected_personal_data());
  for (const v1::Transition& transition : seen.history()) {
    EXPECT_NE(transition.action(), v1::ACTION_SET_PROTECTED_PERSONAL_DATA);
  }
}

}  // namespace
}  // namespace slussen::testing
