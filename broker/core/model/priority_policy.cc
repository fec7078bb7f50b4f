#include "broker/core/model/priority_policy.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultBands[] = {30, 90, 180, 365};

std::vector<int> BandLimits(const v1::PriorityPolicy& policy) {
  if (policy.sickness_days_band_limits().empty()) {
    return {std::begin(kDefaultBands), std::end(kDefaultBands)};
  }
  return {policy.sickness_days_band_limits().begin(),
          policy.sickness_days_band_limits().end()};
}

int BandOf(const std::vector<int>& limits, const std::optional<int>& days) {
  if (!days) return static_cast<int>(limits.size());
  for (size_t i = 0; i < limits.size(); ++i) {
    if (*days <= limits[i]) return static_cast<int>(i);
  }
  return static_cast<int>(limits.size());
}

// < 0, 0, > 0 on one criterion.
int CompareOn(v1::PriorityCriterion criterion, const PriorityKey& a,
              const PriorityKey& b) {
  const auto cmp = [](const auto& x, const auto& y) {
    return x < y ? -1 : (y < x ? 1 : 0);
  };
  switch (criterion) {
    case v1::PRIORITY_CRITERION_DEADLINE:
      // A deadline comes before none.
      if (a.due_day.has_value() != b.due_day.has_value()) {
        return a.due_day.has_value() ? -1 : 1;
      }
      return a.due_day ? cmp(*a.due_day, *b.due_day) : 0;
    case v1::PRIORITY_CRITERION_SICKNESS_DAYS_LEFT:
      return cmp(a.sickness_band, b.sickness_band);
    case v1::PRIORITY_CRITERION_AGENCY_FAIR_SHARE:
      return cmp(a.fair_share_round, b.fair_share_round);
    case v1::PRIORITY_CRITERION_WAITING_TIME:
      return cmp(a.waiting_since, b.waiting_since);
    case v1::PRIORITY_CRITERION_NAME:
      return a.name.compare(b.name);
    default:
      return 0;
  }
}

}  // namespace

v1::PriorityPolicy DefaultPriorityPolicy() {
  v1::PriorityPolicy policy;
  for (v1::PriorityCriterion c :
       {v1::PRIORITY_CRITERION_DEADLINE,
        v1::PRIORITY_CRITERION_SICKNESS_DAYS_LEFT,
        v1::PRIORITY_CRITERION_AGENCY_FAIR_SHARE,
        v1::PRIORITY_CRITERION_WAITING_TIME, v1::PRIORITY_CRITERION_NAME}) {
    policy.add_criteria(c);
  }
  for (int limit : kDefaultBands) policy.add_sickness_days_band_limits(limit);
  return policy;
}

absl::Status ValidatePriorityPolicy(const v1::PriorityPolicy& policy) {
  RETURN_IF_ERROR(ValidateEnumSet<v1::PriorityCriterion>("policy.criteria",
                                                         policy.criteria()));
  if (policy.criteria().empty() ||
      policy.criteria(policy.criteria_size() - 1) !=
          v1::PRIORITY_CRITERION_NAME) {
    return InvalidField("policy.criteria",
                        "must end with PRIORITY_CRITERION_NAME, the "
                        "tie-break that makes the order total",
                        policy.criteria_size());
  }
  int previous = 0;
  for (int i = 0; i < policy.sickness_days_band_limits_size(); ++i) {
    const int limit = policy.sickness_days_band_limits(i);
    if (limit <= previous) {
      return InvalidField(
          absl::StrCat("policy.sickness_days_band_limits[", i, "]"),
          "must be positive and greater than the limit before it", limit);
    }
    previous = limit;
  }
  for (const auto& [organisation, weight] : policy.agency_weights()) {
    if (weight < 1 || weight > 100) {
      return InvalidField(
          absl::StrCat("policy.agency_weights[", organisation, "]"),
          "must be 1..100", weight);
    }
  }
  return absl::OkStatus();
}

std::vector<PriorityKey> ComputeKeys(const v1::PriorityPolicy& policy,
                                     const std::vector<PriorityFacts>& entries,
                                     absl::TimeZone zone) {
  const std::vector<int> limits = BandLimits(policy);
  std::vector<PriorityKey> keys(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const PriorityFacts& f = entries[i];
    PriorityKey& k = keys[i];
    // A deadline at the end of a day (local midnight) is that day's.
    if (f.due) {
      k.due_day = absl::ToCivilDay(*f.due - absl::Nanoseconds(1), zone);
    }
    k.sickness_band = BandOf(limits, f.sickness_days_left);
    k.waiting_since = f.waiting_since;
    k.name = f.name;
  }
  // Fair share: within a tier (equal on every criterion before
  // AGENCY_FAIR_SHARE), each organisation's referrals in the order of the
  // criteria after it get rounds 1, 1.., 2.. by weight.
  std::vector<v1::PriorityCriterion> before, after;
  bool found = false;
  for (int c : policy.criteria()) {
    if (c == v1::PRIORITY_CRITERION_AGENCY_FAIR_SHARE) {
      found = true;
    } else {
      (found ? after : before).push_back(static_cast<v1::PriorityCriterion>(c));
    }
  }
  if (!found) return keys;
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  const auto compare_list = [&](const std::vector<v1::PriorityCriterion>& list,
                                size_t a, size_t b) {
    for (v1::PriorityCriterion c : list) {
      if (const int d = CompareOn(c, keys[a], keys[b]); d != 0) return d;
    }
    return 0;
  };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (const int d = compare_list(before, a, b); d != 0) return d < 0;
    if (const int d = entries[a].referring_organisation.compare(
            entries[b].referring_organisation);
        d != 0) {
      return d < 0;
    }
    return compare_list(after, a, b) < 0;
  });
  size_t i = 0;
  while (i < order.size()) {
    // One tier and organisation: consecutive in `order`.
    size_t j = i;
    const std::string& org = entries[order[i]].referring_organisation;
    while (j < order.size() && compare_list(before, order[i], order[j]) == 0 &&
           entries[order[j]].referring_organisation == org) {
      ++j;
    }
    const auto weight_it = policy.agency_weights().find(org);
    const int weight =
        weight_it == policy.agency_weights().end() ? 1 : weight_it->second;
    for (size_t n = i; n < j; ++n) {
      keys[order[n]].fair_share_round =
          static_cast<int>((n - i) / std::max(weight, 1)) + 1;
    }
    i = j;
  }
  return keys;
}

int ComparePriority(const v1::PriorityPolicy& policy, const PriorityKey& a,
                    const PriorityKey& b) {
  for (int c : policy.criteria()) {
    if (const int d = CompareOn(static_cast<v1::PriorityCriterion>(c), a, b);
        d != 0) {
      return d;
    }
  }
  return 0;
}

std::vector<v1::PositionReason> ExplainKey(const v1::PriorityPolicy& policy,
                                           const PriorityKey& key,
                                           const PriorityFacts& facts) {
  const std::vector<int> limits = BandLimits(policy);
  std::vector<v1::PositionReason> reasons;
  for (int c : policy.criteria()) {
    v1::PositionReason reason;
    reason.set_criterion(static_cast<v1::PriorityCriterion>(c));
    switch (c) {
      case v1::PRIORITY_CRITERION_DEADLINE:
        reason.set_explanation(
            key.due_day
                ? absl::StrCat("deadline ", absl::FormatCivilTime(*key.due_day))
                : "no response deadline (after those with one)");
        break;
      case v1::PRIORITY_CRITERION_SICKNESS_DAYS_LEFT: {
        const int band = key.sickness_band;
        const std::string range =
            band >= static_cast<int>(limits.size())
                ? (limits.empty()
                       ? "any"
                       : absl::StrCat("over ", limits.back(), " or unknown"))
                : absl::StrCat(band == 0 ? 0 : limits[band - 1] + 1, "..",
                               limits[band]);
        reason.set_explanation(
            facts.sickness_days_left
                ? absl::StrCat(*facts.sickness_days_left,
                               " days left in the sickness insurance (band ",
                               range, ")")
                : absl::StrCat(
                      "days left in the sickness insurance not given (band ",
                      range, ")"));
        break;
      }
      case v1::PRIORITY_CRITERION_AGENCY_FAIR_SHARE:
        reason.set_explanation(absl::StrCat(
            "round ", key.fair_share_round, " of ",
            facts.referring_organisation, "'s referrals in this tier"));
        break;
      case v1::PRIORITY_CRITERION_WAITING_TIME:
        reason.set_explanation(
            absl::StrCat("waiting since ",
                         absl::FormatTime("%Y-%m-%d %H:%M", key.waiting_since,
                                          absl::UTCTimeZone()),
                         " UTC"));
        break;
      case v1::PRIORITY_CRITERION_NAME:
        reason.set_explanation(
            absl::StrCat("tie-break: ", key.name, " (by name)"));
        break;
      default:
        continue;
    }
    reasons.push_back(std::move(reason));
  }
  return reasons;
}

}  // namespace slussen::core
