// The names of Slussen's Redis keys, in one place.
//
// A region's keys carry the region as their hash tag ("{r13}"), so that
// everything one change touches in a region (a referral, the offering whose
// place it takes, the offer, the region's event stream) shares one Redis
// Cluster slot and can be changed by one script. The national directory
// (activity types, providers, framework agreements) has the tag "{dir}".
//
//   slussen:{r13}:referral:<id>            hash: data, version, state, kind,
//                                          org, pnr, assigned, and a field
//                                          clock<suffix> ("clock-1-0") per
//                                          clock of the referral
//   slussen:{r13}:referrals[:org:<o>|:assigned:<o>]  id indexes (lex order)
//   slussen:{r13}:matchable                ids of RECEIVED and QUEUED
//   slussen:{r13}:pnr:<keyed hash>         ids per personnummer hash
//   slussen:{r13}:idem:<org>:<request id>  "<id> <fingerprint>", expiring
//   slussen:{r13}:events                   stream: the region's outbox (an
//                                          entry an event, or a firing's
//                                          clock steps: field `events`)
//   slussen:{r13}:offering:<p>:<o>         hash: data, version, and per
//                                          unit u:<unit>:cap|occupied|held
//   slussen:{r13}:offerings                "<p>:<o>" of the region's
//   slussen:{r13}:offer:<id>               hash: data, version, state
//   slussen:{r13}:offers[:provider:<org>]  offer ids, per provider org
//   slussen:{r13}:holds                    offer ids scored by expiry (ms)
//   slussen:{r13}:clock:<id>               hash: data, version, next (ms),
//                                          and its planned steps: plan,
//                                          event (see
//                                          redis_referral_store_clocks.cc)
//   slussen:{r13}:clocks:due               clock ids scored by next firing
//                                          (a planned clock's place tells
//                                          which of its steps have fired)
//   slussen:{r13}:clocks:open              open clock ids scored by due
//   slussen:{r13}:clocks:writes            hash: count (of clock writes, so
//                                          that a read can tell none came
//                                          between its commands)
//   slussen:{r13}:clocks:started           clock ids scored by start
//   slussen:{r13}:clocks:referral:<id>     the clock ids of a referral,
//                                          as written before 2026-12-07
//                                          (read, no longer written: the
//                                          referral's hash names them)
//   slussen:{r13}:participant:<pseudonym>  ids per participant pseudonym
//   slussen:{r13}:open:<type>:p:<pnr>      ids of the person's open
//   slussen:{r13}:open:<type>:o:<org>:<pseudonym>  referrals to <type>
//                                          (by personnummer hash; by the
//                                          organisation's pseudonym): a
//                                          create checks them in its script
//   slussen:{r13}:finished                 finished ids scored by end (ms),
//                                          until their personal data goes
//   slussen:{r13}:matching:lock            the matching pass's lease (token)
//   slussen:{r13}:matching:dirty           a pass must go round again
//   slussen:{r13}:matching:changes         a count of the changes that may
//                                          have freed capacity (never reset)
//   slussen:{r13}:matching:seen            that count as the last full pass
//                                          to end began
//   slussen:{r13}:matching:passed          the civil day of the last full
//                                          pass ("2026-12-07")
//   slussen:{r13}:audit                    stream: the audit chain
//   slussen:{r13}:audit:head               hash: hash, count of the chain
//   slussen:{r13}:audit:subject:<subject>  list: stream ids per subject
//   slussen:{dir}:<kind>:<id>              hash: data, version
//   slussen:{dir}:<kind>s                  ids per kind
//   slussen:{dir}:offering-region:<p>:<o>  the region an offering name is
//                                          claimed for (names are national)
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_STORE_REDIS_KEYS_H_
#define SLUSSEN_BROKER_STORE_REDIS_KEYS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace slussen::store::keys {

inline std::string Region(absl::string_view region) {
  return absl::StrCat("slussen:{r", region, "}:");
}
inline std::string Referral(absl::string_view region, absl::string_view id) {
  return absl::StrCat(Region(region), "referral:", id);
}
inline std::string Referrals(absl::string_view region) {
  return absl::StrCat(Region(region), "referrals");
}
inline std::string ReferralsOf(absl::string_view region,
                               absl::string_view org) {
  return absl::StrCat(Region(region), "referrals:org:", org);
}
inline std::string ReferralsAssignedTo(absl::string_view region,
                                       absl::string_view org) {
  return absl::StrCat(Region(region), "referrals:assigned:", org);
}
inline std::string Matchable(absl::string_view region) {
  return absl::StrCat(Region(region), "matchable");
}
inline std::string Personnummer(absl::string_view region,
                                absl::string_view pseudonym) {
  return absl::StrCat(Region(region), "pnr:", pseudonym);
}
inline std::string Participant(absl::string_view region,
                               absl::string_view pseudonym) {
  return absl::StrCat(Region(region), "participant:", pseudonym);
}
// The open referrals to `activity_type` of the participant whose
// personnummer hash is `pnr`, or (with `pnr` empty) whom `organisation`
// knows as `pseudonym`.
inline std::string OpenReferralsOf(absl::string_view region,
                                   absl::string_view activity_type,
                                   absl::string_view pnr,
                                   absl::string_view organisation,
                                   absl::string_view pseudonym) {
  return pnr.empty()
             ? absl::StrCat(Region(region), "open:", activity_type,
                            ":o:", organisation, ":", pseudonym)
             : absl::StrCat(Region(region), "open:", activity_type, ":p:", pnr);
}
inline std::string Finished(absl::string_view region) {
  return absl::StrCat(Region(region), "finished");
}
// The ids of the referrals whose participant has protected personal data
// (a set).
inline std::string Protected(absl::string_view region) {
  return absl::StrCat(Region(region), "protected");
}
// The matching scheduler's marks (match_scheduler.h).
inline std::string MatchingLock(absl::string_view region) {
  return absl::StrCat(Region(region), "matching:lock");
}
inline std::string MatchingDirty(absl::string_view region) {
  return absl::StrCat(Region(region), "matching:dirty");
}
inline std::string MatchingChanges(absl::string_view region) {
  return absl::StrCat(Region(region), "matching:changes");
}
inline std::string MatchingSeen(absl::string_view region) {
  return absl::StrCat(Region(region), "matching:seen");
}
inline std::string MatchingPassed(absl::string_view region) {
  return absl::StrCat(Region(region), "matching:passed");
}
inline std::string Audit(absl::string_view region) {
  return absl::StrCat(Region(region), "audit");
}
inline std::string AuditHead(absl::string_view region) {
  return absl::StrCat(Region(region), "audit:head");
}
inline std::string AuditSubject(absl::string_view region,
                                absl::string_view subject) {
  return absl::StrCat(Region(region), "audit:subject:", subject);
}
inline std::string Idempotency(absl::string_view region, absl::string_view org,
                               absl::string_view request_id) {
  return absl::StrCat(Region(region), "idem:", org, ":", request_id);
}
inline std::string Events(absl::string_view region) {
  return absl::StrCat(Region(region), "events");
}
// The position of the last of the region's events removed by retention
// (RedisEventLog::RemoveBefore); missing while none was.
inline std::string EventsRemovedBefore(absl::string_view region) {
  return absl::StrCat(Region(region), "events:removed-before");
}
// Marks an event appended once (EventLog::AppendOnce), for a while.
inline std::string EventOnce(absl::string_view region, absl::string_view once) {
  return absl::StrCat(Region(region), "event-once:", once);
}
inline std::string Offering(absl::string_view region,
                            absl::string_view provider,
                            absl::string_view offering) {
  return absl::StrCat(Region(region), "offering:", provider, ":", offering);
}
inline std::string Offerings(absl::string_view region) {
  return absl::StrCat(Region(region), "offerings");
}
inline std::string Offer(absl::string_view region, absl::string_view id) {
  return absl::StrCat(Region(region), "offer:", id);
}
inline std::string Offers(absl::string_view region) {
  return absl::StrCat(Region(region), "offers");
}
inline std::string OffersOf(absl::string_view region,
                            absl::string_view provider) {
  return absl::StrCat(Region(region), "offers:provider:", provider);
}
inline std::string Holds(absl::string_view region) {
  return absl::StrCat(Region(region), "holds");
}
inline std::string Clock(absl::string_view region, absl::string_view id) {
  return absl::StrCat(Region(region), "clock:", id);
}
inline std::string ClocksDue(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:due");
}
inline std::string ClocksOpen(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:open");
}
inline std::string ClockWrites(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:writes");
}
// How far the region's planned clock steps have fired (ms, a string): every
// step of a plan at or before it, and before its clock's place in
// ClocksDue, has had its event appended (redis_referral_store_clocks.cc).
inline std::string ClocksFired(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:fired");
}
// The events of planned steps prepared ahead of their instant `at_ms`, a
// hash by clock id (the clock's events at that instant, framed as a batch),
// and the index of the instants prepared: appended when ClocksFired passes
// them.
inline std::string ClockStepsPrepared(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:prepared");
}
inline std::string ClockStepsPreparedAt(absl::string_view region,
                                        absl::string_view at_ms) {
  return absl::StrCat(Region(region), "clocks:prepared:", at_ms);
}
// The region's open clocks counted by kind and stage, the moves of their
// steps to come (a hash per instant, and the index of the instants), as
// lua/includes/clock_tally.lua keeps them.
inline std::string ClockTallies(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:tally");
}
inline std::string ClockTallyMoves(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:tally:moves");
}
inline std::string ClockTallyMovesAt(absl::string_view region,
                                     absl::string_view at_ms) {
  return absl::StrCat(Region(region), "clocks:tally:moves:", at_ms);
}
inline std::string ClocksStarted(absl::string_view region) {
  return absl::StrCat(Region(region), "clocks:started");
}
inline std::string ClocksOf(absl::string_view region,
                            absl::string_view referral_id) {
  return absl::StrCat(Region(region), "clocks:referral:", referral_id);
}
// A clock's field in its referral's hash: "clock" and what follows the
// referral id in the clock id ("<referral>-<kind>-<n>"). A field of a
// small hash costs some 15 bytes; the set per referral it replaces, about
// 250.
inline constexpr char kClockField[] = "clock";
// The id of the referral a clock id belongs to: "<referral>-<kind>-<n>".
inline absl::string_view ReferralOfClock(absl::string_view clock_id) {
  return clock_id.substr(0, clock_id.find('-'));
}
inline std::string ClockField(absl::string_view clock_id) {
  const size_t dash = clock_id.find('-');
  return absl::StrCat(kClockField, dash == absl::string_view::npos
                                       ? absl::string_view()
                                       : clock_id.substr(dash));
}
inline constexpr char kDirectory[] = "slussen:{dir}:";
inline std::string Directory(absl::string_view kind, absl::string_view id) {
  return absl::StrCat(kDirectory, kind, ":", id);
}
inline std::string OfferingRegionClaim(absl::string_view provider,
                                       absl::string_view offering) {
  return absl::StrCat(kDirectory, "offering-region:", provider, ":", offering);
}
inline std::string DirectoryIndex(absl::string_view kind) {
  return absl::StrCat(kDirectory, kind, "s");
}
// The field prefix of a capacity unit in an offering's hash: "-" for places
// and caseload, the cohort id for a cohort.
inline std::string Unit(absl::string_view unit) {
  return absl::StrCat("u:", unit, ":");
}

}  // namespace slussen::store::keys

#endif  // SLUSSEN_BROKER_STORE_REDIS_KEYS_H_
