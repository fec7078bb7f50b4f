#!/usr/bin/env bash
# Every example in clients/examples/ is a valid referral: slussctl sends
# each one with `referrals create --file` and the broker accepts it; then
# the CLI's usage errors (exit 2) and refusals (exit 1) behave as --help
# says.
#
# Usage: cli_examples_test.sh SLUSSEN SLUSSCTL EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 EXAMPLES=$3

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"
ctl=("$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=fk-lfc-halmstad --region=13)

count=0
for file in "$EXAMPLES"/*.json; do
  name=$("${ctl[@]}" referrals create --file="$file" --quiet) ||
    fail "$(basename "$file") was refused"
  [[ $name == regions/13/referrals/* ]] || fail "$(basename "$file"): got '$name'"
  count=$((count + 1))
done
[ "$count" -ge 5 ] || fail "expected an example of each of the five kinds, found $count"
[ "$("${ctl[@]}" referrals list --all --quiet | wc -l)" -eq "$count" ] ||
  fail "list does not show the $count referrals"

expect_exit() {
  local want=$1
  shift
  local got=0
  "$@" >/dev/null 2>"$TEST_TMP/err" || got=$?
  [ "$got" -eq "$want" ] || fail "exit $got, want $want: $* ($(cat "$TEST_TMP/err"))"
}
expect_exit 0 "$SLUSSCTL" --help
expect_exit 2 "$SLUSSCTL"
expect_exit 2 "${ctl[@]}" referrals create impulse --kommun=1380
expect_exit 2 "${ctl[@]}" referrals list --state=sleeping
expect_exit 2 "${ctl[@]}" referrals frobnicate
expect_exit 1 "${ctl[@]}" referrals get regions/13/referrals/01M8163615ZZZZZZZZZZZZZZZZ
grep -q 'NOT_FOUND' "$TEST_TMP/err" || fail "a missing referral is not reported as NOT_FOUND"
expect_exit 1 "${ctl[@]}" referrals create impulse --kommun=1280 --need=other \
  --call-back-name=A --call-back-phone="035-13 70 00"
grep -q 'referral.impulse.kommun_code' "$TEST_TMP/err" || fail "the refusal does not name the field"
expect_exit 1 "$SLUSSCTL" --server="127.0.0.1:$(free_port)" --timeout=1 health
echo "PASS"
