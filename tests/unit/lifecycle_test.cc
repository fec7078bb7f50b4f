#include "broker/core/model/lifecycle.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/common.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using State = v1::ReferralState;

// --- The expected state machine, written by hand from the diagram in
// protos/slussen/v1/referral.proto and the comments on enum Action. -------

struct Move {
  v1::Action action;
  State from;
  State to;
};

constexpr State kReceived = v1::REFERRAL_STATE_RECEIVED;
constexpr State kQueued = v1::REFERRAL_STATE_QUEUED;
constexpr State kOffered = v1::REFERRAL_STATE_OFFERED;
constexpr State kAccepted = v1::REFERRAL_STATE_ACCEPTED;
constexpr State kStarted = v1::REFERRAL_STATE_STARTED;
constexpr State kCompleted = v1::REFERRAL_STATE_COMPLETED;
constexpr State kExited = v1::REFERRAL_STATE_EXITED;
constexpr State kRejected = v1::REFERRAL_STATE_REJECTED;
constexpr State kWithdrawn = v1::REFERRAL_STATE_WITHDRAWN;
constexpr State kReturned = v1::REFERRAL_STATE_RETURNED;

const std::vector<Move>& ExpectedMoves() {
  static const auto* const kMoves = new std::vector<Move>{
      {v1::ACTION_QUEUE, kReceived, kQueued},
      {v1::ACTION_REJECT, kReceived, kRejected},
      {v1::ACTION_REJECT, kQueued, kRejected},
      {v1::ACTION_OFFER, kQueued, kOffered},
      {v1::ACTION_ACCEPT, kOffered, kAccepted},
      {v1::ACTION_DECLINE, kOffered, kQueued},
      {v1::ACTION_EXPIRE_OFFER, kOffered, kQueued},
      // Annotations: the state stays.
      {v1::ACTION_RECORD_CONTACT, kAccepted, kAccepted},
      {v1::ACTION_START, kAccepted, kStarted},
      {v1::ACTION_RECORD_ATTENDANCE_DEVIATION, kStarted, kStarted},
      {v1::ACTION_COMPLETE, kStarted, kCompleted},
      {v1::ACTION_EXIT, kStarted, kExited},
      // Cancel: only before start.
      {v1::ACTION_CANCEL, kReceived, kWithdrawn},
      {v1::ACTION_CANCEL, kQueued, kWithdrawn},
      {v1::ACTION_CANCEL, kOffered, kWithdrawn},
      {v1::ACTION_CANCEL, kAccepted, kWithdrawn},
      {v1::ACTION_CANCEL, kReturned, kWithdrawn},
      // Back with the agency, which sends it to the queue again.
      {v1::ACTION_RESUBMIT, kReturned, kQueued},
      // Consent withdrawn: from any open state.
      {v1::ACTION_WITHDRAW_CONSENT, kReceived, kWithdrawn},
      {v1::ACTION_WITHDRAW_CONSENT, kQueued, kWithdrawn},
      {v1::ACTION_WITHDRAW_CONSENT, kOffered, kWithdrawn},
      {v1::ACTION_WITHDRAW_CONSENT, kAccepted, kWithdrawn},
      {v1::ACTION_WITHDRAW_CONSENT, kStarted, kWithdrawn},
      {v1::ACTION_WITHDRAW_CONSENT, kReturned, kWithdrawn},
      // A place lost before the start (a cancelled cohort).
      {v1::ACTION_REQUEUE, kOffered, kQueued},
      {v1::ACTION_REQUEUE, kAccepted, kQueued},
      // A merged cohort: the place moves, the state stays.
      {v1::ACTION_MOVE_PLACE, kOffered, kOffered},
      {v1::ACTION_MOVE_PLACE, kAccepted, kAccepted},
      // The follow-up some 90 days after: the state stays.
      {v1::ACTION_RECORD_FOLLOW_UP, kCompleted, kCompleted},
      {v1::ACTION_RECORD_FOLLOW_UP, kExited, kExited},
      // Protected personal data concerns the person: any state, it stays.
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kReceived, kReceived},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kQueued, kQueued},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kOffered, kOffered},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kAccepted, kAccepted},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kStarted, kStarted},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kReturned, kReturned},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kCompleted, kCompleted},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kExited, kExited},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kRejected, kRejected},
      {v1::ACTION_SET_PROTECTED_PERSONAL_DATA, kWithdrawn, kWithdrawn},
  };
  return *kMoves;
}

// Who takes each action: the broker (SYSTEM) queues, offers, rejects and
// expires; the provider answers and records; the referring agency cancels;
// the agency or the provider records a withdrawn consent.
std::set<v1::Role> ExpectedRoles(v1::Action action) {
  switch (action) {
    case v1::ACTION_CREATE:
    case v1::ACTION_CANCEL:
    case v1::ACTION_RESUBMIT:
    case v1::ACTION_SET_PROTECTED_PERSONAL_DATA:
      return {v1::ROLE_AGENCY};
    case v1::ACTION_QUEUE:
    case v1::ACTION_REJECT:
    case v1::ACTION_OFFER:
    case v1::ACTION_EXPIRE_OFFER:
    case v1::ACTION_REQUEUE:
    case v1::ACTION_MOVE_PLACE:
      return {v1::ROLE_SYSTEM};
    case v1::ACTION_ACCEPT:
    case v1::ACTION_DECLINE:
    case v1::ACTION_RECORD_CONTACT:
    case v1::ACTION_START:
    case v1::ACTION_RECORD_ATTENDANCE_DEVIATION:
    case v1::ACTION_COMPLETE:
    case v1::ACTION_EXIT:
    case v1::ACTION_RECORD_FOLLOW_UP:
      return {v1::ROLE_PROVIDER};
    case v1::ACTION_WITHDRAW_CONSENT:
      return {v1::ROLE_AGENCY, v1::ROLE_PROVIDER};
    default:
      return {};
  }
}

const State kAllStates[] = {kReceived, kQueued,   kOffered,   kAccepted,
                            kStarted,  kReturned, kCompleted, kExited,
                            kRejected, kWithdrawn};
const State kOpenStates[] = {kReceived, kQueued,  kOffered,
                             kAccepted, kStarted, kReturned};
const State kTerminalStates[] = {kCompleted, kExited, kRejected, kWithdrawn};
const v1::Role kAllRoles[] = {v1::ROLE_UNSPECIFIED, v1::ROLE_AGENCY,
                              v1::ROLE_PROVIDER,    v1::ROLE_COORDINATOR,
                              v1::ROLE_ADMIN,       v1::ROLE_SYSTEM};

std::vector<v1::Action> AllActions() {
  std::vector<v1::Action> actions;
  for (int a = v1::Action_MIN + 1; a <= v1::Action_MAX; ++a) {
    actions.push_back(static_cast<v1::Action>(a));
  }
  return actions;
}

// A referral that carries a consent (an activity referral).
v1::Referral WithConsent(State state) {
  v1::Referral referral;
  referral.set_state(state);
  referral.set_kind(v1::REFERRAL_KIND_ACTIVITY);
  referral.mutable_activity()->set_activity_type("halsosam");
  referral.mutable_participant()->set_pseudonym("hb-2026-0042");
  v1::ConsentScope* scope = referral.mutable_consent()->add_scopes();
  scope->set_party_class(v1::PARTY_CLASS_ASSIGNED_PROVIDER);
  scope->add_data_categories(v1::DATA_CATEGORY_ELIGIBILITY);
  return referral;
}

// An impulse: no participant, no consent.
v1::Referral Impulse(State state) {
  v1::Referral referral;
  referral.set_state(state);
  referral.set_kind(v1::REFERRAL_KIND_IMPULSE);
  referral.mutable_impulse()->set_kommun_code("1380");
  return referral;
}

// The next state by the hand-written table, if `action` leads anywhere
// from `state`.
std::optional<State> ExpectedNext(v1::Action action, State state) {
  for (const Move& move : ExpectedMoves()) {
    if (move.action == action && move.from == state) return move.to;
  }
  return std::nullopt;
}

std::string Describe(State state, v1::Action action, v1::Role role) {
  return absl::StrCat(v1::ReferralState_Name(state), " ",
                      v1::Action_Name(action), " by ", v1::Role_Name(role));
}

// Every (state, action, role) except ACTION_CREATE (see below), against
// the table above.
TEST(Lifecycle, NextStateFollowsTheWholeTable) {
  for (State state : kAllStates) {
    for (v1::Action action : AllActions()) {
      if (action == v1::ACTION_CREATE) continue;
      for (v1::Role role : kAllRoles) {
        SCOPED_TRACE(Describe(state, action, role));
        const absl::StatusOr<State> next =
            NextState(WithConsent(state), action, role);
        if (!ExpectedRoles(action).count(role)) {
          EXPECT_EQ(next.status().code(), absl::StatusCode::kPermissionDenied)
              << next.status();
        } else if (const std::optional<State> to =
                       ExpectedNext(action, state)) {
          ASSERT_TRUE(next.ok()) << next.status();
          EXPECT_EQ(*next, *to);
        } else {
          EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition)
              << next.status();
        }
      }
    }
  }
}

TEST(Lifecycle, AllowedActionsFollowTheWholeTable) {
  for (State state : kAllStates) {
    for (v1::Role role : kAllRoles) {
      SCOPED_TRACE(absl::StrCat(v1::ReferralState_Name(state), " for ",
                                v1::Role_Name(role)));
      std::vector<v1::Action> expected;
      for (v1::Action action : AllActions()) {
        if (ExpectedRoles(action).count(role) &&
            ExpectedNext(action, state).has_value()) {
          expected.push_back(action);
        }
      }
      EXPECT_EQ(AllowedActions(WithConsent(state), role), expected);
    }
  }
}

TEST(Lifecycle, AllowedActionsAreInEnumOrder) {
  EXPECT_THAT(AllowedActions(WithConsent(kAccepted), v1::ROLE_AGENCY),
              ElementsAre(v1::ACTION_CANCEL, v1::ACTION_WITHDRAW_CONSENT,
                          v1::ACTION_SET_PROTECTED_PERSONAL_DATA));
  EXPECT_THAT(AllowedActions(WithConsent(kAccepted), v1::ROLE_PROVIDER),
              ElementsAre(v1::ACTION_RECORD_CONTACT, v1::ACTION_START,
                          v1::ACTION_WITHDRAW_CONSENT));
  EXPECT_THAT(AllowedActions(WithConsent(kOffered), v1::ROLE_SYSTEM),
              ElementsAre(v1::ACTION_EXPIRE_OFFER, v1::ACTION_REQUEUE,
                          v1::ACTION_MOVE_PLACE));
}

TEST(Lifecycle, CancelOnlyByTheAgencyAndOnlyBeforeStart) {
  for (State state : {kReceived, kQueued, kOffered, kAccepted, kReturned}) {
    SCOPED_TRACE(v1::ReferralState_Name(state));
    const absl::StatusOr<State> next =
        NextState(WithConsent(state), v1::ACTION_CANCEL, v1::ROLE_AGENCY);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(*next, kWithdrawn);
  }
  const absl::StatusOr<State> started =
      NextState(WithConsent(kStarted), v1::ACTION_CANCEL, v1::ROLE_AGENCY);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kFailedPrecondition);
  for (v1::Role role : {v1::ROLE_PROVIDER, v1::ROLE_COORDINATOR, v1::ROLE_ADMIN,
                        v1::ROLE_SYSTEM}) {
    EXPECT_EQ(NextState(WithConsent(kQueued), v1::ACTION_CANCEL, role)
                  .status()
                  .code(),
              absl::StatusCode::kPermissionDenied)
        << v1::Role_Name(role);
  }
}

TEST(Lifecycle, TerminalStatesAllowNothingButTheFollowUpAndProtection) {
  for (State state : kTerminalStates) {
    const bool ended_taking_part = state == kCompleted || state == kExited;
    for (v1::Role role : kAllRoles) {
      if (ended_taking_part && role == v1::ROLE_PROVIDER) {
        EXPECT_THAT(AllowedActions(WithConsent(state), role),
                    ElementsAre(v1::ACTION_RECORD_FOLLOW_UP));
        continue;
      }
      if (role == v1::ROLE_AGENCY) {
        // Protection concerns the person, whose finished referral counts on.
        EXPECT_THAT(AllowedActions(WithConsent(state), role),
                    ElementsAre(v1::ACTION_SET_PROTECTED_PERSONAL_DATA));
        continue;
      }
      EXPECT_THAT(AllowedActions(WithConsent(state), role), IsEmpty())
          << v1::ReferralState_Name(state) << " " << v1::Role_Name(role);
    }
    for (v1::Action action : AllActions()) {
      if (action == v1::ACTION_CREATE ||
          action == v1::ACTION_SET_PROTECTED_PERSONAL_DATA) {
        continue;
      }
      if (ended_taking_part && action == v1::ACTION_RECORD_FOLLOW_UP) continue;
      for (v1::Role role : ExpectedRoles(action)) {
        EXPECT_EQ(NextState(WithConsent(state), action, role).status().code(),
                  absl::StatusCode::kFailedPrecondition)
            << Describe(state, action, role);
      }
    }
  }
}

TEST(Lifecycle, AnnotationsKeepTheState) {
  const absl::StatusOr<State> contact = NextState(
      WithConsent(kAccepted), v1::ACTION_RECORD_CONTACT, v1::ROLE_PROVIDER);
  ASSERT_TRUE(contact.ok()) << contact.status();
  EXPECT_EQ(*contact, kAccepted);

  const absl::StatusOr<State> deviation =
      NextState(WithConsent(kStarted), v1::ACTION_RECORD_ATTENDANCE_DEVIATION,
                v1::ROLE_PROVIDER);
  ASSERT_TRUE(deviation.ok()) << deviation.status();
  EXPECT_EQ(*deviation, kStarted);
}

TEST(Lifecycle, ImpulseRecordsItsCallBackAfterAcceptance) {
  const absl::StatusOr<State> contact = NextState(
      Impulse(kAccepted), v1::ACTION_RECORD_CONTACT, v1::ROLE_PROVIDER);
  ASSERT_TRUE(contact.ok()) << contact.status();
  EXPECT_EQ(*contact, kAccepted);
}

TEST(Lifecycle, WithdrawConsentRefusedForAnImpulse) {
  for (State state : kOpenStates) {
    for (v1::Role role : {v1::ROLE_AGENCY, v1::ROLE_PROVIDER}) {
      SCOPED_TRACE(Describe(state, v1::ACTION_WITHDRAW_CONSENT, role));
      const absl::StatusOr<State> next =
          NextState(Impulse(state), v1::ACTION_WITHDRAW_CONSENT, role);
      EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(std::string(next.status().message()), HasSubstr("consent"));
      const std::vector<v1::Action> allowed =
          AllowedActions(Impulse(state), role);
      EXPECT_EQ(std::count(allowed.begin(), allowed.end(),
                           v1::ACTION_WITHDRAW_CONSENT),
                0);
    }
  }
}

TEST(Lifecycle, ImpulseAllowsEverythingButPersonalActionsLikeAnyReferral) {
  for (State state : kAllStates) {
    for (v1::Role role : kAllRoles) {
      std::vector<v1::Action> expected =
          AllowedActions(WithConsent(state), role);
      // Neither a consent to withdraw nor a participant to protect.
      for (v1::Action personal : {v1::ACTION_WITHDRAW_CONSENT,
                                  v1::ACTION_SET_PROTECTED_PERSONAL_DATA}) {
        expected.erase(std::remove(expected.begin(), expected.end(), personal),
                       expected.end());
      }
      EXPECT_EQ(AllowedActions(Impulse(state), role), expected)
          << v1::ReferralState_Name(state) << " " << v1::Role_Name(role);
    }
  }
}

TEST(Lifecycle, WrongStateMessageNamesTheStatesAllowed) {
  const absl::StatusOr<State> cancel =
      NextState(WithConsent(kStarted), v1::ACTION_CANCEL, v1::ROLE_AGENCY);
  EXPECT_EQ(cancel.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(cancel.status().message());
  EXPECT_THAT(message, HasSubstr("CANCEL"));
  EXPECT_THAT(message, HasSubstr("STARTED"));
  EXPECT_THAT(message,
              HasSubstr("RECEIVED, QUEUED, OFFERED, ACCEPTED or RETURNED"));

  const absl::StatusOr<State> start =
      NextState(WithConsent(kQueued), v1::ACTION_START, v1::ROLE_PROVIDER);
  EXPECT_EQ(start.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(start.status().message()),
              HasSubstr("allowed only when ACCEPTED"));
}

TEST(Lifecycle, WrongRoleMessageNamesTheRolesAllowed) {
  const absl::StatusOr<State> cancel =
      NextState(WithConsent(kQueued), v1::ACTION_CANCEL, v1::ROLE_PROVIDER);
  EXPECT_EQ(cancel.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(cancel.status().message()),
              HasSubstr("role PROVIDER may not take action CANCEL"));
  EXPECT_THAT(std::string(cancel.status().message()), HasSubstr("AGENCY"));

  const absl::StatusOr<State> withdraw = NextState(
      WithConsent(kQueued), v1::ACTION_WITHDRAW_CONSENT, v1::ROLE_COORDINATOR);
  EXPECT_EQ(withdraw.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(withdraw.status().message()),
              HasSubstr("AGENCY or PROVIDER"));
}

// The role is checked before the state, so that a caller learns nothing
// about a referral it may not act on.
TEST(Lifecycle, RoleIsCheckedBeforeState) {
  EXPECT_EQ(
      NextState(WithConsent(kCompleted), v1::ACTION_CANCEL, v1::ROLE_PROVIDER)
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(NextState(Impulse(kQueued), v1::ACTION_WITHDRAW_CONSENT,
                      v1::ROLE_COORDINATOR)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(Lifecycle, CheckRoleMayTakeMatchesTheRoles) {
  for (v1::Action action : AllActions()) {
    for (v1::Role role : kAllRoles) {
      const absl::Status status = CheckRoleMayTake(action, role);
      if (ExpectedRoles(action).count(role)) {
        EXPECT_TRUE(status.ok()) << Describe(kReceived, action, role) << status;
      } else {
        EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied)
            << Describe(kReceived, action, role);
      }
    }
  }
}

TEST(Lifecycle, CoordinatorAndAdminTakeNoAction) {
  for (State state : kAllStates) {
    EXPECT_THAT(AllowedActions(WithConsent(state), v1::ROLE_COORDINATOR),
                IsEmpty());
    EXPECT_THAT(AllowedActions(WithConsent(state), v1::ROLE_ADMIN), IsEmpty());
  }
}

TEST(Lifecycle, UnspecifiedActionIsInvalid) {
  EXPECT_EQ(CheckRoleMayTake(v1::ACTION_UNSPECIFIED, v1::ROLE_AGENCY).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      NextState(WithConsent(kQueued), v1::ACTION_UNSPECIFIED, v1::ROLE_AGENCY)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

// CREATE starts the lifecycle and leads out of no existing state, so asking
// for it on a stored referral must be a plain FAILED_PRECONDITION. Run in a
// child process: the message names "the states allowed", of which there are
// none, and a crash there must fail this test only.
TEST(Lifecycle, CreateOnAnExistingReferralIsAFailedPrecondition) {
  EXPECT_EXIT(
      {
        const absl::StatusOr<State> next = NextState(
            WithConsent(kReceived), v1::ACTION_CREATE, v1::ROLE_AGENCY);
        std::exit(next.status().code() == absl::StatusCode::kFailedPrecondition
                      ? 0
                      : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Lifecycle, CreateIsNeverAnAllowedAction) {
  for (State state : kAllStates) {
    const std::vector<v1::Action> allowed =
        AllowedActions(WithConsent(state), v1::ROLE_AGENCY);
    EXPECT_EQ(std::count(allowed.begin(), allowed.end(), v1::ACTION_CREATE), 0);
  }
}

// A decline for a reason about the participant goes back to the agency;
// any other to the queue, as the table says.
TEST(Lifecycle, ADeclineAboutTheParticipantReturnsTheReferral) {
  for (const auto& [reason, to] :
       std::vector<std::pair<v1::DeclineReason, State>>{
           {v1::DECLINE_REASON_COULD_NOT_CONTACT, kReturned},
           {v1::DECLINE_REASON_PARTICIPANT_DECLINED, kReturned},
           {v1::DECLINE_REASON_NO_CAPACITY, kQueued},
           {v1::DECLINE_REASON_NOT_ELIGIBLE, kQueued},
           {v1::DECLINE_REASON_OTHER, kQueued}}) {
    v1::Transition decline;
    decline.set_action(v1::ACTION_DECLINE);
    decline.set_decline_reason(reason);
    EXPECT_EQ(StateAfter(decline, kQueued), to)
        << v1::DeclineReason_Name(reason);
  }
  v1::Transition expiry;
  expiry.set_action(v1::ACTION_EXPIRE_OFFER);
  EXPECT_EQ(StateAfter(expiry, kQueued), kQueued);
}

TEST(Lifecycle, IsTerminal) {
  for (State state : kTerminalStates) {
    EXPECT_TRUE(IsTerminal(state)) << v1::ReferralState_Name(state);
  }
  for (State state : kOpenStates) {
    EXPECT_FALSE(IsTerminal(state)) << v1::ReferralState_Name(state);
  }
}

TEST(Lifecycle, ShortNames) {
  EXPECT_EQ(StateName(kQueued), "QUEUED");
  EXPECT_EQ(StateName(kWithdrawn), "WITHDRAWN");
  EXPECT_EQ(ActionName(v1::ACTION_CANCEL), "CANCEL");
  EXPECT_EQ(ActionName(v1::ACTION_RECORD_ATTENDANCE_DEVIATION),
            "RECORD_ATTENDANCE_DEVIATION");
  EXPECT_EQ(RoleName(v1::ROLE_AGENCY), "AGENCY");
  EXPECT_EQ(StateName(static_cast<State>(99)), "UNKNOWN");
  EXPECT_EQ(RoleName(static_cast<v1::Role>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace slussen::core
