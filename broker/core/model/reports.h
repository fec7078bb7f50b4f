// The coordinator's reports, computed from records: response times per
// party and clock kind, and the samordningsförbund's outcome report (as in
// SUS: participants by gender and age band, starts, exits, exit reasons).
//
// Pure: the desk reads the records, these functions count. The reports
// are aggregates that name no referral or person; the SUS export is the
// one exception, naming a participant (by the agency's pseudonym) only as
// far as the consent lets the reader register them in SUS.
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_REPORTS_H_
#define SLUSSEN_BROKER_CORE_MODEL_REPORTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/records.h"
#include "slussen/v1/coordinator_service.pb.h"
#include "slussen/v1/deadline.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// SUS's age bands: "16-24", "25-29", "30-39", "40-49", "50-59", "60-64",
// "65-"; "under 16" below; "unknown" when not given.
std::string AgeBand(std::optional<int> age_years);

// Response times of the clocks started in [start, end), per awaited party
// and clock kind: how long each took until it was met (or until `now` for
// one still open and breached), less time paused for the participant.
// Clocks still open and not yet due are left out (their time is not
// known). Breach rate: met late or breached, over all counted. Rows ordered
// by party, then kind. Median and 90th percentile by nearest rank.
std::vector<slussen::v1::ResponseTimeRow> ResponseTimes(
    const std::vector<slussen::v1::Clock>& clocks, absl::Time start,
    absl::Time end, absl::Time now);

// The outcome report over the local days [from, to] of the referrals
// given (of one region), optionally of one activity type: per gender and
// age band, the participants taking part at any time in the period
// (started by its end, not exited before its start), the starts and the
// exits (exit or completion) in it; exit reasons of the exits; income
// before and after of the exits whose start and end registered it
// (SusRegistration), and how many moved from sickness benefit or
// compensation or financial assistance to work or studies; and the
// same as CSV; and of the exits in the period, those followed up (the
// ACTION_RECORD_FOLLOW_UP some 90 days on) and of them those in work
// (or own business), studies or an AF programme.
// Participants are people: referrals with one audit subject count once per
// row. A start closed as a registration error is left out. Impulses carry no
// person: they are counted apart (received, started, ended in the period),
// never as participants. Joint referrals (Referral.joint) made or started
// in the period are counted per agency in its part (led, co-referred,
// informed; started), and once in all; each is one participant above.
slussen::v1::OutcomeReport OutcomeReportOf(
    const std::vector<ReferralRecord>& referrals, absl::CivilDay from,
    absl::CivilDay to, const std::string& activity_type, absl::TimeZone zone);

// The SUS registrations over the local days [from, to] of the referrals
// given (of one region), optionally of one insats (`offering`), as `reader`
// may have them at `now`: one row per registration, oldest first (a
// participant's start, IN; their completion, exit or consent withdrawal
// after the start, OUT; for a gemensam kartläggning the request, first and
// last meeting), named (referring organisation, pseudonym, what was
// registered, the referral) only where MayRegisterInSus, else anonymous
// (gender, age, dates, ending: not even the referral). A start closed as a
// registration error has
// its rows (the deltagaransvarig undoes it in SUS too) but leaves the
// monthly counts (started and ended per month, insats, gender and age
// band). Both also as CSV (docs/integrating.md, "SUS export").
slussen::v1::SusExport SusExportOf(const std::vector<ReferralRecord>& referrals,
                                   absl::CivilDay from, absl::CivilDay to,
                                   const std::string& offering,
                                   const Caller& reader, absl::Time now,
                                   absl::TimeZone zone);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_REPORTS_H_
