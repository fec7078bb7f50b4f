#include "broker/core/model/lifecycle.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using State = v1::ReferralState;

// An action "stays" when it annotates the referral without changing state.
constexpr State kStay = v1::REFERRAL_STATE_UNSPECIFIED;

struct Rule {
  v1::Action action;
  std::initializer_list<State> from;
  State to;
  std::initializer_list<v1::Role> roles;
  // Only for referrals that carry a consent (not impulses).
  bool needs_consent = false;
};

constexpr auto kOpenStates = {
    v1::REFERRAL_STATE_RECEIVED, v1::REFERRAL_STATE_QUEUED,
    v1::REFERRAL_STATE_OFFERED,  v1::REFERRAL_STATE_ACCEPTED,
    v1::REFERRAL_STATE_STARTED,  v1::REFERRAL_STATE_RETURNED};

constexpr auto kEveryState = {
    v1::REFERRAL_STATE_RECEIVED,  v1::REFERRAL_STATE_QUEUED,
    v1::REFERRAL_STATE_OFFERED,   v1::REFERRAL_STATE_ACCEPTED,
    v1::REFERRAL_STATE_STARTED,   v1::REFERRAL_STATE_RETURNED,
    v1::REFERRAL_STATE_COMPLETED, v1::REFERRAL_STATE_EXITED,
    v1::REFERRAL_STATE_REJECTED,  v1::REFERRAL_STATE_WITHDRAWN};

// The state machine. ROLE_SYSTEM is the broker itself (matching, clocks).
const Rule kRules[] = {
    // Creation starts the lifecycle: allowed from no state.
    {v1::ACTION_CREATE, {}, v1::REFERRAL_STATE_RECEIVED, {v1::ROLE_AGENCY}},
    {v1::ACTION_QUEUE,
     {v1::REFERRAL_STATE_RECEIVED},
     v1::REFERRAL_STATE_QUEUED,
     {v1::ROLE_SYSTEM}},
    {v1::ACTION_REJECT,
     {v1::REFERRAL_STATE_RECEIVED, v1::REFERRAL_STATE_QUEUED},
     v1::REFERRAL_STATE_REJECTED,
     {v1::ROLE_SYSTEM}},
    {v1::ACTION_OFFER,
     {v1::REFERRAL_STATE_QUEUED},
     v1::REFERRAL_STATE_OFFERED,
     {v1::ROLE_SYSTEM}},
    {v1::ACTION_ACCEPT,
     {v1::REFERRAL_STATE_OFFERED},
     v1::REFERRAL_STATE_ACCEPTED,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_DECLINE,
     {v1::REFERRAL_STATE_OFFERED},
     v1::REFERRAL_STATE_QUEUED,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_EXPIRE_OFFER,
     {v1::REFERRAL_STATE_OFFERED},
     v1::REFERRAL_STATE_QUEUED,
     {v1::ROLE_SYSTEM}},
    {v1::ACTION_RECORD_CONTACT,
     {v1::REFERRAL_STATE_ACCEPTED},
     kStay,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_START,
     {v1::REFERRAL_STATE_ACCEPTED},
     v1::REFERRAL_STATE_STARTED,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_RECORD_ATTENDANCE_DEVIATION,
     {v1::REFERRAL_STATE_STARTED},
     kStay,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_COMPLETE,
     {v1::REFERRAL_STATE_STARTED},
     v1::REFERRAL_STATE_COMPLETED,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_EXIT,
     {v1::REFERRAL_STATE_STARTED},
     v1::REFERRAL_STATE_EXITED,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_RECORD_FOLLOW_UP,
     {v1::REFERRAL_STATE_COMPLETED, v1::REFERRAL_STATE_EXITED},
     kStay,
     {v1::ROLE_PROVIDER}},
    {v1::ACTION_CANCEL,
     {v1::REFERRAL_STATE_RECEIVED, v1::REFERRAL_STATE_QUEUED,
      v1::REFERRAL_STATE_OFFERED, v1::REFERRAL_STATE_ACCEPTED,
      v1::REFERRAL_STATE_RETURNED},
     v1::REFERRAL_STATE_WITHDRAWN,
     {v1::ROLE_AGENCY}},
    {v1::ACTION_RESUBMIT,
     {v1::REFERRAL_STATE_RETURNED},
     v1::REFERRAL_STATE_QUEUED,
     {v1::ROLE_AGENCY}},
    {v1::ACTION_WITHDRAW_CONSENT,
     kOpenStates,
     v1::REFERRAL_STATE_WITHDRAWN,
     {v1::ROLE_AGENCY, v1::ROLE_PROVIDER},
     /*needs_consent=*/true},
    {v1::ACTION_REQUEUE,
     {v1::REFERRAL_STATE_OFFERED, v1::REFERRAL_STATE_ACCEPTED},
     v1::REFERRAL_STATE_QUEUED,
     {v1::ROLE_SYSTEM}},
    {v1::ACTION_MOVE_PLACE,
     {v1::REFERRAL_STATE_OFFERED, v1::REFERRAL_STATE_ACCEPTED},
     kStay,
     {v1::ROLE_SYSTEM}},
    // Protection concerns the person, not the step: a finished referral's
    // statistics and history are protected too.
    {v1::ACTION_SET_PROTECTED_PERSONAL_DATA,
     kEveryState,
     kStay,
     {v1::ROLE_AGENCY},
     /*needs_consent=*/true},
};

const Rule* FindRule(v1::Action action) {
  for (const Rule& rule : kRules) {
    if (rule.action == action) return &rule;
  }
  return nullptr;
}

template <typename T>
bool Contains(std::initializer_list<T> list, T value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// "RECEIVED, QUEUED or OFFERED".
std::string StateList(std::initializer_list<State> states) {
  if (states.size() == 0) return "the referral is made";
  std::vector<absl::string_view> names;
  for (State s : states) names.push_back(StateName(s));
  if (names.size() == 1) return std::string(names[0]);
  return absl::StrCat(absl::StrJoin(names.begin(), names.end() - 1, ", "),
                      " or ", names.back());
}

}  // namespace

bool IsTerminal(State state) { return !Contains<State>(kOpenStates, state); }

std::vector<v1::Action> AllowedActions(const v1::Referral& referral,
                                       v1::Role role) {
  std::vector<v1::Action> actions;
  for (const Rule& rule : kRules) {
    if (Contains(rule.from, referral.state()) && Contains(rule.roles, role) &&
        (!rule.needs_consent || referral.has_consent())) {
      actions.push_back(rule.action);
    }
  }
  std::sort(actions.begin(), actions.end());
  return actions;
}

absl::Status CheckRoleMayTake(v1::Action action, v1::Role role) {
  const Rule* rule = FindRule(action);
  if (rule == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "action ", ActionName(action), " cannot be taken on a referral"));
  }
  if (!Contains(rule->roles, role)) {
    std::vector<absl::string_view> roles;
    for (v1::Role r : rule->roles) roles.push_back(RoleName(r));
    return absl::PermissionDeniedError(absl::StrCat(
        "role ", RoleName(role), " may not take action ", ActionName(action),
        "; it is taken by ", absl::StrJoin(roles, " or ")));
  }
  return absl::OkStatus();
}

absl::StatusOr<State> NextState(const v1::Referral& referral, v1::Action action,
                                v1::Role role) {
  if (absl::Status status = CheckRoleMayTake(action, role); !status.ok()) {
    return status;
  }
  const Rule& rule = *FindRule(action);
  if (rule.needs_consent && !referral.has_consent()) {
    return absl::FailedPreconditionError(
        absl::StrCat("action ", ActionName(action),
                     " needs a referral that carries a consent; an impulse "
                     "carries none"));
  }
  const State state = referral.state();
  if (!Contains(rule.from, state)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "action ", ActionName(action), " is not allowed when the referral is ",
        StateName(state), "; it is allowed only when ", StateList(rule.from)));
  }
  return rule.to == kStay ? state : rule.to;
}

State StateAfter(const v1::Transition& transition, State next) {
  if (transition.action() == v1::ACTION_DECLINE &&
      (transition.decline_reason() == v1::DECLINE_REASON_COULD_NOT_CONTACT ||
       transition.decline_reason() ==
           v1::DECLINE_REASON_PARTICIPANT_DECLINED)) {
    return v1::REFERRAL_STATE_RETURNED;
  }
  return next;
}

absl::string_view StateName(State state) {
  const std::string& full = v1::ReferralState_Name(state);
  constexpr absl::string_view kPrefix = "REFERRAL_STATE_";
  return full.empty() ? "UNKNOWN"
                      : absl::string_view(full).substr(kPrefix.size());
}

absl::string_view ActionName(v1::Action action) {
  const std::string& full = v1::Action_Name(action);
  constexpr absl::string_view kPrefix = "ACTION_";
  return full.empty() ? "UNKNOWN"
                      : absl::string_view(full).substr(kPrefix.size());
}

absl::string_view RoleName(v1::Role role) {
  const std::string& full = v1::Role_Name(role);
  constexpr absl::string_view kPrefix = "ROLE_";
  return full.empty() ? "UNKNOWN"
                      : absl::string_view(full).substr(kPrefix.size());
}

}  // namespace slussen::core
