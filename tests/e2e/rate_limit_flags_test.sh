#!/usr/bin/env bash
# The broker's --rate_limit_per_second and --rate_limit_burst take effect:
# with a burst of 2 and one call a minute, an organisation's third call in
# a row is refused with RESOURCE_EXHAUSTED, while another organisation's
# first still goes through; a burst of 0 with a limit on is refused at
# start, naming the flag.
#
# Usage: rate_limit_flags_test.sh SLUSSEN SLUSSCTL
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2

make_key "$TEST_TMP/pnr.key"
if out=$(timeout 10 "$SLUSSEN" --listen=127.0.0.1:"$(free_port)" --redis=127.0.0.1:1 \
    --pnr_key_file="$TEST_TMP/pnr.key" --rate_limit_per_second=5 --rate_limit_burst=0 2>&1); then
  fail "the broker started with --rate_limit_burst=0"
fi
grep -q 'rate_limit' <<<"$out" || fail "the refusal does not name the flag: $out"

start_redis "$TEST_TMP/redis"
BROKER_FLAGS=(--rate_limit_per_second=0.016 --rate_limit_burst=2)
start_broker "$SLUSSEN" "$SLUSSCTL"
list() {
  "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org="$1" --region=13 referrals list 2>&1
}
list kommun-halmstad-eb >/dev/null || fail "the first call was refused"
list kommun-halmstad-eb >/dev/null || fail "the second call was refused"
third=$(list kommun-halmstad-eb) && fail "the third call in a row went through: $third"
grep -q 'RESOURCE_EXHAUSTED' <<<"$third" || fail "the third call failed otherwise: $third"
list kommun-laholm-eb >/dev/null || fail "another organisation was refused"
echo "PASS"
