// The machinery of the access matrix (tests/e2e/access_matrix_e2e_test.cc):
// a broker over mutual TLS with the things calls act on (targets, made when
// first needed and made anew after a call that changed them), callers of
// every role as the owning tenant and as a foreign one, and a runner that
// calls every Case as each of them and compares the outcome.
//
//   cases.push_back({"GetReferral", Target::kOfferedReferral, false,
//                    NameCall(&v1::ReferralService::NewStub,
//                             &v1::ReferralService::Stub::GetReferral,
//                             &Names::referral),
//                    /*agency=*/{OK, NOT_FOUND}, /*provider=*/{OK, NOT_FOUND},
//                    /*coordinator=*/{OK, NOT_FOUND},
//                    /*admin=*/{DENIED, DENIED}});
//   EXPECT_THAT(world.Run(cases), IsEmpty());
//
//   own tenant      agency kommun-halmstad-eb (made the referrals), provider
//                   halsosam-halmstad (holds them), coordinator of region 13
//                   (where they are), admin slussen-admin
//   foreign tenant  agency kommun-laholm-eb, provider redo-halland,
//                   coordinator of region 19, admin slussen-drift
//
// Not thread-safe: one test drives a World.
#ifndef SLUSSEN_TESTS_SUPPORT_ACCESS_MATRIX_H_
#define SLUSSEN_TESTS_SUPPORT_ACCESS_MATRIX_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "slussen/v1/common.pb.h"
#include "tests/support/broker_harness.h"

namespace slussen::testing::matrix {

// --- Outcomes --------------------------------------------------------------

// What a call came to: a status code, or for a list that answered OK,
// whether the target was in it.
enum class Outcome {
  kOk,
  kListed,
  kOmitted,
  kInvalidArgument,
  kNotFound,
  kPermissionDenied,
  kFailedPrecondition,
  kUnauthenticated,
  kOther,
};

inline constexpr Outcome OK = Outcome::kOk;
inline constexpr Outcome LISTED = Outcome::kListed;
inline constexpr Outcome OMITTED = Outcome::kOmitted;
inline constexpr Outcome NOT_FOUND = Outcome::kNotFound;
inline constexpr Outcome DENIED = Outcome::kPermissionDenied;
inline constexpr Outcome PRECONDITION = Outcome::kFailedPrecondition;

std::string OutcomeName(Outcome outcome);

struct Result {
  grpc::Status status;
  // For lists: whether the target was in the answer.
  std::optional<bool> listed;
};

Outcome Classify(const Result& result);

// The outcomes for one role: as the own tenant, as a foreign one.
struct Expect {
  Outcome own;
  Outcome foreign;
};

// What most rows of a role say.
inline constexpr Expect kAnyone{OK, OK};
inline constexpr Expect kAnyoneListed{LISTED, LISTED};
inline constexpr Expect kDeniedBoth{DENIED, DENIED};

// --- Callers -----------------------------------------------------------------

enum class Role { kAgency, kProvider, kCoordinator, kAdmin };
enum class Tenant { kOwn, kForeign };

const Identity& CallerOf(Role role, Tenant tenant);

// How a row's caller reaches the broker: with its own certificate, or
// through the gateway kGateway, whose certificate names only the gateway
// and whose calls name the caller in identity headers.
enum class Path { kDirect, kGateway };
inline constexpr char kGateway[] = "web-1";

// The outcome `direct` expects of `role` calling directly, for the same
// call through the gateway: the same for every role a gateway may act for;
// PERMISSION_DENIED for an admin, whom no gateway may act for (README,
// Security).
Expect ThroughGateway(Role role, Expect direct);

// --- Targets
// -------------------------------------------------------------------

inline constexpr char kPlacesOffering[] =
    "providers/halsosam-halmstad/offerings/halsosam-platser";
inline constexpr char kCohortOffering[] =
    "providers/halsosam-halmstad/offerings/redo-grupp";

enum class Target {
  kNothing,
  // An activity referral of the own agency, offered to the own provider:
  // the referral, its held offer and the offer's clock (awaiting it).
  kOfferedReferral,
  // The same, accepted by the provider; then started; then exited.
  kAcceptedReferral,
  kStartedReferral,
  kExitedReferral,
  // An offered referral whose offer clock the region's coordinator paused.
  kPausedClock,
  // An offered referral the provider declined because it could not
  // contact the participant: back with the agency (RETURNED).
  kReturnedReferral,
  // An activity referral of the own agency waiting in a queue, and the
  // queue.
  kQueuedReferral,
  // An open cohort of the own provider's cohort offering, starting in
  // 200 days.
  kOpenCohort,
  // An activity referral of the own agency whose participant has protected
  // personal data (with a referrer, without a kommun), offered to the own
  // provider: the referral, its held offer and the offer's clock. Only the
  // agency and the provider may learn of it; the region's coordinator is
  // an outsider to it.
  kProtectedReferral,
};

// The names of a target; each call uses the ones it needs.
struct Names {
  std::string referral;
  // The participant's pseudonym in the referral (one per target).
  std::string pseudonym;
  std::string offer;
  std::string clock;
  std::string queue;
  std::string cohort;
};

// --- Cases
// -----------------------------------------------------------------------

struct CallContext {
  std::shared_ptr<grpc::Channel> channel;
  const Names& target;
  // Unique per call: for ids and request ids.
  int serial;
};

using Call = std::function<Result(const CallContext&)>;

struct Case {
  std::string rpc;
  Target target;
  // Whether a successful call changes the target (which is then made anew
  // for the next row).
  bool changes_target;
  Call call;
  Expect agency, provider, coordinator, admin;
};

// One unary call of `method` on `stub`, with a deadline.
template <typename Stub, typename Request, typename Response>
Result Unary(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                          Response*),
             std::unique_ptr<Stub> stub, const Request& request,
             Response* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  Response ignored;
  return Result{((*stub).*method)(&context, request,
                                  response != nullptr ? response : &ignored)};
}

template <typename Stub>
using NewStubFunction = std::unique_ptr<Stub> (*)(
    const std::shared_ptr<grpc::ChannelInterface>&, const grpc::StubOptions&);

// A call whose request names the target in its `name` field (the target's
// `field`), after `more` fills in the rest.
template <typename Stub, typename Request, typename Response>
Call NameCall(NewStubFunction<Stub> new_stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                           Response*),
              std::string Names::*field,
              std::type_identity_t<std::function<void(Request&)>> more = {}) {
  return [=](const CallContext& ctx) {
    Request request;
    request.set_name(ctx.target.*field);
    if (more) more(request);
    return Unary(method, new_stub(ctx.channel, grpc::StubOptions()), request);
  };
}

// A list call's answer, and whether `wanted` is in `items`.
template <typename Items, typename NameOf>
Result Listed(grpc::Status status, const Items& items, NameOf name_of,
              const std::string& wanted) {
  Result result{std::move(status)};
  if (!result.status.ok()) return result;
  result.listed = false;
  for (const auto& item : items) {
    if (name_of(item) == wanted) result.listed = true;
  }
  return result;
}

// "2026-12-23" `days` from today (UTC).
slussen::v1::Date DateIn(int days);

// --- The world
// -----------------------------------------------------------------------

// A broker over mutual TLS with a directory (the own provider's places
// offering for halsosam and cohort offering for redo; a foreign provider)
// and the targets.
class World {
 public:
  absl::Status Start();

  // Calls every case as every role, own tenant then foreign, in order,
  // along `path` (expecting ThroughGateway of a row's outcome through the
  // gateway); returns one line for each row whose outcome differs from the
  // expected.
  std::vector<std::string> Run(const std::vector<Case>& cases,
                               Path path = Path::kDirect);

  BrokerHarness& harness() { return *harness_; }

 private:
  const Names& Get(Target target);
  void Forget(Target target) { made_.erase(target); }
  int NextSerial() { return ++serial_; }

  // Calls as `who`, failing the test on an error: for making targets.
  template <typename Stub, typename Request, typename Response>
  void As(const Identity& who, NewStubFunction<Stub> new_stub,
          grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                       Response*),
          const Request& request, Response* response) {
    const Result result =
        Unary(method, new_stub(harness_->ChannelFor(who), grpc::StubOptions()),
              request, response);
    EXPECT_TRUE(result.status.ok())
        << who.organisation << ": " << result.status.error_message();
  }

  absl::Status MakeDirectory();
  Names Make(Target target);
  // protected_personal_data: a kProtectedReferral, whose clock is found
  // in the own agency's worklist, the coordinator's not showing it.
  Names MakeOffered(bool protected_personal_data = false);
  Names MakeQueued();
  Names MakeCohort();

  std::unique_ptr<BrokerHarness> harness_;
  std::map<Target, Names> made_;
  int serial_ = 0;
};

}  // namespace slussen::testing::matrix

#endif  // SLUSSEN_TESTS_SUPPORT_ACCESS_MATRIX_H_
