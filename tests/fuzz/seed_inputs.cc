#include "tests/fuzz/seed_inputs.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/priority_policy.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/ids.h"
#include "slussen/v1/coordinator_service.pb.h"
#include "slussen/v1/event_service.pb.h"
#include "slussen/v1/offer_service.pb.h"
#include "slussen/v1/provider_service.pb.h"
#include "slussen/v1/queue_service.pb.h"
#include "slussen/v1/referral_service.pb.h"
#include "tests/fuzz/fuzz_world.h"
#include "tests/fuzz/request_fuzzer.h"
#include "tests/support/sample_referrals.h"

namespace slussen::fuzz {
namespace {

namespace v1 = ::slussen::v1;
using Code = absl::StatusCode;

// Callers (fuzz_world.h).
constexpr int kAgency = 0;
constexpr int kProvider = 1;
constexpr int kCoordinator = 2;
constexpr int kAdmin = 3;

class Seeds {
 public:
  void Add(std::string kind, absl::string_view what, int caller,
           const google::protobuf::Message& message,
           Code expected = Code::kOk) {
    seeds_.push_back({absl::StrCat(kind, "-", what),
                      MakeInput(kind, caller, message), expected});
  }
  void AddText(std::string kind, absl::string_view what, absl::string_view text,
               Code expected = Code::kOk) {
    seeds_.push_back(
        {absl::StrCat(kind, "-", what), MakeTextInput(kind, text), expected});
  }
  std::vector<Seed> Take() { return std::move(seeds_); }

 private:
  std::vector<Seed> seeds_;
};

v1::Date Day(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::EligibilityRules SampleRules() {
  v1::EligibilityRules r;
  r.set_min_age_years(18);
  r.set_max_age_years(64);
  r.add_genders(v1::GENDER_FEMALE);
  r.add_kommun_codes("1380");
  r.add_benefit_statuses(v1::BENEFIT_STATUS_SICKNESS_BENEFIT);
  r.set_min_sickness_insurance_days_left(30);
  r.set_min_hours_per_week(10);
  r.add_languages("sv");
  r.add_languages("ar");
  r.add_excluded(v1::EXCLUSION_ACTIVE_SUBSTANCE_ABUSE);
  r.add_referral_kinds(v1::REFERRAL_KIND_ACTIVITY);
  return r;
}

void AddReferralSeeds(const World& world, Seeds& seeds) {
  const char* const kinds[] = {"impulse", "rehab", "joint-mapping", "activity",
                               "team"};
  int i = 0;
  for (v1::CreateReferralRequest create : testing::SampleOfEveryKind("13")) {
    if (create.referral().has_consent()) {
      *create.mutable_referral()->mutable_consent()->mutable_end_time() =
          core::ToProtoTimestamp(WorldStart() + absl::Hours(24 * 365));
    }
    create.set_request_id(absl::StrCat("seed-", i));
    // The world's own referral is a sample activity referral: the seed's
    // participant is another person (ALREADY_EXISTS otherwise, as below).
    if (create.referral().has_activity()) {
      v1::CreateReferralRequest twin = create;
      twin.set_request_id("seed-twin");
      seeds.Add("CreateReferral", "activity-twin", kAgency, twin,
                Code::kAlreadyExists);
      create.mutable_referral()->mutable_participant()->set_pseudonym(
          "seed-participant");
    }
    // The directory of the world has no agreement or team: refused by
    // name, after every other check.
    const bool known = i == 0 || i == 2 || i == 3;
    seeds.Add("CreateReferral", kinds[i++], kAgency, create,
              known ? Code::kOk : Code::kInvalidArgument);
  }
  v1::GetReferralRequest get;
  get.set_name(world.referral);
  get.set_view(v1::REFERRAL_VIEW_FULL);
  seeds.Add("GetReferral", "full", kAgency, get);
  v1::ListReferralsRequest list;
  list.set_parent("regions/-");
  list.set_page_size(10);
  list.mutable_filter()->add_states(v1::REFERRAL_STATE_OFFERED);
  list.mutable_filter()->add_kinds(v1::REFERRAL_KIND_ACTIVITY);
  seeds.Add("ListReferrals", "filtered", kCoordinator, list);
  list.set_page_token(core::EncodePageToken(core::EncodeUlid(1, 0, 1),
                                            core::QueryFingerprint("x")));
  seeds.Add("ListReferrals", "token-of-another-query", kAgency, list,
            Code::kInvalidArgument);
  v1::CancelReferralRequest cancel;
  cancel.set_name(world.referral);
  cancel.set_reason(v1::CANCEL_REASON_OTHER);
  cancel.set_note("Fel mottagare");
  cancel.set_etag("3");
  cancel.set_request_id("cancel-1");
  seeds.Add("CancelReferral", "other", kAgency, cancel);
  v1::ResubmitReferralRequest resubmit;
  resubmit.set_name(world.referral);
  resubmit.set_note("Nytt telefonnummer");
  seeds.Add("ResubmitReferral", "not-returned", kAgency, resubmit,
            Code::kFailedPrecondition);
  v1::SetProtectedPersonalDataRequest protect;
  protect.set_name(world.referral);
  protect.set_protected_personal_data(true);
  seeds.Add("SetProtectedPersonalData", "without-note", kAgency, protect,
            Code::kInvalidArgument);
  v1::RecordContactRequest contact;
  contact.set_name(world.referral);
  contact.set_note("Ringde");
  seeds.Add("RecordContact", "before-accept", kProvider, contact,
            Code::kFailedPrecondition);
  v1::StartReferralRequest start;
  start.set_name(world.referral);
  seeds.Add("StartReferral", "before-accept", kProvider, start,
            Code::kFailedPrecondition);
  v1::RecordAttendanceDeviationRequest deviation;
  deviation.set_name(world.referral);
  deviation.set_note("Kom inte");
  seeds.Add("RecordAttendanceDeviation", "note", kProvider, deviation,
            Code::kFailedPrecondition);
  v1::CompleteReferralRequest complete;
  complete.set_name(world.referral);
  complete.add_outcome_reasons(v1::OUTCOME_REASON_WORK);
  complete.add_outcome_reasons(v1::OUTCOME_REASON_OTHER);
  complete.set_note("Deltid");
  seeds.Add("CompleteReferral", "reasons", kProvider, complete,
            Code::kFailedPrecondition);
  v1::ExitReferralRequest exit;
  exit.set_name(world.referral);
  exit.add_outcome_reasons(v1::OUTCOME_REASON_NEW_SICK_LEAVE);
  seeds.Add("ExitReferral", "reason", kProvider, exit,
            Code::kFailedPrecondition);
  v1::RecordFollowUpRequest follow_up;
  follow_up.set_name(world.referral);
  follow_up.add_outcome_reasons(v1::OUTCOME_REASON_STUDIES);
  seeds.Add("RecordFollowUp", "studies", kProvider, follow_up,
            Code::kFailedPrecondition);
}

void AddOfferAndQueueSeeds(const World& world, Seeds& seeds) {
  v1::GetOfferRequest get;
  get.set_name(world.offer);
  seeds.Add("GetOffer", "held", kProvider, get);
  v1::ListOffersRequest list;
  list.set_parent("regions/-");
  list.add_states(v1::OFFER_STATE_HELD);
  list.set_provider("providers/halsosam-halmstad");
  list.set_page_size(5);
  seeds.Add("ListOffers", "held", kProvider, list);
  v1::AcceptOfferRequest accept;
  accept.set_name(world.offer);
  accept.set_person("anna.handlaggare");
  accept.set_request_id("accept-1");
  seeds.Add("AcceptOffer", "held", kProvider, accept);
  v1::DeclineOfferRequest decline;
  decline.set_name(world.offer);
  decline.set_reason(v1::DECLINE_REASON_OTHER);
  decline.set_note("Gruppen är full");
  seeds.Add("DeclineOffer", "other", kProvider, decline);

  v1::GetQueuePositionRequest position;
  position.set_referral(world.referral);
  seeds.Add("GetQueuePosition", "offered", kAgency, position,
            Code::kFailedPrecondition);
  v1::ListQueueEntriesRequest entries;
  entries.set_queue("regions/13/queues/halsosam~13");
  entries.set_page_size(3);
  seeds.Add("ListQueueEntries", "halsosam", kCoordinator, entries);
  seeds.Add("GetPriorityPolicy", "default", kAgency,
            v1::GetPriorityPolicyRequest());
}

void AddDirectorySeeds(Seeds& seeds) {
  v1::CreateProviderRequest provider;
  provider.set_provider_id("redo-halmstad");
  provider.set_request_id("provider-1");
  v1::Provider* p = provider.mutable_provider();
  p->set_display_name("ReDO Halmstad");
  p->set_organisation("redo-halmstad");
  p->set_kind(v1::PROVIDER_KIND_AGENCY_TEAM);
  p->set_agency_kind(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
  p->add_regions("13");
  p->add_kommun_codes("1380");
  p->mutable_contact()->set_display_name("Mottagningen");
  p->mutable_contact()->set_email("redo@example.se");
  seeds.Add("CreateProvider", "team", kAdmin, provider);
  v1::GetProviderRequest get_provider;
  get_provider.set_name("providers/halsosam-halmstad");
  seeds.Add("GetProvider", "one", kAgency, get_provider);
  v1::ListProvidersRequest providers;
  providers.set_region("13");
  providers.set_kind(v1::PROVIDER_KIND_ACTIVITY);
  providers.set_page_size(1);
  seeds.Add("ListProviders", "region", kAgency, providers);
  v1::UpdateProviderRequest update_provider;
  update_provider.mutable_provider()->set_name("providers/halsosam-halmstad");
  update_provider.mutable_provider()->set_etag("1");
  update_provider.mutable_provider()->set_display_name("Hälsosam");
  update_provider.mutable_provider()->add_kommun_codes("1381");
  update_provider.mutable_update_mask()->add_paths("display_name");
  update_provider.mutable_update_mask()->add_paths("kommun_codes");
  seeds.Add("UpdateProvider", "name", kAdmin, update_provider);

  v1::CreateOfferingRequest offering;
  offering.set_parent("providers/halsosam-halmstad");
  offering.set_offering_id("grupper");
  v1::Offering* o = offering.mutable_offering();
  o->set_display_name("Hälsosam i grupp");
  o->set_activity_type("halsosam");
  o->set_region("13");
  o->set_kommun_code("1380");
  o->set_site("Vallås, Halmstad");
  *o->mutable_eligibility() = SampleRules();
  o->mutable_schedule()->set_description("tisdagar 9-12");
  o->mutable_schedule()->set_weeks(12);
  o->mutable_schedule()->add_hours_per_week_steps(4);
  o->mutable_schedule()->add_hours_per_week_steps(10);
  o->add_languages("sv");
  o->set_stale_after_days(30);
  o->set_offer_hold_hours(48);
  o->set_cohort_intake_days(14);
  seeds.Add("CreateOffering", "cohorts", kAdmin, offering);
  v1::GetOfferingRequest get_offering;
  get_offering.set_name(World::kOffering);
  seeds.Add("GetOffering", "one", kAgency, get_offering);
  v1::ListOfferingsRequest offerings;
  offerings.set_parent("providers/-");
  offerings.set_region("13");
  offerings.set_activity_type("halsosam");
  seeds.Add("ListOfferings", "all", kAgency, offerings);
  v1::UpdateOfferingRequest update_offering;
  update_offering.mutable_offering()->set_name(World::kOffering);
  update_offering.mutable_offering()->set_etag("2");
  *update_offering.mutable_offering()->mutable_eligibility() = SampleRules();
  update_offering.mutable_update_mask()->add_paths("eligibility");
  seeds.Add("UpdateOffering", "eligibility", kAdmin, update_offering);

  v1::PublishCapacityRequest places;
  places.set_offering(World::kOffering);
  places.mutable_capacity()->mutable_places()->set_total(5);
  seeds.Add("PublishCapacity", "places", kProvider, places);
  v1::PublishCapacityRequest cohorts;
  cohorts.set_offering(World::kOffering);
  for (int days : {20, 60}) {
    v1::Cohort* cohort =
        cohorts.mutable_capacity()->mutable_cohorts()->add_cohorts();
    *cohort->mutable_start_date() =
        core::ToProtoDate(absl::CivilDay(2026, 11, 23) + days);
    cohort->set_min_size(3);
    cohort->set_max_size(12);
  }
  // Places are held by the world's offer: the model cannot change.
  seeds.Add("PublishCapacity", "cohorts", kProvider, cohorts,
            Code::kFailedPrecondition);
  v1::DecideCohortRequest decide;
  decide.set_name(absl::StrCat(World::kOffering, "/cohorts/c-20261213"));
  decide.set_decision(v1::COHORT_DECISION_MERGE);
  decide.set_merge_into(absl::StrCat(World::kOffering, "/cohorts/c-20270122"));
  // The world's offering publishes places, not cohorts.
  seeds.Add("DecideCohort", "merge", kProvider, decide, Code::kNotFound);

  v1::CreateActivityTypeRequest type;
  type.set_activity_type_id("redo");
  v1::ActivityType* t = type.mutable_activity_type();
  t->set_display_name("ReDO");
  t->set_description("Återhämtning, energi och balans");
  t->set_usual_capacity_model(v1::CAPACITY_MODEL_COHORTS);
  t->set_usual_group_size(8);
  t->set_usual_weeks_min(16);
  t->set_usual_weeks_max(16);
  *t->mutable_usual_eligibility() = SampleRules();
  t->add_referral_kinds(v1::REFERRAL_KIND_ACTIVITY);
  t->set_source("seed 004");
  seeds.Add("CreateActivityType", "redo", kAdmin, type);
  v1::GetActivityTypeRequest get_type;
  get_type.set_name("activityTypes/halsosam");
  seeds.Add("GetActivityType", "one", kAgency, get_type);
  v1::ListActivityTypesRequest types;
  types.set_page_size(1);
  seeds.Add("ListActivityTypes", "paged", kAgency, types);

  v1::CreateFrameworkAgreementRequest agreement;
  agreement.set_framework_agreement_id("fk-rehab-2025");
  v1::FrameworkAgreement* a = agreement.mutable_framework_agreement();
  a->set_display_name("FK rehab 2025");
  a->set_procuring_agency(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
  a->add_services("arbetslivsinriktad-rehabilitering");
  a->add_regions("13");
  v1::RankedSupplier* supplier = a->add_suppliers();
  supplier->set_provider("providers/halsosam-halmstad");
  supplier->set_rank(1);
  supplier->add_kommun_codes("1380");
  *a->mutable_start_date() = Day(2025, 1, 1);
  *a->mutable_end_date() = Day(2030, 12, 31);
  seeds.Add("CreateFrameworkAgreement", "one", kAdmin, agreement);
  v1::GetFrameworkAgreementRequest get_agreement;
  get_agreement.set_name("frameworkAgreements/fk-rehab-2025");
  seeds.Add("GetFrameworkAgreement", "missing", kAgency, get_agreement,
            Code::kNotFound);
  seeds.Add("ListFrameworkAgreements", "none", kAgency,
            v1::ListFrameworkAgreementsRequest());
}

void AddCoordinatorAndEventSeeds(const World& world, Seeds& seeds) {
  v1::ListWorklistRequest worklist;
  worklist.set_parent("regions/13");
  worklist.set_provider("providers/halsosam-halmstad");
  worklist.set_referring_organisation("kommun-halmstad-eb");
  worklist.add_kinds(v1::REFERRAL_KIND_ACTIVITY);
  worklist.mutable_due_within()->set_seconds(14 * 24 * 3600);
  worklist.set_page_size(5);
  seeds.Add("ListWorklist", "filtered", kCoordinator, worklist);
  v1::GetQueueOverviewRequest overview;
  overview.set_parent("regions/13");
  seeds.Add("GetQueueOverview", "region", kCoordinator, overview);
  v1::GetResponseTimeStatisticsRequest times;
  times.set_parent("regions/13");
  *times.mutable_start_time() =
      core::ToProtoTimestamp(WorldStart() - absl::Hours(24 * 30));
  *times.mutable_end_time() = core::ToProtoTimestamp(WorldStart());
  seeds.Add("GetResponseTimeStatistics", "month", kCoordinator, times);
  v1::GetOutcomeReportRequest outcomes;
  outcomes.set_parent("regions/13");
  *outcomes.mutable_start_date() = Day(2026, 1, 1);
  *outcomes.mutable_end_date() = Day(2026, 12, 31);
  outcomes.set_activity_type("halsosam");
  seeds.Add("GetOutcomeReport", "year", kCoordinator, outcomes);
  v1::PreviewPriorityPolicyRequest preview;
  preview.set_parent("regions/13");
  *preview.mutable_policy() = core::DefaultPriorityPolicy();
  (*preview.mutable_policy()->mutable_agency_weights())["fk-lfc-halmstad"] = 3;
  seeds.Add("PreviewPriorityPolicy", "weight", kCoordinator, preview);
  v1::ExportSusRegistrationsRequest sus;
  sus.set_parent("regions/13");
  *sus.mutable_start_date() = Day(2026, 11, 1);
  *sus.mutable_end_date() = Day(2026, 11, 30);
  seeds.Add("ExportSusRegistrations", "month", kCoordinator, sus);
  v1::GetClockRequest clock;
  clock.set_name(world.clock_name);
  seeds.Add("GetClock", "offer-answer", kCoordinator, clock);
  v1::PauseClockRequest pause;
  pause.set_name(world.clock_name);
  pause.set_cause(v1::DELAY_CAUSE_PARTICIPANT);
  pause.set_note("Sjuk en vecka");
  seeds.Add("PauseClock", "participant", kProvider, pause);
  v1::ResumeClockRequest resume;
  resume.set_name(world.clock_name);
  seeds.Add("ResumeClock", "running", kCoordinator, resume,
            Code::kFailedPrecondition);
  v1::ListDeadlineRuleSetsRequest rule_sets;
  rule_sets.set_page_size(2);
  seeds.Add("ListDeadlineRuleSets", "paged", kAgency, rule_sets);
  v1::CreateDeadlineRuleSetRequest rule_set;
  rule_set.set_rule_set_id("impulse");
  *rule_set.mutable_rule_set() = core::DefaultDeadlineRuleSets()[0];
  rule_set.mutable_rule_set()->clear_name();
  seeds.Add("CreateDeadlineRuleSet", "impulse", kAdmin, rule_set);

  v1::WatchEventsRequest watch;
  watch.set_parent("regions/-");
  watch.add_types(v1::EVENT_TYPE_REFERRAL_CREATED);
  watch.set_resume_token("13=1-0,19=0-0");
  seeds.Add("WatchEvents", "resumed", kCoordinator, watch);
  v1::ListEventsRequest events;
  events.set_parent("regions/13");
  events.set_referral(world.referral);
  events.set_page_size(2);
  seeds.Add("ListEvents", "of-referral", kAgency, events);

  // The world's referral carries the sample participant and consent.
  std::string consent = world.referral;
  consent.replace(consent.find("/referrals/"), 11, "/consents/");
  const std::string pseudonym = testing::SampleActivityReferral("13")
                                    .referral()
                                    .participant()
                                    .pseudonym();
  v1::GetConsentRequest get_consent;
  get_consent.set_name(consent);
  seeds.Add("GetConsent", "own", kAgency, get_consent);
  v1::ListConsentsRequest list_consents;
  list_consents.set_parent("regions/13");
  list_consents.set_participant_pseudonym(pseudonym);
  seeds.Add("ListConsents", "by-pseudonym", kAgency, list_consents);
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_name(consent);
  withdraw.set_recorded_by_person("handl-7");
  seeds.Add("WithdrawConsent", "own", kAgency, withdraw);
  v1::ListAuditRecordsRequest audit;
  audit.set_parent("regions/13");
  audit.set_participant_pseudonym(pseudonym);
  seeds.Add("ListAuditRecords", "by-pseudonym", kCoordinator, audit);
  v1::VerifyAuditChainRequest verify;
  verify.set_parent("regions/13");
  seeds.Add("VerifyAuditChain", "region", kCoordinator, verify);
  v1::EraseParticipantRequest erase;
  erase.set_parent("regions/13");
  erase.set_participant_pseudonym(pseudonym);
  erase.set_reason("Begäran om radering");
  // The referral is still offered: erasure waits.
  seeds.Add("EraseParticipant", "open", kCoordinator, erase,
            Code::kFailedPrecondition);
}

void AddDataAndTextSeeds(const World& world, Seeds& seeds) {
  seeds.Add("PriorityPolicy", "default", 0, core::DefaultPriorityPolicy());
  seeds.Add("EligibilityRules", "sample", 0, SampleRules());
  int n = 0;
  for (const std::string& name :
       {world.referral, world.offer, world.clock_name,
        std::string(World::kOffering),
        absl::StrCat(World::kOffering, "/cohorts/c-20261213"),
        std::string("regions/13/queues/halsosam~1380"),
        std::string("regions/-")}) {
    seeds.AddText("text:names", absl::StrCat(n++), name);
  }
  seeds.AddText("text:tokens", "page",
                core::EncodePageToken(core::EncodeUlid(1, 0, 1),
                                      core::QueryFingerprint("x")));
  seeds.AddText("text:tokens", "resume", "13=1767225600000-0,19=0-0");
  seeds.AddText("text:personnummer", "12-digit", "19121212-1212");
  seeds.AddText("text:personnummer", "centenarian", "121212+1212");
  seeds.AddText("text:personnummer", "check-digit", "19121212-1213",
                Code::kInvalidArgument);
  seeds.AddText("text:free", "hidden-pnr", "Gäller 19121212-1212, ring",
                Code::kInvalidArgument);
  seeds.AddText("text:free", "lines", "Ekonomiskt bistånd\nHalmstad\t✓");
}

}  // namespace

std::vector<Seed> SeedInputs() {
  const World world;
  Seeds seeds;
  AddReferralSeeds(world, seeds);
  AddOfferAndQueueSeeds(world, seeds);
  AddDirectorySeeds(seeds);
  AddCoordinatorAndEventSeeds(world, seeds);
  AddDataAndTextSeeds(world, seeds);
  return seeds.Take();
}

}  // namespace slussen::fuzz
