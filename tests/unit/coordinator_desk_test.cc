// The coordinator desk's request checks over the in-memory repository:
// filters and page tokens of the worklist and of the rule-set listing are
// checked before anything is read, and a token cannot carry a position
// this server would never have made. And the SUS export: who may make it,
// its period and offering, a provider's own referrals only, the audit of
// the rows that name someone.
#include "broker/core/desks/coordinator_desk.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/referral_repository.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryReferralRepository;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const Caller kCoordinator{"samordning-halland", v1::ROLE_COORDINATOR, "13", ""};
const Caller kSkaneCoordinator{"samordning-skane", v1::ROLE_COORDINATOR, "12",
                               ""};
const Caller kHalsosam{"halsosam-halmstad", v1::ROLE_PROVIDER, "", ""};
const Caller kAgency{"kommun-halmstad-eb", v1::ROLE_AGENCY, "13", ""};
const Caller kAdmin{"slussen-admin", v1::ROLE_ADMIN, "", ""};

// November 2026 in `parent`.
v1::ExportSusRegistrationsRequest November(
    const std::string& parent = "regions/13") {
  v1::ExportSusRegistrationsRequest request;
  request.set_parent(parent);
  *request.mutable_start_date() = ToProtoDate(absl::CivilDay(2026, 11, 1));
  *request.mutable_end_date() = ToProtoDate(absl::CivilDay(2026, 11, 30));
  return request;
}

// An audit trail that cannot be written to, as when Redis is unreachable.
class RefusingAudit final : public AuditRepository {
 public:
  absl::Status Append(const std::string&,
                      const std::vector<v1::AuditRecord>&) override {
    return absl::UnavailableError("the audit trail is unreachable");
  }
  absl::StatusOr<AuditPage> ListBySubject(const std::string&,
                                          const std::string&, int64_t,
                                          int) override {
    return absl::UnavailableError("the audit trail is unreachable");
  }
  absl::StatusOr<std::vector<StoredAuditRecord>> ReadChain(const std::string&,
                                                           const std::string&,
                                                           int) override {
    return absl::UnavailableError("the audit trail is unreachable");
  }
  absl::StatusOr<AuditHead> Head(const std::string&) override {
    return absl::UnavailableError("the audit trail is unreachable");
  }
};

class CoordinatorDeskTest : public ::testing::Test {
 protected:
  CoordinatorDeskTest()
      : calendar_(*SwedishCalendar::Create()),
        clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               calendar_.time_zone())),
        keeper_(&repository_, &calendar_, DefaultDeadlineRuleSets()),
        desk_(&keeper_, /*queues=*/nullptr, &clock_, &calendar_, audit_) {}

  // The token a client could make itself for `request`: the fingerprint is
  // no secret, only a guard against mixing up queries.
  static std::string ForgedWorklistToken(const v1::ListWorklistRequest& request,
                                         absl::string_view cursor) {
    v1::ListWorklistRequest canonical = request;
    canonical.clear_page_token();
    canonical.clear_page_size();
    return EncodePageToken(
        cursor, QueryFingerprint(absl::StrCat(kCoordinator.organisation, "\n",
                                              canonical.SerializeAsString())));
  }

  // A referral of region 13 held by `provider` and started in its
  // offering "halsosam" on 10 November with an in-registration; its
  // consent gives the region's coordinators outcome data. Its name.
  // A referral `provider` started on 2026-11-10; `withdrawn`: its consent
  // was withdrawn after, which unassigns it.
  std::string AddStarted(const std::string& id, const std::string& provider,
                         bool withdrawn = false) {
    ReferralRecord record;
    record.region = "13";
    record.id = id;
    record.assigned_organisation = withdrawn ? "" : provider;
    record.audit_subject = absl::StrCat("subject-", id);
    v1::Referral& r = record.referral;
    r.set_name(absl::StrCat("regions/13/referrals/", id));
    r.set_kind(v1::REFERRAL_KIND_ACTIVITY);
    r.set_state(v1::REFERRAL_STATE_STARTED);
    r.set_referring_organisation("kommun-halmstad-eb");
    r.mutable_activity()->set_activity_type("halsosam");
    r.mutable_participant()->set_pseudonym(absl::StrCat("hb-", id));
    r.mutable_participant()->mutable_attributes()->set_gender(
        v1::GENDER_FEMALE);
    r.mutable_participant()->mutable_attributes()->set_age_years(34);
    const std::string offering =
        absl::StrCat("providers/", provider, "/offerings/halsosam");
    r.set_assigned_provider(absl::StrCat("providers/", provider));
    r.set_assigned_offering(offering);
    v1::Consent* consent = r.mutable_consent();
    consent->set_state(v1::CONSENT_STATE_ACTIVE);
    consent->set_purpose(v1::CONSENT_PURPOSE_COORDINATED_REHABILITATION);
    v1::ConsentScope* scope = consent->add_scopes();
    scope->set_party_class(v1::PARTY_CLASS_REGION_COORDINATORS);
    scope->add_data_categories(v1::DATA_CATEGORY_OUTCOME);
    v1::Transition* start = r.add_history();
    start->set_action(v1::ACTION_START);
    start->set_from_state(v1::REFERRAL_STATE_ACCEPTED);
    start->set_to_state(v1::REFERRAL_STATE_STARTED);
    *start->mutable_time() = ToProtoTimestamp(absl::FromCivil(
        absl::CivilHour(2026, 11, 10, 10), calendar_.time_zone()));
    start->set_offering(offering);
    start->mutable_actor()->set_organisation(provider);
    start->mutable_actor()->set_role(v1::ROLE_PROVIDER);
    if (withdrawn) {
      r.set_state(v1::REFERRAL_STATE_WITHDRAWN);
      r.clear_assigned_provider();
      r.clear_assigned_offering();
      v1::Transition* end = r.add_history();
      end->set_action(v1::ACTION_WITHDRAW_CONSENT);
      end->set_from_state(v1::REFERRAL_STATE_STARTED);
      end->set_to_state(v1::REFERRAL_STATE_WITHDRAWN);
      *end->mutable_time() = ToProtoTimestamp(absl::FromCivil(
          absl::CivilHour(2026, 11, 12, 10), calendar_.time_zone()));
    }
    start = &*std::find_if(
        r.mutable_history()->begin(), r.mutable_history()->end(),
        [](const v1::Transition& t) { return t.action() == v1::ACTION_START; });
    start->mutable_sus()->add_income_sources(
        v1::INCOME_SOURCE_SICKNESS_BENEFIT);
    start->mutable_sus()->set_education_level(
        v1::EDUCATION_LEVEL_UPPER_SECONDARY);
    const absl::StatusOr<CreateOutcome> created =
        repository_.Create(record, v1::Event(), std::nullopt);
    EXPECT_TRUE(created.ok()) << created.status();
    return r.name();
  }

  SwedishCalendar calendar_;
  FakeClock clock_;
  InMemoryReferralRepository repository_;
  DeadlineKeeper keeper_;
  slussen::testing::InMemoryAuditRepository audit_;
  CoordinatorDesk desk_;
};

TEST_F(CoordinatorDeskTest, WorklistChecksItsFilters) {
  v1::ListWorklistRequest request;
  request.set_parent("regions/13");
  ASSERT_TRUE(desk_.ListWorklist(kCoordinator, request).ok());

  v1::ListWorklistRequest bad = request;
  bad.set_referring_organisation(std::string(5000, 'x'));
  absl::Status status = desk_.ListWorklist(kCoordinator, bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("referring_organisation must be 2..63 characters"));
  EXPECT_LT(status.message().size(), 250u);

  bad = request;
  bad.mutable_due_within()->set_seconds(3600);
  bad.mutable_due_within()->set_nanos(-1);
  status = desk_.ListWorklist(kCoordinator, bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("due_within.nanos"));
}

// Found by reading, kept as a regression: a forged offset token
// "o2147483647" once made the worklist compute 2 * (skip + page_size) in
// int, which overflows. Worklist tokens are now cursors "<due ms>_<clock
// id>"; anything else, offsets included, is refused.
TEST_F(CoordinatorDeskTest, WorklistTokenThatIsNoCursorIsRefused) {
  v1::ListWorklistRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1000);
  for (const std::string cursor : {"o2147483647", "o20001", "o-1", "x5", "o",
                                   "99999999999999999999_a", "5_", "5_a/b"}) {
    SCOPED_TRACE(cursor);
    request.set_page_token(ForgedWorklistToken(request, cursor));
    const absl::Status status =
        desk_.ListWorklist(kCoordinator, request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("page_token"));
  }
  request.set_page_token(ForgedWorklistToken(
      request, "1796104631056_01M8R0EMWF505YZ5ANPEYHG7Y7-1-0"));
  EXPECT_TRUE(desk_.ListWorklist(kCoordinator, request).ok());
}

TEST_F(CoordinatorDeskTest, RuleSetsArePagedAsAsked) {
  const size_t total = keeper_.rule_sets().size();
  ASSERT_GE(total, 3u);
  v1::ListDeadlineRuleSetsRequest request;
  request.set_page_size(2);
  std::vector<std::string> names;
  for (int page = 0; page < 10; ++page) {
    const absl::StatusOr<v1::ListDeadlineRuleSetsResponse> listed =
        desk_.ListDeadlineRuleSets(kCoordinator, request);
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_LE(listed->rule_sets_size(), 2);
    for (const v1::DeadlineRuleSet& set : listed->rule_sets()) {
      names.push_back(set.name());
    }
    if (listed->next_page_token().empty()) break;
    request.set_page_token(listed->next_page_token());
  }
  std::vector<std::string> all;
  for (const v1::DeadlineRuleSet& set : keeper_.rule_sets()) {
    all.push_back(set.name());
  }
  EXPECT_EQ(names, all);
}

TEST_F(CoordinatorDeskTest, RuleSetListingChecksItsPageToken) {
  v1::ListDeadlineRuleSetsRequest request;
  request.set_page_token("not-a-token");
  EXPECT_EQ(desk_.ListDeadlineRuleSets(kCoordinator, request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_page_token(
      EncodePageToken("o999", QueryFingerprint("deadlineRuleSets")));
  const absl::Status status =
      desk_.ListDeadlineRuleSets(kCoordinator, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("is not a position in this listing"));
  request.clear_page_token();
  request.set_page_size(1001);
  EXPECT_EQ(desk_.ListDeadlineRuleSets(kCoordinator, request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- ExportSusRegistrations ----------------------------------------------

TEST_F(CoordinatorDeskTest, SusExportIsForTheRegionsCoordinatorsAndProviders) {
  AddStarted("01sus1", "halsosam-halmstad");
  const v1::ExportSusRegistrationsRequest request = November();
  const absl::StatusOr<v1::SusExport> coordinator =
      desk_.ExportSusRegistrations(kCoordinator, request);
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  EXPECT_EQ(coordinator->rows_size(), 1);
  EXPECT_TRUE(desk_.ExportSusRegistrations(kHalsosam, request).ok());
  for (const Caller& caller : {kAgency, kAdmin, kSkaneCoordinator}) {
    SCOPED_TRACE(caller.organisation);
    EXPECT_EQ(desk_.ExportSusRegistrations(caller, request).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
}

TEST_F(CoordinatorDeskTest, SusExportTakesAYearAtMostAndAnOfferingName) {
  v1::ExportSusRegistrationsRequest request = November();
  // 366 days: 1 November 2026 to 1 November 2027.
  *request.mutable_end_date() = ToProtoDate(absl::CivilDay(2027, 11, 1));
  EXPECT_TRUE(desk_.ExportSusRegistrations(kCoordinator, request).ok());
  // 367.
  *request.mutable_end_date() = ToProtoDate(absl::CivilDay(2027, 11, 2));
  absl::Status status =
      desk_.ExportSusRegistrations(kCoordinator, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("end_date "));
  // Ending before it starts.
  *request.mutable_end_date() = ToProtoDate(absl::CivilDay(2026, 10, 31));
  status = desk_.ExportSusRegistrations(kCoordinator, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("end_date "));

  request = November();
  request.set_offering("halsosam");
  status = desk_.ExportSusRegistrations(kCoordinator, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("offering "));
  request.set_offering("providers/halsosam-halmstad/offerings/halsosam");
  EXPECT_TRUE(desk_.ExportSusRegistrations(kCoordinator, request).ok());
}

// A consent withdrawn after the start unassigns the referral; the provider
// that started it still has its in- and out-registration to make.
TEST_F(CoordinatorDeskTest,
       AProvidersSusExportKeepsWhatItStartedAfterAWithdrawal) {
  AddStarted("01sus3", "halsosam-halmstad", /*withdrawn=*/true);
  AddStarted("01sus4", "redo-halland", /*withdrawn=*/true);
  const absl::StatusOr<v1::SusExport> mine =
      desk_.ExportSusRegistrations(kHalsosam, November());
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ(mine->rows_size(), 2);
  EXPECT_EQ(mine->rows(0).moment(), v1::SUS_MOMENT_IN);
  EXPECT_EQ(mine->rows(1).moment(), v1::SUS_MOMENT_OUT);
  EXPECT_EQ(mine->rows(1).ending(), v1::SUS_ENDING_DISCONTINUED);
  for (const v1::SusRow& row : mine->rows()) {
    EXPECT_EQ(row.offering(), "providers/halsosam-halmstad/offerings/halsosam");
  }
}

TEST_F(CoordinatorDeskTest, AProvidersSusExportHoldsOnlyWhatItHolds) {
  const std::string own = AddStarted("01sus1", "halsosam-halmstad");
  const std::string other = AddStarted("01sus2", "redo-halland");
  const absl::StatusOr<v1::SusExport> mine =
      desk_.ExportSusRegistrations(kHalsosam, November());
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ(mine->rows_size(), 1);
  // (Anonymous to the provider, whom the consent does not cover for
  // outcome data: the insats tells the rows apart.)
  EXPECT_EQ(mine->rows(0).offering(),
            "providers/halsosam-halmstad/offerings/halsosam");
  EXPECT_THAT(mine->csv(), Not(HasSubstr("redo-halland")));
  EXPECT_THAT(mine->csv(), Not(HasSubstr(other)));
  EXPECT_THAT(mine->csv(), Not(HasSubstr(own)));
  ASSERT_EQ(mine->monthly_size(), 1);
  EXPECT_EQ(mine->monthly(0).started(), 1);
  // In a region where it holds nothing: an empty export, not a refusal.
  const absl::StatusOr<v1::SusExport> elsewhere =
      desk_.ExportSusRegistrations(kHalsosam, November("regions/12"));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_EQ(elsewhere->rows_size(), 0);
  // The region's coordinator has both.
  const absl::StatusOr<v1::SusExport> all =
      desk_.ExportSusRegistrations(kCoordinator, November());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->rows_size(), 2);
}

TEST_F(CoordinatorDeskTest, SusRowsThatNameSomeoneAreAuditedAsReads) {
  AddStarted("01sus1", "halsosam-halmstad");
  // The provider's row is anonymous (the consent gives it no outcome
  // data): nothing to audit.
  const absl::StatusOr<v1::SusExport> anonymous =
      desk_.ExportSusRegistrations(kHalsosam, November());
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  ASSERT_EQ(anonymous->rows_size(), 1);
  EXPECT_TRUE(anonymous->rows(0).anonymous());
  EXPECT_EQ(audit_.size(), 0);

  const absl::StatusOr<v1::SusExport> named =
      desk_.ExportSusRegistrations(kCoordinator, November());
  ASSERT_TRUE(named.ok()) << named.status();
  ASSERT_EQ(named->rows_size(), 1);
  EXPECT_FALSE(named->rows(0).anonymous());
  const absl::StatusOr<std::vector<StoredAuditRecord>> chain =
      audit_.ReadChain("13", "", 100);
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->size(), 1u);
  const absl::StatusOr<v1::AuditRecord> read = ToApiRecord("13", chain->at(0));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->operation(), v1::AUDIT_OPERATION_READ);
  EXPECT_EQ(read->resource(), "regions/13/susRegistrations");
  EXPECT_EQ(read->subject(), "subject-01sus1");
  EXPECT_EQ(read->actor().organisation(), kCoordinator.organisation);

  // When the reads cannot be recorded, no one is named: the export that
  // would name someone is refused with the audit trail's error, and the
  // anonymous export still works.
  RefusingAudit refusing;
  CoordinatorDesk unaudited(&keeper_, /*queues=*/nullptr, &clock_, &calendar_,
                            refusing);
  const auto refused =
      unaudited.ExportSusRegistrations(kCoordinator, November());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("could not be recorded in the audit trail"));
  EXPECT_TRUE(unaudited.ExportSusRegistrations(kHalsosam, November()).ok());
}

}  // namespace
}  // namespace slussen::core
