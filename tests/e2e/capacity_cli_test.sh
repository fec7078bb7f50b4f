#!/usr/bin/env bash
# A provider keeps its capacity current and an admin its directory, with
# slussctl against a real broker: cohorts listed and added (against the
# offering's etag), capacity published from the example files as a person
# writes them (cohorts as a list, dates as text), an offering and a
# provider changed by field, a framework agreement and a deadline rule set
# added from clients/examples/directory/; catalog apply's difference,
# updates and all-or-nothing refusal. Refusals: another provider's
# offering, a misspelt field, a provider changing the directory.
#
# Usage: capacity_cli_test.sh SLUSSEN SLUSSCTL EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 EXAMPLES=$3

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"
at() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "$@"; }
halsosam=(--org=halsosam-halmstad --role=provider)
gronsak=(--org=gronsaksmastarna --role=provider)
admin=(--org=slussen-admin --role=admin)
cohorts=providers/halsosam-halmstad/offerings/kom-igang
places=providers/gronsaksmastarna/offerings/arbetstraning
expect_exit() {
  local want=$1
  shift
  local got=0
  "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || got=$?
  [ "$got" -eq "$want" ] || fail "exit $got, want $want: $* ($(cat "$TEST_TMP/err"))"
}

# catalog apply: the difference first, changes applied by field, and an
# entry the broker cannot change refuses the whole apply.
catalog="$SLUSSEN_ROOT/providers/catalog"
at "${admin[@]}" catalog apply "$catalog"/*.textproto | tail -1 | grep -q "0 created, 0 updated" ||
  fail "applying the loaded catalogue again changed something"
sed 's/display_name: "Hälsosam Halmstad"/display_name: "Hälsosam Halmstad, Andersberg"/' \
  "$catalog/sample_directory.textproto" >"$TEST_TMP/edited.textproto"
at "${admin[@]}" catalog apply --dry-run "$TEST_TMP/edited.textproto" >"$TEST_TMP/out"
grep -qx "update  providers/halsosam-halmstad: display_name" "$TEST_TMP/out" ||
  fail "the dry run does not show the difference: $(cat "$TEST_TMP/out")"
providers() { at "${admin[@]}" providers list --json >"$TEST_TMP/providers.json"; cat "$TEST_TMP/providers.json"; }
[ "$(providers | grep -c "Andersberg")" = 0 ] || fail "--dry-run wrote"
at "${admin[@]}" catalog apply "$TEST_TMP/edited.textproto" | tail -1 | grep -q "0 created, 1 updated" ||
  fail "the edited catalogue was not applied"
[ "$(providers | grep -c "Hälsosam Halmstad, Andersberg")" = 1 ] ||
  fail "the provider was not changed"
sed 's/display_name: "Hälsosam Halmstad, Andersberg"/display_name: "Hälsosam Halmstad"/' \
  "$TEST_TMP/edited.textproto" >"$TEST_TMP/back.textproto"
sed 's/display_name: "Hälsosam"/display_name: "Hälsosam (ny)"/' \
  "$catalog/activity_types.textproto" >"$TEST_TMP/types.textproto"
expect_exit 1 at "${admin[@]}" catalog apply "$TEST_TMP/back.textproto" "$TEST_TMP/types.textproto"
grep -q "refused activityTypes/halsosam: differs in display_name" "$TEST_TMP/err" ||
  fail "the unchangeable entry is not named: $(cat "$TEST_TMP/err")"
grep -q "nothing written (all or nothing)" "$TEST_TMP/err" || fail "no word on all or nothing"
[ "$(providers | grep -c "Hälsosam Halmstad, Andersberg")" = 1 ] ||
  fail "a refused apply wrote the provider's change"
# A new provider with an offering the broker would refuse: nothing of it
# is written (checked by the broker's own rules before any write).
sed -e 's/id: "halsosam-halmstad"/id: "halsosam-halmstad-2"/' -e 's/kommun_code: "1380"/kommun_code: "13X0"/' \
  "$catalog/sample_directory.textproto" >"$TEST_TMP/new-bad.textproto"
expect_exit 1 at "${admin[@]}" catalog apply "$TEST_TMP/new-bad.textproto"
grep -q "refused providers/halsosam-halmstad-2/offerings/kom-igang: offering.kommun_code must be four digits" \
  "$TEST_TMP/err" || fail "the bad offering is not named: $(cat "$TEST_TMP/err")"
[ "$(providers | grep -c "halsosam-halmstad-2")" = 0 ] || fail "a refused apply created the new provider"

# Cohorts: list, add one, see it.
[ "$(at "${halsosam[@]}" cohorts list "$cohorts" --quiet | wc -l)" = 2 ] ||
  fail "Hälsosam Halmstad should start with two cohorts"
at "${halsosam[@]}" cohorts add "$cohorts" --start=2027-03-01 --min=6 --max=12 >/dev/null ||
  fail "cohorts add failed"
at "${halsosam[@]}" cohorts list "$cohorts" | grep -q "2027-03-01   6..12  enrolled 0, held 0  OPEN" ||
  fail "the added cohort: $(at "${halsosam[@]}" cohorts list "$cohorts")"
expect_exit 2 at "${halsosam[@]}" cohorts add "$cohorts" --start=2027-03-01 --min=6
grep -q -- '--max is required' "$TEST_TMP/err" || fail "no word on --max: $(cat "$TEST_TMP/err")"
expect_exit 2 at "${halsosam[@]}" cohorts decide "$cohorts/cohorts/host" --decision=later
grep -q 'start, merge, cancel' "$TEST_TMP/err" || fail "decide's choices: $(cat "$TEST_TMP/err")"

# Capacity from the example files, as a person writes them.
at "${gronsak[@]}" capacity publish "$places" --file="$EXAMPLES/capacity/places.json" >/dev/null ||
  fail "places.json was refused: $(at "${gronsak[@]}" capacity publish "$places" --file="$EXAMPLES/capacity/places.json" 2>&1)"
at "${gronsak[@]}" offerings list --provider=providers/gronsaksmastarna | grep -q "places 0/8" ||
  fail "the places were not published"
at "${halsosam[@]}" capacity publish "$cohorts" --file="$EXAMPLES/capacity/cohorts.json" >/dev/null ||
  fail "cohorts.json was refused: $(at "${halsosam[@]}" capacity publish "$cohorts" --file="$EXAMPLES/capacity/cohorts.json" 2>&1)"
at "${halsosam[@]}" cohorts list "$cohorts" | grep -q "2027-04-12" || fail "cohorts.json's cohorts are not there"
expect_exit 1 at "${halsosam[@]}" capacity publish "$places" --file="$EXAMPLES/capacity/places.json"
grep -q NOT_FOUND "$TEST_TMP/err" || fail "another provider's offering: $(cat "$TEST_TMP/err")"
echo '{"cohorts": [{"start": "2027-03-01"}]}' >"$TEST_TMP/bad.json"
expect_exit 2 at "${halsosam[@]}" capacity publish "$cohorts" --file="$TEST_TMP/bad.json"
grep -q 'start_date' "$TEST_TMP/err" || fail "a bad capacity file without an example: $(cat "$TEST_TMP/err")"

# An offering and a provider changed by field; refusals.
at "${admin[@]}" offerings update "$places" --set=display_name="Grönsaksmästarna, växthuset" \
  --set=stale_after_days=14 | grep -q "updated display_name, stale_after_days" ||
  fail "offerings update failed"
at "${admin[@]}" offerings list --provider=providers/gronsaksmastarna --json |
  python3 -c 'import json,sys; o=json.load(sys.stdin)["offerings"][0]; assert o["display_name"] == "Grönsaksmästarna, växthuset" and o["stale_after_days"] == 14, o' ||
  fail "the offering was not changed"
at "${admin[@]}" providers update providers/gronsaksmastarna --set=display_name="Grönsaksmästarna AB" >/dev/null ||
  fail "providers update failed"
expect_exit 2 at "${admin[@]}" offerings update "$places" --set=display_nam=x
grep -q 'did you mean display_name?' "$TEST_TMP/err" || fail "a misspelt field: $(cat "$TEST_TMP/err")"
expect_exit 1 at "${gronsak[@]}" offerings update "$places" --set=display_name=x
grep -q PERMISSION_DENIED "$TEST_TMP/err" || fail "a provider changed the directory: $(cat "$TEST_TMP/err")"

# Framework agreements and deadline rule sets, from the examples.
at "${admin[@]}" agreements create af-rom-2027 --file="$EXAMPLES/directory/framework-agreement.json" >/dev/null ||
  fail "the example agreement was refused"
at "${admin[@]}" agreements list --quiet | grep -qx frameworkAgreements/af-rom-2027 ||
  fail "the agreement is not listed"
at "${admin[@]}" agreements get frameworkAgreements/af-rom-2027 | grep -q "Rusta och matcha" ||
  fail "agreements get"
at "${admin[@]}" rule-sets create impulse --file="$EXAMPLES/directory/deadline-rule-set.json" |
  grep -q "deadlineRuleSets/impulse/versions/2: added" || fail "the example rule set was refused"
at "${admin[@]}" rule-sets list --quiet | grep -qx deadlineRuleSets/impulse/versions/2 ||
  fail "the new rule set version is not listed"
expect_exit 1 at "${halsosam[@]}" rule-sets create impulse --file="$EXAMPLES/directory/deadline-rule-set.json"
grep -q PERMISSION_DENIED "$TEST_TMP/err" || fail "a provider added a rule set: $(cat "$TEST_TMP/err")"
echo "PASS"
