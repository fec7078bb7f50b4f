#!/usr/bin/env bash
# slussen-provider-agent against a real broker, as a provider runs it
# beside its booking system: an iCalendar export published as cohorts
# (again: nothing to do), the file watched and republished on change, a
# change that would drop a cohort someone holds a place in refused (naming
# it, nothing published), places from a CSV, a schedule it cannot read
# refused naming the event, and SIGTERM ending it.
#
# Usage: provider_agent_test.sh SLUSSEN SLUSSCTL AGENT EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 AGENT=$3 EXAMPLES=$4

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"
offering=providers/halsosam-halmstad/offerings/kom-igang
at() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "$@"; }
halsosam=(--org=halsosam-halmstad --role=provider)
agent=("$AGENT" --server="127.0.0.1:$BROKER_PORT" --org=halsosam-halmstad)
day() { date -d "+$1 days" +%Y%m%d; }
soon=$(day 7) later=$(day 70) latest=$(day 120)

# ics FILE DATE:MAX... : one VEVENT per cohort, min 6.
ics() {
  local file=$1
  shift
  {
    printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bokningssystemet//SV\r\n'
    for cohort in "$@"; do
      printf 'BEGIN:VEVENT\r\nUID:kom-igang-%s\r\nDTSTAMP:20261201T080000Z\r\n' "${cohort%%:*}"
      printf 'DTSTART;VALUE=DATE:%s\r\nSUMMARY:Hälsosam kom igång\r\n' "${cohort%%:*}"
      printf 'X-SLUSSEN-MAX-SIZE:%s\r\nX-SLUSSEN-MIN-SIZE:6\r\nEND:VEVENT\r\n' "${cohort##*:}"
    done
    printf 'END:VCALENDAR\r\n'
  } >"$file"
}
cohorts() { at "${halsosam[@]}" cohorts list "$offering"; }
iso() { date -d "$1" +%Y-%m-%d; }

# Published once, then nothing to do.
ics "$TEST_TMP/kom-igang.ics" "$soon:12" "$later:10"
"${agent[@]}" --offering="$offering" --schedule="$TEST_TMP/kom-igang.ics" --once \
  2>"$TEST_TMP/agent.log" || fail "the agent refused: $(cat "$TEST_TMP/agent.log")"
cohorts >"$TEST_TMP/cohorts"
[ "$(wc -l <"$TEST_TMP/cohorts")" = 2 ] || fail "two cohorts, got: $(cat "$TEST_TMP/cohorts")"
grep -q "$(iso "$soon")   6..12" "$TEST_TMP/cohorts" || fail "the first cohort: $(cat "$TEST_TMP/cohorts")"
grep -q "$(iso "$later")   6..10" "$TEST_TMP/cohorts" || fail "the second cohort: $(cat "$TEST_TMP/cohorts")"
at "${halsosam[@]}" cohorts list "$offering" --json >"$TEST_TMP/before.json"
"${agent[@]}" --offering="$offering" --schedule="$TEST_TMP/kom-igang.ics" --once \
  2>"$TEST_TMP/agent.log" || fail "the second run refused: $(cat "$TEST_TMP/agent.log")"
grep -q "capacity already as it says" "$TEST_TMP/agent.log" || fail "the second run published: $(cat "$TEST_TMP/agent.log")"
at "${halsosam[@]}" cohorts list "$offering" --json | cmp -s - "$TEST_TMP/before.json" ||
  fail "the second run changed the capacity"

# A place held in the first cohort: an activity referral offered to it.
sed -e 's/"pseudonym": "lfc-hd-2026-0117"/"pseudonym": "lfc-hd-2026-0301"/' \
  "$EXAMPLES/activity.json" >"$TEST_TMP/activity.json"
at --org=fk-lfc-halmstad referrals create --file="$TEST_TMP/activity.json" --quiet >/dev/null ||
  fail "the activity referral was refused"
for _ in $(seq 50); do
  cohorts | grep -q "$(iso "$soon") .*held 1" && break
  sleep 0.1
done
cohorts | grep -q "$(iso "$soon") .*held 1" || fail "no place held in the first cohort: $(cohorts)"

# Watching: a new cohort in the file is published; dropping the cohort
# with the held place is refused, naming it, and nothing is published.
"${agent[@]}" --offering="$offering" --schedule="$TEST_TMP/kom-igang.ics" --poll_seconds=1 \
  2>"$TEST_TMP/watch.log" &
watcher=$!
TEST_PIDS+=("$watcher")
sleep 0.5
ics "$TEST_TMP/kom-igang.ics" "$soon:12" "$later:10" "$latest:12"
for _ in $(seq 100); do
  cohorts | grep -q "$(iso "$latest")" && break
  sleep 0.1
done
cohorts | grep -q "$(iso "$latest")   6..12" || fail "the watched change was not published: $(cat "$TEST_TMP/watch.log")"
ics "$TEST_TMP/kom-igang.ics" "$later:10" "$latest:12"
for _ in $(seq 100); do
  grep -q "leaves it out: not published" "$TEST_TMP/watch.log" && break
  sleep 0.1
done
grep -q "cohort $offering/cohorts/.*(starts $(iso "$soon")) has 0 enrolled and 1 held, and the schedule leaves it out" \
  "$TEST_TMP/watch.log" || fail "the refusal does not name the cohort: $(cat "$TEST_TMP/watch.log")"
cohorts | grep -q "$(iso "$soon") .*held 1" || fail "the refused change was published"
kill -TERM "$watcher"
wait "$watcher" || fail "the agent did not stop cleanly on SIGTERM"
grep -q '"msg":"stopped"' "$TEST_TMP/watch.log" || fail "no word on stopping"

# Places from a CSV (blocks of places, the running ones summed).
printf 'start_date;end_date;places\n%s;%s;5\n%s;;3\n%s;;4\n' \
  "$(iso "$(day -30)")" "$(iso "$(day 30)")" "$(iso "$(day -1)")" "$(iso "$(day 40)")" \
  >"$TEST_TMP/places.csv"
"$AGENT" --server="127.0.0.1:$BROKER_PORT" --org=gronsaksmastarna --once \
  --offering=providers/gronsaksmastarna/offerings/arbetstraning --schedule="$TEST_TMP/places.csv" \
  2>"$TEST_TMP/agent.log" || fail "the places CSV was refused: $(cat "$TEST_TMP/agent.log")"
at --org=gronsaksmastarna --role=provider offerings list --provider=providers/gronsaksmastarna |
  grep -q "places 0/8" || fail "5 + 3 places running today, not 8"

# A schedule it cannot read: refused, naming the event; exit 1.
printf 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:utan-storlek\r\nDTSTART;VALUE=DATE:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
  "$later" >"$TEST_TMP/bad.ics"
code=0
"${agent[@]}" --offering="$offering" --schedule="$TEST_TMP/bad.ics" --once 2>"$TEST_TMP/agent.log" || code=$?
[ "$code" = 1 ] || fail "a schedule without sizes: exit $code"
grep -q "event utan-storlek: says no size" "$TEST_TMP/agent.log" || fail "the event is not named: $(cat "$TEST_TMP/agent.log")"
echo "PASS"
