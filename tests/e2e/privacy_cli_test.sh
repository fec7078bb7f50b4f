#!/usr/bin/env bash
# Consent and privacy through slussctl against a real broker: an agency
# reads its joint mapping and the consent; the coordinator's subject-access
# request lists the creation and the reads; `audit verify` is intact and
# prints an anchor that a later verify accepts; the agency withdraws the
# consent; the coordinator erases the participant, and the agency then sees
# the referral without them.
#
# Usage: privacy_cli_test.sh SLUSSEN SLUSSCTL
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=slussen-admin --role=admin \
  catalog apply "$SLUSSEN_ROOT"/providers/catalog/activity_types.textproto \
  >"$TEST_TMP/catalog.log" 2>&1 ||
  fail "loading the catalogue: $(cat "$TEST_TMP/catalog.log")"
at() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --region=13 "$@"; }
fk=(--org=fk-lfc-halmstad --role=agency)
coordinator=(--org=samordning-halland --role=coordinator)
pnr=19121212-1212

referral=$(at "${fk[@]}" referrals create \
  --file="$SLUSSEN_ROOT/clients/examples/joint_mapping.json" --quiet) ||
  fail "create failed"
consent="${referral/referrals/consents}"
at "${fk[@]}" referrals get "$referral" >/dev/null || fail "get failed"
at "${fk[@]}" consents get "$consent" >"$TEST_TMP/consent" ||
  fail "consents get failed: $(cat "$TEST_TMP/consent")"
grep -q "ACTIVE" "$TEST_TMP/consent" || fail "consent not active: $(cat "$TEST_TMP/consent")"

at "${coordinator[@]}" audit list --personnummer="$pnr" >"$TEST_TMP/audit" ||
  fail "audit list failed: $(cat "$TEST_TMP/audit")"
grep -q "CREATE .*fk-lfc-halmstad .*JOINT_MAPPING .*$referral" "$TEST_TMP/audit" ||
  fail "no CREATE record: $(cat "$TEST_TMP/audit")"
grep -q "READ .*fk-lfc-halmstad .*$consent" "$TEST_TMP/audit" ||
  fail "no READ record of the consent: $(cat "$TEST_TMP/audit")"
if grep -q "$pnr" "$TEST_TMP/audit"; then fail "the audit list shows the personnummer"; fi

at "${coordinator[@]}" audit verify >"$TEST_TMP/verify" ||
  fail "verify failed: $(cat "$TEST_TMP/verify")"
grep -q "^intact: [0-9]* records" "$TEST_TMP/verify" || fail "verify: $(cat "$TEST_TMP/verify")"
anchor=$(sed -n 's/^anchor: \([0-9]*:[0-9a-f]*\) .*/\1/p' "$TEST_TMP/verify")
[ -n "$anchor" ] || fail "no anchor printed: $(cat "$TEST_TMP/verify")"
at "${coordinator[@]}" audit verify --anchor="$anchor" >/dev/null ||
  fail "the anchor from before is refused"
if at "${coordinator[@]}" audit verify --anchor="2:0000" >"$TEST_TMP/wrong"; then
  fail "a wrong anchor verified"
fi

# Erasure waits for the participation to end.
if at "${coordinator[@]}" participants erase --personnummer="$pnr" \
    --reason="Begäran enligt art. 17" >"$TEST_TMP/erase" 2>&1; then
  fail "erasure of an open referral succeeded"
fi
grep -q "FAILED_PRECONDITION" "$TEST_TMP/erase" || fail "erase: $(cat "$TEST_TMP/erase")"
at "${fk[@]}" consents withdraw "$consent" --recorded-by=handl-7 >"$TEST_TMP/withdrawn" ||
  fail "withdraw failed: $(cat "$TEST_TMP/withdrawn")"
grep -q "WITHDRAWN" "$TEST_TMP/withdrawn" || fail "withdraw: $(cat "$TEST_TMP/withdrawn")"
grep -q "withdrawn .* by fk-lfc-halmstad (handl-7)" "$TEST_TMP/withdrawn" ||
  fail "who withdrew is not shown: $(cat "$TEST_TMP/withdrawn")"
at "${coordinator[@]}" participants erase --personnummer="$pnr" \
  --reason="Begäran enligt art. 17" >"$TEST_TMP/erase" ||
  fail "erase failed: $(cat "$TEST_TMP/erase")"
grep -q "$referral" "$TEST_TMP/erase" || fail "erase: $(cat "$TEST_TMP/erase")"
at "${fk[@]}" --json referrals get "$referral" >"$TEST_TMP/erased" ||
  fail "get after erasure failed"
grep -q '"personalDataEraseTime"\|"personal_data_erase_time"' "$TEST_TMP/erased" ||
  fail "no erase time: $(cat "$TEST_TMP/erased")"
if grep -q "lfc-hd-2026-0117" "$TEST_TMP/erased"; then
  fail "the pseudonym is still there: $(cat "$TEST_TMP/erased")"
fi
at "${coordinator[@]}" audit verify >/dev/null || fail "the chain broke"

# Protected personal data: set by the agency with `referrals protect`, it
# takes the kommun away and the referral out of the coordinator's sight;
# `--off` gives it back to the region (without the kommun).
activity=$(at "${fk[@]}" referrals create \
  --file="$SLUSSEN_ROOT/clients/examples/activity.json" --quiet) ||
  fail "create of the activity referral failed"
at "${coordinator[@]}" referrals get "$activity" >/dev/null ||
  fail "the coordinator does not see the unprotected referral"
if at "${fk[@]}" referrals protect "$activity" >"$TEST_TMP/protect" 2>&1; then
  fail "protect without --note succeeded"
fi
grep -q -- "--note" "$TEST_TMP/protect" || fail "protect: $(cat "$TEST_TMP/protect")"
at "${fk[@]}" referrals protect "$activity" \
  --note="Sekretessmarkering 2026-12-01" >"$TEST_TMP/protect" ||
  fail "protect failed: $(cat "$TEST_TMP/protect")"
grep -q "protected personal data *yes" "$TEST_TMP/protect" ||
  fail "protect: $(cat "$TEST_TMP/protect")"
at "${fk[@]}" --json referrals get "$activity" >"$TEST_TMP/protected" ||
  fail "get of the protected referral failed"
if grep -q '"kommunCode"' "$TEST_TMP/protected"; then
  fail "the kommun is still there: $(cat "$TEST_TMP/protected")"
fi
if at "${coordinator[@]}" referrals get "$activity" >"$TEST_TMP/hidden" 2>&1; then
  fail "the coordinator sees the protected referral"
fi
grep -q "NOT_FOUND" "$TEST_TMP/hidden" || fail "get: $(cat "$TEST_TMP/hidden")"
at "${fk[@]}" referrals protect "$activity" --off \
  --note="Skyddet upphört" >/dev/null || fail "lifting the protection failed"
at "${coordinator[@]}" referrals get "$activity" >/dev/null ||
  fail "the coordinator does not see the referral after the protection ended"
echo "PASS"
