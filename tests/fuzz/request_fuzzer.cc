#include "tests/fuzz/request_fuzzer.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/directory_validation.h"
#include "broker/core/model/eligibility.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/personnummer.h"
#include "broker/core/model/priority_policy.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/text_rules.h"
#include "broker/core/ports/event_log.h"
#include "slussen/v1/coordinator_service.pb.h"
#include "slussen/v1/event_service.pb.h"
#include "slussen/v1/offer_service.pb.h"
#include "slussen/v1/provider_service.pb.h"
#include "slussen/v1/queue_service.pb.h"
#include "slussen/v1/referral_service.pb.h"
#include "tests/fuzz/fuzz_world.h"
#include "tests/support/sample_referrals.h"

namespace slussen::fuzz {
namespace {

namespace v1 = ::slussen::v1;
using core::Caller;

// Longer than any message of the API's rules, shorter than a flood.
constexpr size_t kMaxMessageBytes = 4096;

struct Kind {
  std::string name;
  std::function<absl::Status(absl::string_view bytes, const Caller& caller)>
      run;
};

[[noreturn]] void Broken(absl::string_view kind, absl::string_view rule,
                         absl::string_view detail) {
  fprintf(stderr, "\nrequest fuzzer: %.*s broke a rule: %.*s\n  %.*s\n",
          static_cast<int>(kind.size()), kind.data(),
          static_cast<int>(rule.size()), rule.data(),
          static_cast<int>(detail.size()), detail.data());
  abort();
}

// The rules every refusal keeps: a code a client can act on, a message
// that says something and does not flood, and nothing written.
void CheckRefusal(absl::string_view kind, const absl::Status& status,
                  const std::string& before, World& world) {
  if (status.ok()) return;
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnimplemented:
      Broken(kind, "a request is refused with a code a client can act on",
             status.ToString());
    default:
      break;
  }
  if (status.message().empty() || status.message().size() > kMaxMessageBytes) {
    Broken(kind, "a refusal says why, in a message of at most 4096 bytes",
           status.ToString().substr(0, 300));
  }
  const std::string after = world.StateDigest();
  if (after != before) {
    Broken(kind, "a refused request changes nothing",
           absl::StrCat(status.ToString(), "\n  state before ", before,
                        "\n  state after  ", after));
  }
}

// After an accepted request, what the broker does next on its own: match,
// then let five weeks pass (holds expire, clocks warn and breach). Only
// crashes and sanitizer reports count here.
void RunTheBrokerOn(World& world) {
  (void)world.matchmaker.RunRegion("13");
  world.clock.Advance(absl::Hours(24 * 35));
  (void)world.keeper.FireDue("13", world.clock.Now());
  (void)world.matchmaker.RunRegion("13");
}

// A request of type `Request`, run by `call(world, request, caller)` in a
// fresh world.
template <typename Request, typename Call>
Kind Rpc(std::string name, Call call) {
  return Kind{name,
              [name, call](absl::string_view bytes,
                           const Caller& caller) -> absl::Status {
                Request request;
                if (!request.ParseFromArray(bytes.data(),
                                            static_cast<int>(bytes.size()))) {
                  return absl::OkStatus();
                }
                World world;
                const std::string before = world.StateDigest();
                const absl::Status status = call(world, request, caller);
                CheckRefusal(name, status, before, world);
                if (status.ok()) RunTheBrokerOn(world);
                return status;
              }};
}

// A desk method of the form StatusOr<Response> Method(caller, request).
#define SLUSSEN_DESK(desk, Method, Request)                          \
  Rpc<v1::Request>(#Method,                                          \
                   [](World& w, const v1::Request& request,          \
                      const Caller& caller) -> absl::Status {        \
                     return w.desk.Method(caller, request).status(); \
                   })

absl::Status WatchEvents(World& world, const v1::WatchEventsRequest& request,
                         const Caller& caller) {
  absl::StatusOr<core::EventDesk::Watch> watch =
      world.events.StartWatch(caller, request);
  if (!watch.ok()) return watch.status();
  // From the oldest event, so that polling has something to filter.
  for (auto& [region, position] : watch->positions) position = "0-0";
  return world.events.Poll(caller, *watch, 50).status();
}

// A message the core reads as data.
template <typename Message, typename Use>
Kind Data(std::string name, Use use) {
  return Kind{name,
              [use](absl::string_view bytes, const Caller&) -> absl::Status {
                Message message;
                if (!message.ParseFromArray(bytes.data(),
                                            static_cast<int>(bytes.size()))) {
                  return absl::OkStatus();
                }
                return use(message);
              }};
}

absl::Status UsePriorityPolicy(const v1::PriorityPolicy& policy) {
  const absl::Status valid = core::ValidatePriorityPolicy(policy);
  if (!valid.ok()) return valid;
  const absl::Time start = WorldStart();
  const std::vector<core::PriorityFacts> facts = {
      {.name = "regions/13/referrals/a",
       .referring_organisation = "kommun-halmstad-eb",
       .due = start + absl::Hours(30),
       .sickness_days_left = 12,
       .waiting_since = start - absl::Hours(200)},
      {.name = "regions/13/referrals/b",
       .referring_organisation = "fk-lfc-halmstad",
       .sickness_days_left = 400,
       .waiting_since = start - absl::Hours(20)},
      {.name = "regions/13/referrals/c",
       .referring_organisation = "kommun-halmstad-eb",
       .due = start - absl::Hours(3),
       .waiting_since = start - absl::Hours(2)},
  };
  const std::vector<core::PriorityKey> keys =
      core::ComputeKeys(policy, facts, Stockholm());
  const auto sign = [](int x) { return (x > 0) - (x < 0); };
  for (size_t a = 0; a < keys.size(); ++a) {
    for (size_t b = 0; b < keys.size(); ++b) {
      const int ab = sign(core::ComparePriority(policy, keys[a], keys[b]));
      const int ba = sign(core::ComparePriority(policy, keys[b], keys[a]));
      if (ab != -ba || (a == b && ab != 0)) {
        Broken("PriorityPolicy", "the order is antisymmetric",
               absl::StrCat(a, " vs ", b));
      }
    }
    (void)core::ExplainKey(policy, keys[a], facts[a]);
  }
  return valid;
}

absl::Status UseEligibilityRules(const v1::EligibilityRules& rules) {
  const absl::Status valid = core::ValidateEligibilityRules("rules", rules);
  if (!valid.ok()) return valid;
  const core::EligibilityRule rule = core::CompileEligibility(rules);
  for (const v1::CreateReferralRequest& sample :
       testing::SampleOfEveryKind("13")) {
    const core::ParticipantFacts facts = core::FactsOf(sample.referral());
    if (core::IsEligible(rule, facts)) {
      (void)core::ExplainEligible(rule, facts);
    } else if (core::ExplainIneligible(rule, facts).empty()) {
      Broken("EligibilityRules", "a refusal says which rule was not met",
             rules.ShortDebugString());
    }
  }
  return valid;
}

// Plain text, through every parser of names, codes and ids.
absl::Status UseNames(absl::string_view text) {
  (void)core::ParseReferralName("name", text);
  (void)core::ParseRegionParent("parent", text, true);
  (void)core::ParseOfferingName("name", text);
  (void)core::ParseCohortName("name", text);
  (void)core::ParseOfferName("name", text);
  (void)core::ParseClockName("name", text);
  (void)core::ParseQueueName("queue", text);
  (void)core::ParseSimpleName("name", text, "providers");
  (void)core::ValidateKommunCode("kommun_code", text);
  (void)core::ValidateOrganisationId("organisation", text);
  (void)core::ValidateCode("code", text);
  (void)core::ValidateLanguageCode("language", text);
  (void)core::ValidateRequestId("request_id", text);
  (void)core::ValidateEtag("etag", text);
  // What a parser accepts, its name prints back the same.
  if (const auto name = core::ParseReferralName("name", text);
      name.ok() && name->ToString() != text) {
    Broken("text:names", "a referral name round-trips", text);
  }
  if (const auto name = core::ParseQueueName("queue", text);
      name.ok() && name->ToString() != text) {
    Broken("text:names", "a queue name round-trips", text);
  }
  return absl::OkStatus();
}

// Plain text as a page token or resume token.
absl::Status UseTokens(absl::string_view text) {
  const uint64_t query = core::QueryFingerprint("parent=regions/13");
  (void)core::DecodePageToken("page_token", text, query);
  (void)core::DecodePageToken("page_token", text, query, core::IsSlugId);
  (void)core::DecodePageToken("page_token", text, query,
                              core::IsStreamPosition);
  (void)core::DecodeWatchPositions("resume_token", text);
  if (core::IsSlugId(text)) {
    const absl::StatusOr<std::string> back =
        core::DecodePageToken("page_token", core::EncodePageToken(text, query),
                              query, core::IsSlugId);
    if (!back.ok() || *back != text) {
      Broken("text:tokens", "a page token round-trips its cursor", text);
    }
  }
  return absl::OkStatus();
}

// Whether `message` repeats a run of six or more digits of `text`: the
// part of a personnummer that identifies (a message's own numbers, such as
// "1900..2200" or "2000 characters", are shorter).
bool EchoesDigits(absl::string_view message, absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = 0;
    while (i + n < text.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(text[i + n]))) {
      ++n;
    }
    if (n >= 6 && message.find(text.substr(i, n)) != absl::string_view::npos) {
      return true;
    }
    i += n + 1;
  }
  return false;
}

// Plain text as a personnummer, and as free text that may hide one.
absl::Status UsePersonnummer(absl::string_view text) {
  const absl::CivilDay today(2026, 11, 23);
  const absl::StatusOr<core::Personnummer> parsed =
      core::ParsePersonnummer(text, today, "personal_identity_number");
  const bool contained = core::ContainsPersonnummer(text);
  (void)core::LooksLikePersonnummer(text);
  if (parsed.ok() && !contained) {
    Broken("text:personnummer",
           "a personnummer the parser accepts is found in free text",
           "(withheld)");
  }
  if (!parsed.ok() && EchoesDigits(parsed.status().message(), text)) {
    Broken("text:personnummer", "a refused personnummer is not echoed",
           "(withheld)");
  }
  return parsed.status();
}

absl::Status UseFreeText(absl::string_view text) {
  (void)core::CountCharacters(text);
  const std::string quoted = core::QuoteValue(text);
  // 64 bytes, escaped at most 4 to 1, quotes and "...".
  if (quoted.size() > 64 * 4 + 8) {
    Broken("text:free", "a quoted value is cut", quoted.substr(0, 100));
  }
  for (char c : quoted) {
    if (static_cast<unsigned char>(c) < 0x20) {
      Broken("text:free", "a quoted value holds no control character",
             quoted.substr(0, 100));
    }
  }
  const absl::Status free =
      core::ValidateText("note", text, {.max_chars = 2000, .free_text = true});
  if (!free.ok() && EchoesDigits(free.message(), text)) {
    Broken("text:free", "free text is never echoed", "(withheld)");
  }
  (void)core::ValidateText("display_name", text,
                           {.min_chars = 1, .max_chars = 200});
  v1::ContactRoute route;
  route.set_display_name(std::string(text));
  route.set_phone(std::string(text));
  route.set_email(std::string(text));
  (void)core::ValidateContactRoute("call_back", route, true);
  return free;
}

template <typename Use>
Kind Text(std::string name, Use use) {
  return Kind{name, [use](absl::string_view bytes, const Caller&) {
                return use(bytes);
              }};
}

const std::vector<Kind>& Kinds() {
  static const auto* const kinds = new std::vector<Kind>{
      // ReferralService.
      SLUSSEN_DESK(referrals, CreateReferral, CreateReferralRequest),
      SLUSSEN_DESK(referrals, GetReferral, GetReferralRequest),
      SLUSSEN_DESK(referrals, ListReferrals, ListReferralsRequest),
      SLUSSEN_DESK(referrals, CancelReferral, CancelReferralRequest),
      SLUSSEN_DESK(referrals, ResubmitReferral, ResubmitReferralRequest),
      SLUSSEN_DESK(referrals, SetProtectedPersonalData,
                   SetProtectedPersonalDataRequest),
      SLUSSEN_DESK(referrals, RecordContact, RecordContactRequest),
      SLUSSEN_DESK(referrals, StartReferral, StartReferralRequest),
      SLUSSEN_DESK(referrals, RecordAttendanceDeviation,
                   RecordAttendanceDeviationRequest),
      SLUSSEN_DESK(referrals, CompleteReferral, CompleteReferralRequest),
      SLUSSEN_DESK(referrals, ExitReferral, ExitReferralRequest),
      SLUSSEN_DESK(referrals, RecordFollowUp, RecordFollowUpRequest),
      // OfferService.
      SLUSSEN_DESK(placements, GetOffer, GetOfferRequest),
      SLUSSEN_DESK(placements, ListOffers, ListOffersRequest),
      SLUSSEN_DESK(placements, AcceptOffer, AcceptOfferRequest),
      SLUSSEN_DESK(placements, DeclineOffer, DeclineOfferRequest),
      // QueueService.
      SLUSSEN_DESK(queues, GetQueuePosition, GetQueuePositionRequest),
      SLUSSEN_DESK(queues, ListQueueEntries, ListQueueEntriesRequest),
      SLUSSEN_DESK(queues, GetPriorityPolicy, GetPriorityPolicyRequest),
      SLUSSEN_DESK(queues, PreviewPriorityPolicy, PreviewPriorityPolicyRequest),
      // ProviderDirectory.
      SLUSSEN_DESK(directory, CreateProvider, CreateProviderRequest),
      SLUSSEN_DESK(directory, GetProvider, GetProviderRequest),
      SLUSSEN_DESK(directory, ListProviders, ListProvidersRequest),
      SLUSSEN_DESK(directory, UpdateProvider, UpdateProviderRequest),
      SLUSSEN_DESK(directory, CreateOffering, CreateOfferingRequest),
      SLUSSEN_DESK(directory, GetOffering, GetOfferingRequest),
      SLUSSEN_DESK(directory, ListOfferings, ListOfferingsRequest),
      SLUSSEN_DESK(directory, UpdateOffering, UpdateOfferingRequest),
      SLUSSEN_DESK(directory, PublishCapacity, PublishCapacityRequest),
      SLUSSEN_DESK(placements, DecideCohort, DecideCohortRequest),
      SLUSSEN_DESK(directory, CreateActivityType, CreateActivityTypeRequest),
      SLUSSEN_DESK(directory, GetActivityType, GetActivityTypeRequest),
      SLUSSEN_DESK(directory, ListActivityTypes, ListActivityTypesRequest),
      SLUSSEN_DESK(directory, CreateFrameworkAgreement,
                   CreateFrameworkAgreementRequest),
      SLUSSEN_DESK(directory, GetFrameworkAgreement,
                   GetFrameworkAgreementRequest),
      SLUSSEN_DESK(directory, ListFrameworkAgreements,
                   ListFrameworkAgreementsRequest),
      // CoordinatorService.
      SLUSSEN_DESK(coordinator, ListWorklist, ListWorklistRequest),
      SLUSSEN_DESK(coordinator, GetQueueOverview, GetQueueOverviewRequest),
      SLUSSEN_DESK(coordinator, GetResponseTimeStatistics,
                   GetResponseTimeStatisticsRequest),
      SLUSSEN_DESK(coordinator, GetOutcomeReport, GetOutcomeReportRequest),
      SLUSSEN_DESK(coordinator, ExportSusRegistrations,
                   ExportSusRegistrationsRequest),
      SLUSSEN_DESK(coordinator, GetClock, GetClockRequest),
      SLUSSEN_DESK(coordinator, PauseClock, PauseClockRequest),
      SLUSSEN_DESK(coordinator, ResumeClock, ResumeClockRequest),
      SLUSSEN_DESK(coordinator, ListDeadlineRuleSets,
                   ListDeadlineRuleSetsRequest),
      SLUSSEN_DESK(coordinator, CreateDeadlineRuleSet,
                   CreateDeadlineRuleSetRequest),
      // EventService.
      Rpc<v1::WatchEventsRequest>("WatchEvents", WatchEvents),
      SLUSSEN_DESK(events, ListEvents, ListEventsRequest),
      // ConsentService and PrivacyService.
      SLUSSEN_DESK(consents, GetConsent, GetConsentRequest),
      SLUSSEN_DESK(consents, ListConsents, ListConsentsRequest),
      SLUSSEN_DESK(consents, WithdrawConsent, WithdrawConsentRequest),
      SLUSSEN_DESK(privacy, ListAuditRecords, ListAuditRecordsRequest),
      SLUSSEN_DESK(privacy, VerifyAuditChain, VerifyAuditChainRequest),
      SLUSSEN_DESK(privacy, EraseParticipant, EraseParticipantRequest),
      // Data the core reads, and plain text.
      Data<v1::PriorityPolicy>("PriorityPolicy", UsePriorityPolicy),
      Data<v1::EligibilityRules>("EligibilityRules", UseEligibilityRules),
      Text("text:names", UseNames),
      Text("text:tokens", UseTokens),
      Text("text:personnummer", UsePersonnummer),
      Text("text:free", UseFreeText),
  };
  return *kinds;
}

#undef SLUSSEN_DESK

int KindIndex(absl::string_view name) {
  const std::vector<Kind>& kinds = Kinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i].name == name) return static_cast<int>(i);
  }
  fprintf(stderr, "request fuzzer: no kind %.*s\n",
          static_cast<int>(name.size()), name.data());
  abort();
}

}  // namespace

absl::Status RunInput(const uint8_t* data, size_t size) {
  if (size < 2) return absl::OkStatus();
  const std::vector<Kind>& kinds = Kinds();
  const Kind& kind = kinds[data[0] % kinds.size()];
  const Caller& caller = Callers()[data[1] % Callers().size()];
  return kind.run(
      absl::string_view(reinterpret_cast<const char*>(data) + 2, size - 2),
      caller);
}

std::vector<std::string> KindNames() {
  std::vector<std::string> names;
  for (const Kind& kind : Kinds()) names.push_back(kind.name);
  return names;
}

std::string MakeInput(absl::string_view kind, int caller,
                      const google::protobuf::Message& message) {
  std::string input;
  input.push_back(static_cast<char>(KindIndex(kind)));
  input.push_back(static_cast<char>(caller));
  input += message.SerializeAsString();
  return input;
}

std::string MakeTextInput(absl::string_view kind, absl::string_view text) {
  std::string input;
  input.push_back(static_cast<char>(KindIndex(kind)));
  input.push_back(0);
  input.append(text.data(), text.size());
  return input;
}

}  // namespace slussen::fuzz
