#!/usr/bin/env bash
# The coordinator's side of slussctl against a real broker (testing clock
# standing on Wednesday 2026-12-23): an impulse's call-back clock on the
# worklist of the coordinator and of FK, `clocks get`, a pause and resume,
# the events of the referral, the three reports, and the priority
# policy's what-if (`queue preview`).
#
# Usage: coordinator_cli_test.sh SLUSSEN SLUSSCTL
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2

start_redis "$TEST_TMP/redis"
BROKER_FLAGS=(--testing_clock_start=2026-12-23T10:00:00+01:00)
start_broker "$SLUSSEN" "$SLUSSCTL"
# The activity types, and FK's funktionsbrevlåda alone (the sample
# directory's cohorts are dated from today's real date, which the testing
# clock has passed).
cat >"$TEST_TMP/fk.textproto" <<'CATALOG'
providers {
  id: "fk-lfc-halmstad"
  provider {
    display_name: "Försäkringskassan LFC Halmstad, funktionsbrevlådan"
    organisation: "fk-lfc-halmstad"
    kind: PROVIDER_KIND_AGENCY_TEAM
    agency_kind: AGENCY_KIND_FORSAKRINGSKASSAN
    regions: "13"
  }
  offerings {
    id: "brevlada"
    offering {
      display_name: "Funktionsbrevlådan Halmstad"
      activity_type: "funktionsbrevlada"
      region: "13"
      kommun_code: "1380"
      eligibility { referral_kinds: REFERRAL_KIND_IMPULSE }
    }
    capacity { caseload { max_open_cases: 40 } }
  }
}
CATALOG
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=slussen-admin --role=admin \
  catalog apply "$SLUSSEN_ROOT"/providers/catalog/activity_types.textproto \
  "$TEST_TMP/fk.textproto" >"$TEST_TMP/catalog.log" 2>&1 ||
  fail "loading the catalogue: $(cat "$TEST_TMP/catalog.log")"
at() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "$@"; }
kommun=(--org=kommun-halmstad-eb)
fk=(--org=fk-lfc-halmstad --role=provider)
coordinator=(--org=samordning-halland --role=coordinator)

referral=$(at "${kommun[@]}" referrals create impulse --kommun=1380 \
  --need=coordinated-rehabilitation --call-back-name="Anna Berg" \
  --call-back-phone="035-13 70 00" --quiet) || fail "create failed"
offer=$(at "${fk[@]}" offers list --state=held --quiet)
at "${fk[@]}" offers accept "$offer" >/dev/null || fail "accept failed"

# Due at the end of Wednesday 2026-12-30 (3 arbetsdagar over Christmas).
clock="regions/13/clocks/${referral##*/}-1-0"
at "${coordinator[@]}" worklist --due-within-hours=200 >"$TEST_TMP/worklist"
grep -q "$clock" "$TEST_TMP/worklist" || fail "the call-back clock is not on the coordinator's worklist: $(cat "$TEST_TMP/worklist")"
# The deadline as the broker means it, how far off in arbetsdagar (the
# testing clock stands at Wed 2026-12-23: the 28th, 29th and 30th count).
grep -q "^3 arbetsdagar left .*end of Wed 2026-12-30 .*fk-lfc-halmstad .*kommun-halmstad-eb .*call-back" "$TEST_TMP/worklist" ||
  fail "the worklist row is not as expected: $(cat "$TEST_TMP/worklist")"
at "${coordinator[@]}" clocks get "$clock" | grep -q "due  *end of Wed 2026-12-30$" ||
  fail "clocks get does not say the deadline's day"
# JSON: the whole answer, times with the Stockholm offset; an empty list
# is an empty list, not {}.
at "${coordinator[@]}" worklist --due-within-hours=200 --json >"$TEST_TMP/worklist.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["items"][0]["clock"]["due_time"]; assert t=="2026-12-31T00:00:00+01:00", t' \
  "$TEST_TMP/worklist.json" || fail "the worklist's JSON: $(cat "$TEST_TMP/worklist.json")"
[ "$(at "${coordinator[@]}" worklist --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"])')" = "[]" ] ||
  fail "an empty worklist's JSON has no empty items list"
[ "$(at "${fk[@]}" worklist --due-within-hours=200 --quiet)" = "$clock" ] ||
  fail "FK's worklist is not just its clock"
[ -z "$(at --org=redo-halland --role=provider worklist --due-within-hours=200 --quiet)" ] ||
  fail "another provider sees the clock"
# Within the default horizon (one working day) it is not due yet.
[ -z "$(at "${coordinator[@]}" worklist --quiet)" ] || fail "not yet due, yet listed"

at "${coordinator[@]}" clocks get "$clock" | grep -q "IMPULSE_CALL_BACK  RUNNING" ||
  fail "clocks get does not show a running call-back clock"
at "${fk[@]}" clocks pause "$clock" --cause=participant --note="vill vänta" |
  grep -q "PAUSED" || fail "pause failed"
at "${fk[@]}" clocks resume "$clock" | grep -q "RUNNING" || fail "resume failed"
if at "${kommun[@]}" clocks pause "$clock" --cause=participant >/dev/null 2>"$TEST_TMP/err"; then
  fail "the referring kommun could pause FK's clock"
fi
grep -q PERMISSION_DENIED "$TEST_TMP/err" || fail "not PERMISSION_DENIED: $(cat "$TEST_TMP/err")"

at "${kommun[@]}" events list --referral="$referral" >"$TEST_TMP/events"
for type in REFERRAL_CREATED REFERRAL_QUEUED OFFER_MADE OFFER_ACCEPTED; do
  grep -q "$type" "$TEST_TMP/events" || fail "no $type event: $(cat "$TEST_TMP/events")"
done
at "${kommun[@]}" events list --referral="$referral" --json |
  python3 -c 'import json,sys; e=json.load(sys.stdin)["events"]; assert len(e) >= 4, e' ||
  fail "events list --json is not one JSON document of the events"
# events watch --json: JSON Lines, each with its resume token.
timeout 10 "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "${kommun[@]}" \
  events watch --region=13 --json >"$TEST_TMP/watch.jsonl" &
watcher=$!
for _ in $(seq 50); do  # a new impulse each try, until the watch has seen one
  at "${kommun[@]}" referrals create impulse --kommun=1380 --need=other \
    --call-back-name="Anna Berg" --call-back-phone="035-13 70 00" --quiet >/dev/null
  sleep 0.1
  [ "$(wc -l <"$TEST_TMP/watch.jsonl")" -ge 2 ] && break
done
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 2, lines
for line in lines:
    d = json.loads(line)
    assert d["resume_token"] and d["event"]["type"], line
' "$TEST_TMP/watch.jsonl" || fail "events watch --json is not JSON Lines with tokens: $(head -3 "$TEST_TMP/watch.jsonl")"

# A reader that stops early is no error: the watch piped into `head -n 1`
# ends with head, exit 0 (under pipefail), once a second event finds the
# pipe closed.
( timeout 20 "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "${kommun[@]}" \
    events watch --region=13 | head -n 1 >"$TEST_TMP/first.txt" ) &
piped=$!
for _ in $(seq 50); do  # impulses until the watch has met the closed pipe
  at "${kommun[@]}" referrals create impulse --kommun=1380 --need=other \
    --call-back-name="Anna Berg" --call-back-phone="035-13 70 00" --quiet >/dev/null
  kill -0 "$piped" 2>/dev/null || break
  sleep 0.1
done
piped_status=0
wait "$piped" || piped_status=$?
[ "$piped_status" = 0 ] ||
  fail "events watch | head -n 1 ended $piped_status (141: killed by SIGPIPE; 124: never noticed)"
[ -s "$TEST_TMP/first.txt" ] || fail "head got no event line"

at "${coordinator[@]}" reports queues >"$TEST_TMP/queues" || fail "reports queues failed"
head -1 "$TEST_TMP/queues" | grep -q "ESTIMATED WAIT" || fail "no queue overview header"
at "${coordinator[@]}" reports response-times --from=2026-12-01 --to=2026-12-31 |
  grep -q "fk-lfc-halmstad .*OFFER_ANSWER .* 1 " || fail "no response time row for FK's answer"
at "${coordinator[@]}" reports outcomes --from=2026-01-01 --to=2026-12-31 --format=csv |
  head -1 | grep -qx "gender;age_band;participants;starts;exits" || fail "no outcome CSV header"
if at "${kommun[@]}" reports queues >/dev/null 2>&1; then
  fail "an agency read the coordinator's queue overview"
fi
# The policy's what-if: the one in force with a weight changed, nothing
# written; a weight out of range is refused naming it.
at "${coordinator[@]}" queue preview --weight=fk-lfc-halmstad=3 >"$TEST_TMP/preview" ||
  fail "queue preview failed: $(cat "$TEST_TMP/preview")"
grep -q "move up, .* down, .* stay" "$TEST_TMP/preview" && grep -q "^AGENCY " "$TEST_TMP/preview" ||
  fail "queue preview: $(cat "$TEST_TMP/preview")"
if at "${coordinator[@]}" queue preview --weight=fk-lfc-halmstad=0 >"$TEST_TMP/preview" 2>&1; then
  fail "a weight of 0 was previewed"
fi
grep -q "policy.agency_weights\[fk-lfc-halmstad\]" "$TEST_TMP/preview" ||
  fail "refusal: $(cat "$TEST_TMP/preview")"
at "${coordinator[@]}" queue preview --json >"$TEST_TMP/preview.json" ||
  fail "queue preview --json failed"
grep -q '"candidate"' "$TEST_TMP/preview.json" || fail "json: $(cat "$TEST_TMP/preview.json")"

# A catalogue's cohorts ("in 21 days") are dated by the broker's clock
# (x-slussen-time), not this machine's: 2026-12-23 + 21 and + 70.
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=slussen-admin --role=admin \
  catalog apply "$SLUSSEN_ROOT/providers/catalog/sample_directory.textproto" >/dev/null 2>&1 ||
  fail "the sample directory was refused"
at --org=halsosam-halmstad --role=provider cohorts list providers/halsosam-halmstad/offerings/kom-igang \
  >"$TEST_TMP/cohorts"
grep -q "cohorts/host .* 2027-01-13 " "$TEST_TMP/cohorts" && grep -q "cohorts/vinter .* 2027-03-03 " "$TEST_TMP/cohorts" ||
  fail "the cohorts are not dated by the broker's clock: $(cat "$TEST_TMP/cohorts")"
echo "PASS"
