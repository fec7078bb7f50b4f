#include "tests/fuzz/fuzz_world.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/proto_time.h"
#include "tests/support/sample_referrals.h"

namespace slussen::fuzz {
namespace {

namespace v1 = ::slussen::v1;

const core::SwedishCalendar& Calendar() {
  static const core::SwedishCalendar* const calendar = [] {
    absl::StatusOr<core::SwedishCalendar> made =
        core::SwedishCalendar::Create();
    if (!made.ok()) {
      fprintf(stderr, "fuzz world: %s\n", made.status().ToString().c_str());
      abort();
    }
    return new core::SwedishCalendar(*std::move(made));
  }();
  return *calendar;
}

// The world cannot be made: a bug of the world, not of the input.
template <typename T>
T Must(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    fprintf(stderr, "fuzz world: %s: %s\n", what,
            value.status().ToString().c_str());
    abort();
  }
  return *std::move(value);
}

void Must(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    fprintf(stderr, "fuzz world: %s: %s\n", what, status.ToString().c_str());
    abort();
  }
}

const core::Caller& Admin() { return Callers()[3]; }
const core::Caller& Agency() { return Callers()[0]; }
const core::Caller& Provider() { return Callers()[1]; }

}  // namespace

std::string CountingIds::NewId() {
  return core::EncodeUlid(absl::ToUnixMillis(clock_->Now()), 0, next_++);
}

absl::StatusOr<int> InMemoryRuleRepository::Append(
    const std::string& id, const v1::DeadlineRuleSet& set) {
  int index = 1;
  for (const core::StoredRuleSet& s : stored_) index += s.id == id ? 1 : 0;
  stored_.push_back({.id = id, .index = index, .set = set});
  return index;
}

absl::StatusOr<std::vector<core::StoredRuleSet>>
InMemoryRuleRepository::ListAll() {
  return stored_;
}

absl::StatusOr<std::vector<core::LoggedEvent>> RepositoryEventLog::ReadAfter(
    const std::string& region, const std::string& position, int limit) {
  std::vector<core::LoggedEvent> out;
  if (region != "13") return out;
  const std::vector<v1::Event> events = events_->events();
  uint64_t after = 0;
  if (!position.empty()) {
    const std::vector<absl::string_view> parts = absl::StrSplit(position, '-');
    // A position past what a uint64 holds lies after every event.
    if (!absl::SimpleAtoi(parts[0], &after)) return out;
  }
  for (uint64_t i = after; i < events.size() && out.size() < size_t(limit);
       ++i) {
    const std::string at = absl::StrCat(i + 1, "-0");
    v1::Event event = events[i];
    event.set_name(absl::StrCat("regions/13/events/", at));
    out.push_back({.region = region, .position = at, .event = event});
  }
  return out;
}

absl::StatusOr<std::string> RepositoryEventLog::LastPosition(
    const std::string& region) {
  return region == "13" ? absl::StrCat(events_->events().size(), "-0")
                        : std::string("0-0");
}

const std::vector<core::Caller>& Callers() {
  static const auto* const callers = new std::vector<core::Caller>{
      {"kommun-halmstad-eb", v1::ROLE_AGENCY, "13", ""},
      {"halsosam-halmstad", v1::ROLE_PROVIDER, "13", "anna.handlaggare"},
      {"samordning-halland", v1::ROLE_COORDINATOR, "13", ""},
      {"slussen-admin", v1::ROLE_ADMIN, "", ""},
  };
  return *callers;
}

absl::TimeZone Stockholm() { return Calendar().time_zone(); }

absl::Time WorldStart() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                         Calendar().time_zone());
}

World::World()
    : calendar(Calendar()),
      clock(WorldStart()),
      ids(&clock),
      pseudonymizer(Must(core::Pseudonymizer::FromKey(std::string(40, 'k')),
                         "pseudonymizer")),
      directory_store(&referral_store),
      keeper(&referral_store, &calendar, core::DefaultDeadlineRuleSets(),
             &rule_store),
      referrals(&keeper, &clock, &ids, &pseudonymizer, &calendar, audit_store,
                &directory_store),
      directory(&directory_store, &clock, &calendar),
      placements(&keeper, &directory, audit_store, &clock, &ids, &calendar),
      matchmaker(&keeper, &directory_store, &placements, &clock, &calendar),
      queues(&matchmaker, &keeper, &clock),
      coordinator(&keeper, &queues, &clock, &calendar, audit_store),
      event_log(&referral_store),
      events(&event_log),
      consents(&keeper, audit_store, &clock),
      privacy(&keeper, audit_store, &clock, &pseudonymizer, &calendar) {
  for (const char* id : {"halsosam", "funktionsbrevlada"}) {
    v1::CreateActivityTypeRequest type;
    type.set_activity_type_id(id);
    type.mutable_activity_type()->set_display_name(id);
    Must(directory.CreateActivityType(Admin(), type), "activity type");
  }
  v1::CreateProviderRequest provider;
  provider.set_provider_id("halsosam-halmstad");
  provider.mutable_provider()->set_display_name("Hälsosam Halmstad");
  provider.mutable_provider()->set_organisation("halsosam-halmstad");
  provider.mutable_provider()->set_kind(v1::PROVIDER_KIND_ACTIVITY);
  provider.mutable_provider()->add_regions("13");
  Must(directory.CreateProvider(Admin(), provider), "provider");
  v1::CreateOfferingRequest offering;
  offering.set_parent("providers/halsosam-halmstad");
  offering.set_offering_id("kom-igang");
  v1::Offering* o = offering.mutable_offering();
  o->set_display_name("Hälsosam kom igång");
  o->set_activity_type("halsosam");
  o->set_region("13");
  o->set_kommun_code("1380");
  o->mutable_schedule()->set_weeks(10);
  Must(directory.CreateOffering(Admin(), offering), "offering");
  v1::PublishCapacityRequest capacity;
  capacity.set_offering(kOffering);
  capacity.mutable_capacity()->mutable_places()->set_total(2);
  Must(directory.PublishCapacity(Provider(), capacity), "capacity");

  v1::CreateReferralRequest create = testing::SampleActivityReferral("13");
  // Consent dated by this world's clock, not the real one.
  *create.mutable_referral()->mutable_consent()->mutable_end_time() =
      core::ToProtoTimestamp(WorldStart() + absl::Hours(24 * 365));
  referral =
      Must(referrals.CreateReferral(Agency(), create), "referral").name();
  Must(matchmaker.RunRegion("13").status(), "matching");
  v1::GetReferralRequest get;
  get.set_name(referral);
  offer = Must(referrals.GetReferral(Agency(), get), "offer").current_offer();
  const absl::StatusOr<core::ReferralName> name =
      core::ParseReferralName("referral", referral);
  for (const core::ClockRecord& record :
       Must(keeper.ListClocks("13", name->id), "clocks")) {
    if (record.clock.kind() == v1::CLOCK_KIND_OFFER_ANSWER) {
      clock_name = record.clock.name();
    }
  }
  if (offer.empty() || clock_name.empty()) {
    fprintf(stderr, "fuzz world: the referral was not offered\n");
    abort();
  }
}

std::string World::StateDigest() {
  std::string digest = absl::StrCat(referral_store.events().size(), "/",
                                    directory_store.events().size(), "/",
                                    rule_store.size(), "/", audit_store.size());
  if (auto types = directory_store.ListActivityTypes(); types.ok()) {
    absl::StrAppend(&digest, "/t", types->size());
  }
  if (auto providers = directory_store.ListProviders(); providers.ok()) {
    for (const auto& p : *providers) absl::StrAppend(&digest, "/p", p.version);
  }
  if (auto agreements = directory_store.ListFrameworkAgreements();
      agreements.ok()) {
    absl::StrAppend(&digest, "/a", agreements->size());
  }
  for (absl::string_view region : core::RegionCodes()) {
    if (auto offerings = directory_store.ListOfferings(std::string(region));
        offerings.ok()) {
      for (const auto& o : *offerings) {
        absl::StrAppend(&digest, "/o", o.version);
      }
    }
  }
  return digest;
}

}  // namespace slussen::fuzz
