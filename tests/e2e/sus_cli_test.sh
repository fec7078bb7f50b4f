#!/usr/bin/env bash
# SUS follow-up through slussctl against a real broker with the sample
# catalogue: Hälsosam starts two participants with their in-registration,
# one whose consent covers the coordinators for outcome data and one whose
# consent does not, and completes the first with its out-registration. The
# coordinator's `reports sus` names the first and registers the second
# anonymously; `--monthly` counts both; the outcome report gains the income
# table; the provider exports its own insats (anonymously: the consent
# does not cover it for outcome data); an agency may not export;
# a contradictory registration is refused naming its field.
#
# With SLUSSEN_SUS_EXAMPLE=FILE set, the coordinator's export is written
# there too (docs/integrating.md shows one).
#
# Usage: sus_cli_test.sh SLUSSEN SLUSSCTL EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 EXAMPLES=$3

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"
at() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "$@"; }
fk=(--org=fk-lfc-halmstad --role=agency)
halsosam=(--org=halsosam-halmstad --role=provider)
coordinator=(--org=samordning-halland --role=coordinator)

# The example, and the same participant's neighbour whose consent leaves
# the coordinators out.
named=$(at "${fk[@]}" referrals create --file="$EXAMPLES/activity.json" --quiet) ||
  fail "create of the example failed"
python3 - "$EXAMPLES/activity.json" >"$TEST_TMP/anonymous.json" <<'PY'
import json, sys
referral = json.load(open(sys.argv[1]))
referral["participant"]["pseudonym"] = "lfc-hd-2026-0999"
referral["consent"]["scopes"] = [
    s for s in referral["consent"]["scopes"]
    if s.get("party_class") != "PARTY_CLASS_REGION_COORDINATORS"]
print(json.dumps(referral))
PY
anonymous=$(at "${fk[@]}" referrals create --file="$TEST_TMP/anonymous.json" --quiet) ||
  fail "create of the anonymous one failed"

for offer in $(at "${halsosam[@]}" offers list --state=held --quiet); do
  at "${halsosam[@]}" offers accept "$offer" >/dev/null || fail "accept $offer failed"
done

# A contradiction: no income, and employment.
if at "${halsosam[@]}" referrals start "$named" --income=none --income=employment \
    --education=upper-secondary >"$TEST_TMP/bad" 2>&1; then
  fail "a start with income none and employment was accepted"
fi
grep -q "sus.income_sources" "$TEST_TMP/bad" || fail "refusal: $(cat "$TEST_TMP/bad")"

at "${halsosam[@]}" referrals start "$named" --income=sickness-benefit \
  --income=financial-assistance --education=upper-secondary >/dev/null ||
  fail "start of $named failed"
at "${halsosam[@]}" referrals start "$anonymous" --income=sickness-benefit \
  --education=primary >/dev/null || fail "start of $anonymous failed"
at "${halsosam[@]}" referrals complete "$named" --outcome=work \
  --income=employment --work=subsidised --af >/dev/null ||
  fail "complete of $named failed"

today=$(TZ=Europe/Stockholm date +%F)
at "${coordinator[@]}" reports sus --from="$today" --to="$today" >"$TEST_TMP/sus" ||
  fail "reports sus failed: $(cat "$TEST_TMP/sus")"
[ -n "${SLUSSEN_SUS_EXAMPLE:-}" ] && cp "$TEST_TMP/sus" "$SLUSSEN_SUS_EXAMPLE"
head -1 "$TEST_TMP/sus" | grep -q "^moment;date;offering;" ||
  fail "no header: $(cat "$TEST_TMP/sus")"
[ "$(grep -c "" "$TEST_TMP/sus")" -eq 4 ] ||
  fail "expected a header and three rows: $(cat "$TEST_TMP/sus")"
grep -q "^IN;$today;.*;$named;no;FEMALE;41;$today;;;fk-lfc-halmstad;lfc-hd-2026-0117;SICKNESS_BENEFIT,FINANCIAL_ASSISTANCE;UPPER_SECONDARY;" \
  "$TEST_TMP/sus" || fail "no named IN row: $(cat "$TEST_TMP/sus")"
grep -q "^OUT;$today;.*;$named;no;.*;COMPLETED;fk-lfc-halmstad;lfc-hd-2026-0117;EMPLOYMENT;;SUBSIDISED;no;yes;WORK$" \
  "$TEST_TMP/sus" || fail "no named OUT row: $(cat "$TEST_TMP/sus")"
grep -q "^IN;$today;[^;]*;halsosam;;yes;FEMALE;41;$today;;;;;;;;;;$" "$TEST_TMP/sus" ||
  fail "no anonymous IN row: $(cat "$TEST_TMP/sus")"
if grep -q "$anonymous\|lfc-hd-2026-0999\|PRIMARY" "$TEST_TMP/sus"; then
  fail "the anonymous participant is named: $(cat "$TEST_TMP/sus")"
fi

at "${coordinator[@]}" reports sus --from="$today" --to="$today" --monthly >"$TEST_TMP/monthly" ||
  fail "reports sus --monthly failed"
grep -q "^${today:0:7};providers/halsosam-halmstad/.*;FEMALE;40-49;2;1$" "$TEST_TMP/monthly" ||
  fail "monthly counts: $(cat "$TEST_TMP/monthly")"

at "${coordinator[@]}" reports outcomes --from="$today" --to="$today" --format=csv >"$TEST_TMP/outcomes" ||
  fail "reports outcomes failed"
grep -q "^SICKNESS_BENEFIT;EMPLOYMENT;1$" "$TEST_TMP/outcomes" ||
  fail "no income change: $(cat "$TEST_TMP/outcomes")"
grep -A1 "^income_known;moved_to_work_or_studies$" "$TEST_TMP/outcomes" | grep -q "^1;1$" ||
  fail "income summary: $(cat "$TEST_TMP/outcomes")"

# The provider exports its own insats; an agency may not.
at "${halsosam[@]}" reports sus --from="$today" --to="$today" >"$TEST_TMP/own" ||
  fail "the provider's export failed: $(cat "$TEST_TMP/own")"
# (Anonymous to it: the consent does not cover the provider for outcome
# data.)
[ "$(grep -c "^IN;$today;providers/halsosam-halmstad/" "$TEST_TMP/own")" -eq 2 ] &&
  grep -q "^OUT;$today;providers/halsosam-halmstad/.*;yes;.*;COMPLETED;" "$TEST_TMP/own" ||
  fail "provider's export: $(cat "$TEST_TMP/own")"
if grep -q "$named\|lfc-hd-2026" "$TEST_TMP/own"; then
  fail "the provider's export names someone its consent does not cover"
fi
if at "${fk[@]}" reports sus --from="$today" --to="$today" >"$TEST_TMP/denied" 2>&1; then
  fail "an agency exported SUS registrations"
fi
grep -q "PERMISSION_DENIED" "$TEST_TMP/denied" || fail "agency: $(cat "$TEST_TMP/denied")"
echo "PASS"
