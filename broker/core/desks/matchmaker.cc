#include "broker/core/desks/matchmaker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

// How old the copy of the directory an arrival matches against may be.
constexpr absl::Duration kDirectoryCopyLife = absl::Seconds(1);

// A decision that lost a race: the referral or the place changed since the
// snapshot.
bool LostRace(const absl::Status& status) {
  return absl::IsAborted(status) || absl::IsFailedPrecondition(status) ||
         absl::IsNotFound(status);
}

}  // namespace

namespace {

// Only these kinds start clocks before a place is found (a call-back, a
// first meeting, a first contact): others wait without one.
bool WaitsWithAClock(const v1::Referral& referral) {
  const v1::ReferralKind kind = KindOf(referral);
  return kind == v1::REFERRAL_KIND_IMPULSE ||
         kind == v1::REFERRAL_KIND_JOINT_MAPPING ||
         kind == v1::REFERRAL_KIND_TEAM_HANDOVER;
}

std::optional<absl::Time> EarliestOpenDue(
    const std::vector<ClockRecord>& clocks) {
  std::optional<absl::Time> earliest;
  for (const ClockRecord& clock : clocks) {
    if (!IsOpen(clock.clock)) continue;
    const absl::Time due = ToAbslTime(clock.clock.due_time());
    if (!earliest || due < *earliest) earliest = due;
  }
  return earliest;
}

}  // namespace

absl::CivilDay Matchmaker::Today() const {
  return absl::ToCivilDay(clock_->Now(), calendar_->time_zone());
}

absl::StatusOr<std::shared_ptr<const Matchmaker::Directory>>
Matchmaker::ReadDirectory() const {
  auto read = std::make_shared<Directory>();
  read->read = absl::Now();
  ASSIGN_OR_RETURN(const std::vector<Versioned<v1::Provider>> providers,
                   directory_->ListProviders());
  for (const Versioned<v1::Provider>& p : providers) {
    read->providers[p.value.name().substr(p.value.name().rfind('/') + 1)] =
        p.value;
  }
  ASSIGN_OR_RETURN(const std::vector<v1::FrameworkAgreement> agreements,
                   directory_->ListFrameworkAgreements());
  for (const v1::FrameworkAgreement& a : agreements) {
    read->agreements.push_back(ToMatchAgreement(a));
  }
  absl::MutexLock lock(&mu_);
  directory_copy_ = read;
  return read;
}

absl::StatusOr<RegionSnapshot> Matchmaker::CapacitySnapshot(
    const std::string& region, const v1::Referral* arrival) const {
  RegionSnapshot snapshot;
  MatchInput& input = snapshot.input;
  input.now = clock_->Now();
  input.zone = calendar_->time_zone();
  input.policy = DefaultPriorityPolicy();

  ASSIGN_OR_RETURN(snapshot.offerings, directory_->ListOfferings(region));
  std::vector<std::string> providers;  // of each offering, by id
  for (const Versioned<v1::Offering>& o : snapshot.offerings) {
    providers.push_back(ParseOfferingName("", o.value.name())->provider);
  }
  std::shared_ptr<const Directory> directory;
  if (arrival != nullptr) {
    absl::MutexLock lock(&mu_);
    directory = directory_copy_;
  }
  const auto knows = [&](const Directory& d) {
    if (absl::Now() - d.read > kDirectoryCopyLife) return false;
    for (const std::string& provider : providers) {
      if (d.providers.count(provider) == 0) return false;
    }
    const std::string& agreement =
        arrival->rehab_service_order().framework_agreement();
    return agreement.empty() ||
           std::any_of(
               d.agreements.begin(), d.agreements.end(),
               [&](const MatchAgreement& a) { return a.name == agreement; });
  };
  if (directory == nullptr || !knows(*directory)) {
    ASSIGN_OR_RETURN(directory, ReadDirectory());
  }
  for (size_t i = 0; i < snapshot.offerings.size(); ++i) {
    static const v1::Provider* const kUnknown = new v1::Provider();
    const auto it = directory->providers.find(providers[i]);
    const v1::Provider& provider =
        it == directory->providers.end() ? *kUnknown : it->second;
    snapshot.provider_organisations[providers[i]] = provider.organisation();
    input.offerings.push_back(ToMatchOffering(snapshot.offerings[i].value,
                                              provider, input.now, input.zone));
  }
  input.agreements = directory->agreements;
  return snapshot;
}

absl::StatusOr<RegionSnapshot> Matchmaker::Snapshot(
    const std::string& region) const {
  ASSIGN_OR_RETURN(RegionSnapshot snapshot, CapacitySnapshot(region));
  MatchInput& input = snapshot.input;
  ASSIGN_OR_RETURN(snapshot.referrals, referrals_->ListMatchable(region));
  // The clocks of every referral that waits with one, read together.
  std::vector<std::string> with_clocks;
  for (const ReferralRecord& record : snapshot.referrals) {
    if (WaitsWithAClock(record.referral)) with_clocks.push_back(record.id);
  }
  ASSIGN_OR_RETURN(const std::vector<std::vector<ClockRecord>> clocks,
                   referrals_->ListClocksOfEach(region, with_clocks));
  size_t next = 0;
  for (const ReferralRecord& record : snapshot.referrals) {
    std::optional<absl::Time> due;
    if (WaitsWithAClock(record.referral)) due = EarliestOpenDue(clocks[next++]);
    input.referrals.push_back(ToMatchReferral(record.referral, due));
  }
  return snapshot;
}

absl::StatusOr<Matchmaker::Pass> Matchmaker::RunRegion(
    const std::string& region) {
  Pass pass;
  ASSIGN_OR_RETURN(const std::vector<std::string> due,
                   referrals_->DueHolds(region, clock_->Now()));
  for (const std::string& id : due) {
    RETURN_IF_ERROR(placements_->ExpireHold(region, id));
    ++pass.expired;
  }

  ASSIGN_OR_RETURN(RegionSnapshot snapshot, Snapshot(region));
  Matcher matcher(snapshot.input);
  RETURN_IF_ERROR(Apply(matcher.MatchAll(), snapshot, pass));
  for (const ReferralRecord& record : snapshot.referrals) {
    const v1::ReferralState state = record.referral.state();
    if (state != v1::REFERRAL_STATE_RECEIVED &&
        state != v1::REFERRAL_STATE_QUEUED) {
      continue;
    }
    QueueStat& queue = pass.queues[ActivityTypeFor(record.referral)];
    ++queue.waiting;
    queue.oldest =
        std::min(queue.oldest, ToAbslTime(record.referral.create_time()));
  }
  return pass;
}

absl::StatusOr<Matchmaker::Pass> Matchmaker::PlaceArrival(
    const std::string& region, const std::string& id) {
  Pass pass;
  ASSIGN_OR_RETURN(ReferralRecord record, referrals_->Get(region, id));
  // A resubmitted referral comes back QUEUED, at its place in the wait.
  if (record.referral.state() != v1::REFERRAL_STATE_RECEIVED &&
      record.referral.state() != v1::REFERRAL_STATE_QUEUED) {
    return pass;
  }
  ASSIGN_OR_RETURN(RegionSnapshot snapshot,
                   CapacitySnapshot(region, &record.referral));
  Matcher matcher(snapshot.input);
  // Its deadline orders it among others waiting; alone, it decides
  // nothing, so its clocks are not read.
  std::vector<MatchDecision> decisions =
      matcher.Place(ToMatchReferral(record.referral, std::nullopt));
  snapshot.referrals.push_back(std::move(record));
  RETURN_IF_ERROR(Apply(decisions, snapshot, pass));
  return pass;
}

absl::StatusOr<RegionSnapshot> Matchmaker::CapacityFor(
    const ReferralRecord& record) const {
  return CapacitySnapshot(record.region, &record.referral);
}

absl::StatusOr<Matchmaker::ArrivalOutlook> Matchmaker::Outlook(
    const ReferralRecord& record) const {
  ASSIGN_OR_RETURN(const RegionSnapshot snapshot, CapacityFor(record));
  return Outlook(record, snapshot);
}

Matchmaker::ArrivalOutlook Matchmaker::Outlook(
    const ReferralRecord& record, const RegionSnapshot& snapshot) const {
  MatchReferral arrival = ToMatchReferral(record.referral, std::nullopt);
  // Only offerings of its region and activity type can take it (the
  // matcher's candidates): the rest need not be copied for the matcher.
  MatchInput input;
  input.now = snapshot.input.now;
  input.zone = snapshot.input.zone;
  input.policy = snapshot.input.policy;
  input.agreements = snapshot.input.agreements;
  for (const MatchOffering& offering : snapshot.input.offerings) {
    if (offering.region == arrival.region &&
        offering.activity_type == arrival.activity_type) {
      input.offerings.push_back(offering);
    }
  }
  Matcher matcher(std::move(input));
  const std::vector<MatchDecision> decisions =
      matcher.Place(std::move(arrival));
  if (decisions.empty() || decisions[0].kind != MatchDecision::Kind::kQueue) {
    return ArrivalOutlook::kOther;
  }
  if (decisions.size() == 1) return ArrivalOutlook::kOnlyQueued;
  if (decisions.size() == 2 &&
      decisions[1].kind == MatchDecision::Kind::kOffer) {
    return ArrivalOutlook::kQueuedAndOffered;
  }
  return ArrivalOutlook::kOther;
}

absl::Status Matchmaker::Apply(const std::vector<MatchDecision>& decisions,
                               RegionSnapshot& snapshot, Pass& pass) {
  // The record of each referral as the decisions move it on.
  std::vector<ReferralRecord>& current = snapshot.referrals;
  std::vector<bool> lost(current.size(), false);
  for (const MatchDecision& d : decisions) {
    if (lost[d.referral]) continue;
    ReferralRecord& record = current[d.referral];
    absl::StatusOr<ReferralRecord> done;
    switch (d.kind) {
      case MatchDecision::Kind::kQueue:
        done = placements_->Queue(record);
        if (done.ok()) ++pass.queued;
        break;
      case MatchDecision::Kind::kReject:
        done = placements_->Reject(record, d.reasons);
        if (done.ok()) ++pass.rejected;
        break;
      case MatchDecision::Kind::kOffer: {
        const Versioned<v1::Offering>& offering =
            snapshot.offerings[d.offering];
        PlacementDesk::OfferPlan plan{.offering = &offering.value};
        plan.provider_organisation =
            snapshot.provider_organisations
                [ParseOfferingName("", offering.value.name())->provider];
        if (d.cohort >= 0) {
          plan.cohort =
              snapshot.input.offerings[d.offering].cohorts[d.cohort].name;
        }
        for (const std::string& reason : d.reasons) {
          plan.explanation.add_reasons(reason);
        }
        plan.explanation.set_framework_rank(d.framework_rank);
        plan.explanation.set_preferred_provider_honoured(
            d.preferred_provider_honoured);
        done = placements_->MakeOffer(record, plan);
        if (done.ok()) ++pass.offered;
        break;
      }
    }
    if (done.ok()) {
      record = *std::move(done);
    } else if (LostRace(done.status())) {
      lost[d.referral] = true;
      ++pass.lost_races;
    } else {
      return done.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace slussen::core
