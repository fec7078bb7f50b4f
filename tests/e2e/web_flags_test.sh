#!/usr/bin/env bash
# slussen-web refuses what it cannot honour before it serves anything: a
# misspelt flag or SLUSSEN_WEB_ variable, development sign-in on a
# non-loopback address, certificate sign-in without a client CA, a users
# file with a bad line (named by its line number), a port another gateway
# holds; and a SLUSSEN_WEB_ variable that is spelt right takes effect.
#
# Usage: web_flags_test.sh SLUSSEN_WEB
source "$(dirname "$0")/lib.sh"
WEB=$1

# refused WHAT EXPECTED ARGS...: the gateway exits non-zero, saying
# EXPECTED, without listening.
refused() {
  local what=$1 expected=$2
  shift 2
  local out
  if out=$(timeout 10 "$@" 2>&1); then
    fail "$what: slussen-web started"
  fi
  grep -q -- "$expected" <<<"$out" || fail "$what: no \"$expected\" in: $out"
}

port=$(free_port)
refused "a misspelt flag" "listn" "$WEB" --listn=127.0.0.1:"$port"
refused "a misspelt variable" "SLUSSEN_WEB_LISTN" \
  env SLUSSEN_WEB_LISTN=127.0.0.1:"$port" "$WEB"
refused "development sign-in on every address" "loopback only" \
  "$WEB" --listen=0.0.0.0:"$port"
refused "certificate sign-in without a CA" "tls_client_ca_file" \
  "$WEB" --listen=127.0.0.1:"$port" --sign_in=certificate
printf '%s\n' "dev:a kommun-x agency 13 a1 A" "dev:b kommun-x chief 13 b1 B" >"$TEST_TMP/users.txt"
refused "a users file with a bad role" "users.txt:2:" \
  "$WEB" --listen=127.0.0.1:"$port" --users_file="$TEST_TMP/users.txt"
refused "a sign-in mode that does not exist" "development, certificate or proxy" \
  "$WEB" --sign_in=password

# Every flag has its variable (they come from the flags themselves): a bad
# value is a bad value, not an unknown variable.
refused "a bad value of a variable" "bad environment variable" \
  env SLUSSEN_WEB_COOKIE_SECURE=maybe "$WEB" --listen=127.0.0.1:"$port"

# A variable spelt right is a flag's value: the gateway listens where it
# says (Redis and the broker need not be there for /healthz).
SLUSSEN_WEB_LISTEN=127.0.0.1:"$port" SLUSSEN_WEB_COOKIE_SECURE=true \
  "$WEB" --redis=127.0.0.1:1 >"$TEST_TMP/web.log" 2>&1 &
TEST_PIDS+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"ok"' ||
  fail "SLUSSEN_WEB_LISTEN did not take effect: $(tail -3 "$TEST_TMP/web.log")"
# Not ready: neither the broker nor Redis answers.
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$status" = 503 ] || fail "/readyz answered $status without a broker or Redis"

# A second gateway on the port the first holds is refused, not let share
# it (with SO_REUSEPORT, cpp-httplib's default, the kernel would split the
# browsers between them).
refused "a second gateway on a taken port" "cannot listen on" \
  "$WEB" --listen=127.0.0.1:"$port" --redis=127.0.0.1:1
echo "PASS"
