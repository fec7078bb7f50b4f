#!/usr/bin/env bash
# `slussctl referrals import` against a real broker, as an agency uses it:
# impulses from a semicolon CSV (a refused row names its column in the
# result file), activity referrals from a comma CSV with a template for
# the consent, a misspelt column refused before anything is sent, and a
# run interrupted with Ctrl-C (SIGINT) then run again: every row imported
# exactly once.
#
# Usage: import_cli_test.sh SLUSSEN SLUSSCTL EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 EXAMPLES=$3

start_redis "$TEST_TMP/redis"
BROKER_FLAGS=(--rate_limit_per_second=100000 --rate_limit_burst=100000)
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"
fk=("$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=fk-lfc-halmstad --region=13)
kommun=("$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=kommun-halmstad-eb --region=13)
count() { "${kommun[@]}" referrals list --quiet | wc -l; }

# Impulses, semicolon-separated, one row with a kommun of no region.
cat >"$TEST_TMP/impulses.csv" <<'CSV'
impulse.kommun_code;impulse.need_category;impulse.call_back.display_name;impulse.call_back.phone
1380;coordinated-rehabilitation;Anna Berg;035-13 70 00
1380;other;"Berg; Anna";035-13 70 01
1381;sickness-benefit-entitlement;Åsa Öberg;035-13 70 02
13X0;other;Per Lind;035-13 70 03
CSV
code=0
"${kommun[@]}" referrals import "$TEST_TMP/impulses.csv" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || code=$?
[ "$code" = 1 ] || fail "a file with a refused row: exit $code, want 1 ($(cat "$TEST_TMP/err"))"
grep -q "imported 3 of 4 rows (1 refused)" "$TEST_TMP/out" || fail "summary: $(cat "$TEST_TMP/out")"
result="$TEST_TMP/impulses.result.csv"
[ "$(grep -c ';imported;regions/13/referrals/' "$result")" = 3 ] ||
  fail "three rows imported in the result file: $(cat "$result")"
grep -q '^5;refused;;INVALID_ARGUMENT;impulse.kommun_code;' "$result" ||
  fail "the refused row does not name its column: $(cat "$result")"
[ "$(count)" = 3 ] || fail "three referrals, got $(count)"

# The same file again: nothing twice.
"${kommun[@]}" referrals import "$TEST_TMP/impulses.csv" >/dev/null 2>&1 || true
[ "$(count)" = 3 ] || fail "a second run imported again: $(count) referrals"

# Activity referrals from a comma CSV; what every row shares (the
# referrer, the consent form) from a template.
python3 - "$EXAMPLES/activity.json" "$TEST_TMP/template.json" <<'PY'
import json, sys
referral = json.load(open(sys.argv[1]))
del referral["participant"]
referral["activity"] = {"activity_type": "halsosam"}
json.dump(referral, open(sys.argv[2], "w"), ensure_ascii=False)
PY
cat >"$TEST_TMP/activities.csv" <<'CSV'
participant.pseudonym,participant.attributes.age_years,participant.attributes.gender,participant.attributes.kommun_code,participant.attributes.benefit_statuses,activity.note
lfc-imp-0001,41,female,1380,sickness-benefit,"Förmiddagar, helst"
lfc-imp-0002,35,male,1380,sickness-benefit|financial-assistance,
CSV
"${fk[@]}" referrals import "$TEST_TMP/activities.csv" --template="$TEST_TMP/template.json" \
  --json >"$TEST_TMP/out.json" 2>"$TEST_TMP/err" ||
  fail "the activity import failed: $(cat "$TEST_TMP/err") $(cat "$TEST_TMP/activities.result.csv")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["imported"] == 2 and d["refused"] == 0, d' \
  "$TEST_TMP/out.json" || fail "--json summary: $(cat "$TEST_TMP/out.json")"
first=$(sed -n '2p' "$TEST_TMP/activities.result.csv" | cut -d, -f3)
"${fk[@]}" referrals get "$first" --json >"$TEST_TMP/first.json"
python3 - "$TEST_TMP/first.json" <<'PY' || fail "the imported referral is not as the row and template say: $(cat "$TEST_TMP/first.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["participant"]["pseudonym"] == "lfc-imp-0001", r["participant"]
assert r["participant"]["attributes"]["gender"] == "GENDER_FEMALE"
assert r["activity"]["note"] == "Förmiddagar, helst", r["activity"]
assert r["consent"]["purpose"] == "CONSENT_PURPOSE_COORDINATED_REHABILITATION", r["consent"]
assert r["referrer"]["display_name"] == "Per Lind"
PY

# The examples of docs/integrating.md, Bulk import
# (clients/examples/import/), as printed.
cp "$EXAMPLES"/import/* "$TEST_TMP/"
"${kommun[@]}" referrals import "$TEST_TMP/impulses.csv" >"$TEST_TMP/out" 2>&1 ||
  fail "the example impulses: $(cat "$TEST_TMP/out")"
"${fk[@]}" referrals import "$TEST_TMP/activities.csv" \
  --template="$TEST_TMP/activity-template.json" >"$TEST_TMP/out" 2>&1 ||
  fail "the example activities: $(cat "$TEST_TMP/out") $(cat "$TEST_TMP/activities.result.csv")"
grep -q "imported 2 of 2 rows" "$TEST_TMP/out" || fail "the example activities: $(cat "$TEST_TMP/out")"

# A misspelt column: refused before anything is sent, with the one meant.
before=$(count)
sed '1s/impulse.kommun_code/impulse.komun_code/' "$TEST_TMP/impulses.csv" >"$TEST_TMP/misspelt.csv"
code=0
"${kommun[@]}" referrals import "$TEST_TMP/misspelt.csv" >/dev/null 2>"$TEST_TMP/err" || code=$?
[ "$code" = 2 ] || fail "a misspelt column: exit $code, want 2"
grep -q 'column impulse.komun_code is no field of a referral; did you mean impulse.kommun_code?' "$TEST_TMP/err" ||
  fail "the misspelt column is not named: $(cat "$TEST_TMP/err")"
[ "$(count)" = "$before" ] || fail "a refused file created referrals"

# Interrupted, then run again: every row exactly once.
python3 - "$TEST_TMP/many.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("impulse.kommun_code;impulse.need_category;impulse.call_back.display_name;impulse.call_back.phone\n")
    for i in range(3000):
        f.write(f"1380;other;Handläggare {i};035-{i:06d}\n")
PY
before=$(count)
"${kommun[@]}" referrals import "$TEST_TMP/many.csv" --parallel=1 >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
importer=$!
for _ in $(seq 100); do  # until some rows are in
  [ "$(redis-cli -s "$TEST_TMP/redis/redis.sock" DBSIZE)" -gt 200 ] && break
  sleep 0.05
done
sleep 0.3
kill -INT "$importer"
code=0
wait "$importer" || code=$?
[ "$code" = 130 ] || fail "an interrupted import: exit $code, want 130 ($(cat "$TEST_TMP/err"))"
grep -q "interrupted: run the same command again" "$TEST_TMP/err" || fail "no word on the interruption"
grep -q ';not tried;' "$TEST_TMP/many.result.csv" || fail "the result file lists no row as not tried"
partial=$(($(count) - before))
[ "$partial" -gt 0 ] && [ "$partial" -lt 3000 ] || fail "interrupted after $partial of 3000 rows"
"${kommun[@]}" referrals import "$TEST_TMP/many.csv" >"$TEST_TMP/out" 2>"$TEST_TMP/err" ||
  fail "the second run failed: $(cat "$TEST_TMP/err")"
[ $(($(count) - before)) = 3000 ] || fail "after the second run $(($(count) - before)) referrals, want 3000"
echo "PASS"
