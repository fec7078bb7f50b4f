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
  [ "$(basename "$file")" = joint_referral.json ] && joint=$name
  count=$((count + 1))
done
[ "$count" -ge 6 ] || fail "expected an example of each of the five kinds and a joint referral, found $count"
[ "$("${ctl[@]}" referrals list --page-size=2 --quiet | wc -l)" -eq "$count" ] ||
  fail "list does not show the $count referrals"

# The joint referral (samordnad insats): the lead's `referrals get` names
# the funder and each party with its part and what the consent gives it;
# the co-referrer lists it among its own.
"${ctl[@]}" referrals get "$joint" >"$TEST_TMP/joint.txt"
grep -q "joint referral.*funded by samordning-halland; fk-lfc-halmstad leads" "$TEST_TMP/joint.txt" ||
  fail "referrals get does not name the joint referral's funder and lead: $(cat "$TEST_TMP/joint.txt")"
grep -q "af-halmstad .*CO_REFERRER; sees ELIGIBILITY, OUTCOME" "$TEST_TMP/joint.txt" ||
  fail "referrals get does not show the co-referrer's part: $(cat "$TEST_TMP/joint.txt")"
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=af-halmstad --region=13 \
  referrals list --quiet | grep -qx "$joint" ||
  fail "the co-referrer does not list the joint referral"

# The provider's side: the activity example was offered to Hälsosam
# Halmstad's cohort; its team accepts, records contact, start and exit.
provider=("$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=halsosam-halmstad --role=provider --region=13)
offer=$("${provider[@]}" offers list --state=held --quiet)
[ "$(wc -l <<<"$offer")" -eq 1 ] && [[ $offer == regions/13/offers/* ]] ||
  fail "expected one held offer for Hälsosam, got '$offer'"
activity=$("${provider[@]}" offers get "$offer" --json | sed -n 's/^ *"referral": "\(.*\)",*$/\1/p')
[[ $activity == regions/13/referrals/* ]] || fail "the offer names no referral"
"${provider[@]}" offers accept "$offer" >/dev/null || fail "accept failed"
"${provider[@]}" referrals contact "$activity" --note="called, booked" >/dev/null || fail "contact failed"
"${provider[@]}" referrals start "$activity" >/dev/null || fail "start failed"
if "${provider[@]}" referrals exit "$activity" >/dev/null 2>"$TEST_TMP/err"; then
  fail "an exit without an outcome was accepted"
fi
grep -q 'outcome_reasons' "$TEST_TMP/err" || fail "the refused exit does not name outcome_reasons: $(cat "$TEST_TMP/err")"
"${provider[@]}" referrals exit "$activity" --outcome=work --outcome=sickness-benefit |
  grep -q "EXITED" || fail "exit did not end in EXITED"
"${ctl[@]}" referrals get "$activity" | grep -q "EXIT .*-> EXITED" ||
  fail "the referring agency does not see the exit in the history"
"${provider[@]}" referrals follow-up "$activity" --outcome=studies |
  grep -q "RECORD_FOLLOW_UP .*-> EXITED" || fail "the follow-up is not in the history"

# A participant no offering admits: rejected, and `referrals get` says why
# in words (the rule that excluded them), as JSON does.
sed -e 's/"age_years": 41/"age_years": 66/' \
  -e 's/"pseudonym": "lfc-hd-2026-0117"/"pseudonym": "lfc-hd-2026-0118"/' \
  "$EXAMPLES/activity.json" >"$TEST_TMP/too-old.json"
too_old=$("${ctl[@]}" referrals create --file="$TEST_TMP/too-old.json" --quiet) ||
  fail "the too-old referral was refused"
for _ in $(seq 50); do
  "${ctl[@]}" referrals get "$too_old" >"$TEST_TMP/too-old.txt"
  grep -q REJECTED "$TEST_TMP/too-old.txt" && break
  sleep 0.1
done
grep -q "why rejected .*age 66 is outside 18..64" "$TEST_TMP/too-old.txt" ||
  fail "referrals get does not say why it was rejected: $(cat "$TEST_TMP/too-old.txt")"

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
expect_exit 2 "${provider[@]}" referrals exit "$activity" --outcome=lottery
expect_exit 1 "${ctl[@]}" referrals get regions/13/referrals/01M8163615ZZZZZZZZZZZZZZZZ
grep -q 'NOT_FOUND' "$TEST_TMP/err" || fail "a missing referral is not reported as NOT_FOUND"
expect_exit 1 "${ctl[@]}" referrals create impulse --kommun=1280 --need=other \
  --call-back-name=A --call-back-phone="035-13 70 00"
grep -q 'referral.impulse.kommun_code' "$TEST_TMP/err" || fail "the refusal does not name the field"
expect_exit 1 "$SLUSSCTL" --server="127.0.0.1:$(free_port)" --timeout=1 health

# A misspelt flag changes nothing: it is refused (exit 2, with the flag
# meant) before any call, and Redis is byte for byte as it was.
# Redis's digest once the broker's own background work has settled (no
# matching pass holds the region's lease, two digests a deadline tick
# apart agree): then a difference is the refused command's doing.
digest() {
  local sock="$TEST_TMP/redis/redis.sock" first second
  for _ in $(seq 50); do
    if [ "$(redis-cli -s "$sock" EXISTS 'slussen:{r13}:matching:lock')" = 0 ]; then
      first=$(redis-cli -s "$sock" DEBUG DIGEST)
      sleep 0.7
      second=$(redis-cli -s "$sock" DEBUG DIGEST)
      [ "$first" = "$second" ] &&
        [ "$(redis-cli -s "$sock" EXISTS 'slussen:{r13}:matching:lock')" = 0 ] &&
        { echo "$first"; return; }
    fi
    sleep 0.1
  done
  echo "unstable"
}
impulse=$("${ctl[@]}" referrals create impulse --kommun=1380 --need=other \
  --call-back-name="Anna Berg" --call-back-phone="035-13 70 00" --quiet) ||
  fail "the impulse was refused"
sed -e 's/"pseudonym": "lfc-hd-2026-0117"/"pseudonym": "lfc-hd-2026-0119"/' \
  "$EXAMPLES/activity.json" >"$TEST_TMP/second.json"
"${ctl[@]}" referrals create --file="$TEST_TMP/second.json" --quiet >/dev/null ||
  fail "the second activity referral was refused"
held=""
for _ in $(seq 50); do
  held=$("${provider[@]}" offers list --state=held --quiet)
  [ -n "$held" ] && break
  sleep 0.1
done
[[ $held == regions/13/offers/* ]] || fail "no held offer for the second referral: '$held'"
before=$(digest)
expect_exit 2 "${ctl[@]}" referrals cancel "$impulse" --reason=sent-in-error --etg=1
grep -q 'takes no flag --etg; did you mean --etag?' "$TEST_TMP/err" ||
  fail "the misspelt --etag is not named: $(cat "$TEST_TMP/err")"
expect_exit 2 "${provider[@]}" offers decline "$held" --reason=no-capacity --reson=x
grep -q 'did you mean --reason?' "$TEST_TMP/err" ||
  fail "the misspelt --reason is not named: $(cat "$TEST_TMP/err")"
expect_exit 2 "${provider[@]}" offers decline "$held" --reason=other --etag=1
expect_exit 2 "${provider[@]}" offers accept "$held" "$impulse"
[ "$(digest)" = "$before" ] || fail "a refused command line changed Redis"
"${provider[@]}" offers get "$held" | grep -q "HELD" || fail "the offer is no longer held"

# A queue that does not exist is NOT_FOUND, not an empty list; another
# region's is PERMISSION_DENIED, as every list of another region is.
coordinator=("$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=samordning-halland --role=coordinator --region=13)
expect_exit 0 "${coordinator[@]}" queue list regions/13/queues/halsosam~13
expect_exit 1 "${coordinator[@]}" queue list regions/13/queues/halsosm~13
grep -q 'NOT_FOUND: queue regions/13/queues/halsosm~13 does not exist' "$TEST_TMP/err" ||
  fail "a misspelt queue: $(cat "$TEST_TMP/err")"
expect_exit 1 "${coordinator[@]}" queue list regions/12/queues/halsosam~12
grep -q 'PERMISSION_DENIED' "$TEST_TMP/err" || fail "another region's queue: $(cat "$TEST_TMP/err")"
expect_exit 1 "${coordinator[@]}" referrals list --region=12
grep -q 'PERMISSION_DENIED' "$TEST_TMP/err" || fail "another region's referrals: $(cat "$TEST_TMP/err")"

# Help per command, -h, --version; completion and the man page from the
# same declarations.
"$SLUSSCTL" referrals create --help >"$TEST_TMP/help.txt" || fail "create --help failed"
grep -q -- '--call-back-name' "$TEST_TMP/help.txt" || fail "create --help lacks its flags"
if grep -q -- '--outcome' "$TEST_TMP/help.txt"; then fail "create --help shows other commands' flags"; fi
expect_exit 0 "$SLUSSCTL" -h
"$SLUSSCTL" --version | grep -Eq '^slussen [0-9]+\.[0-9]+\.[0-9]+ \(commit ' ||
  fail "--version: $("$SLUSSCTL" --version)"
completed=$(bash -c 'source <("$0" completion bash)
  COMP_WORDS=(slussctl offers dec); COMP_CWORD=2; _slussctl; echo "${COMPREPLY[*]}"
  COMP_WORDS=(slussctl offers decline N --rea); COMP_CWORD=4; _slussctl; echo "${COMPREPLY[*]}"
  COMP_WORDS=(slussctl wor); COMP_CWORD=1; _slussctl; echo "${COMPREPLY[*]}"' "$SLUSSCTL")
[ "$completed" = $'decline\n--reason\nworklist' ] || fail "bash completion gave: $completed"
"$SLUSSCTL" man >"$TEST_TMP/slussctl.1" || fail "slussctl man failed"
head -1 "$TEST_TMP/slussctl.1" | grep -q '^\.TH SLUSSCTL 1' || fail "the man page has no .TH"
echo "PASS"
