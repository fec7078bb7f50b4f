#!/usr/bin/env bash
# `./dev up --tls` as a person meets it in a browser: the web gateway serves
# HTTPS and asks for a client certificate (the one ./dev certs makes for
# Anna Andersson, known by her HSA-id in the users file), and calls the
# broker over mutual TLS with its own gateway certificate on her behalf.
# The referral she makes records both: "via gateway web-1".
#
# Usage: web_tls_test.sh REPOSITORY_ROOT BUILD_DIR
source "$(dirname "$0")/lib.sh"
ROOT=$1 BUILD=$2
export SLUSSEN_VAR_DIR="$TEST_TMP/var" SLUSSEN_BUILD_DIR="$BUILD"
# The broker's port, its admin port 1 above, the gateway 2 above.
port=$(free_port 1 2)
web="https://127.0.0.1:$((port + 2))"
certs="$SLUSSEN_VAR_DIR/certs"
log="$TEST_TMP/up.log"

"$ROOT/dev" up --tls --port "$port" --web-port $((port + 2)) --no-build >"$log" 2>&1 &
TEST_PIDS+=($!)
for _ in $(seq 1 300); do
  grep -q 'Slussen is up' "$log" 2>/dev/null && break
  sleep 0.1
done
grep -q 'Slussen is up' "$log" || fail "./dev up --tls did not come up: $(tail -5 "$log")"
grep -q "web     $web" "$log" || fail "./dev up --tls does not say where the gateway is"

anna=(--cacert "$certs/ca.pem" --cert "$certs/person-anna.pem" --key "$certs/person-anna.key")
session=$(curl -sf "${anna[@]}" "$web/v1/session") || fail "no session for Anna's certificate"
grep -q '"organisation":"kommun-halmstad-eb"' <<<"$session" &&
  grep -q '"signIn":"certificate"' <<<"$session" ||
  fail "Anna's certificate did not name her: $session"

# Without a certificate the gateway does not even finish the handshake.
if curl -sf --cacert "$certs/ca.pem" "$web/healthz" >/dev/null 2>&1; then
  fail "the gateway answered a client without a certificate"
fi

created=$(curl -sf "${anna[@]}" -X POST "$web/slussen.v1.ReferralService/CreateReferral" \
  -H 'content-type: application/json' \
  -d "{\"parent\":\"regions/13\",\"referral\":$(cat "$ROOT/clients/examples/impulse.json")}") ||
  fail "Anna could not send an impulse through the gateway"
name=$(sed -n 's/^{"name":"\([^"]*\)".*/\1/p' <<<"$created")
[ -n "$name" ] || fail "no referral name in: $created"

# A session is Anna's only with Anna's certificate: the cookie with another
# valid certificate (Laholm's agency client) is refused.
signed_in=$(curl -sf "${anna[@]}" -c "$TEST_TMP/cookies" -X POST "$web/v1/sign-in" \
  -H 'content-type: application/json' -d '{}') || fail "Anna could not sign in"
csrf=$(sed -n 's/.*"csrfToken":"\([0-9a-f]*\)".*/\1/p' <<<"$signed_in")
[ -n "$csrf" ] || fail "no CSRF token in: $signed_in"
list=(-X POST "$web/slussen.v1.ReferralService/ListReferrals" -b "$TEST_TMP/cookies"
  -H 'content-type: application/json' -H "X-CSRF-Token: $csrf" -d '{"parent":"regions/13"}')
status=$(curl -s -o /dev/null -w '%{http_code}' "${anna[@]}" "${list[@]}")
[ "$status" = 200 ] || fail "Anna's session with her certificate answered $status"
other=(--cacert "$certs/ca.pem" --cert "$certs/agency-kommun-laholm-eb.pem"
  --key "$certs/agency-kommun-laholm-eb.key")
status=$(curl -s -o /dev/null -w '%{http_code}' "${other[@]}" "${list[@]}")
[ "$status" = 401 ] || fail "Anna's session with another certificate answered $status"

# The broker recorded who, and through which gateway.
"$BUILD/slussctl" --server="127.0.0.1:$port" --certs="$certs" \
  --org=kommun-halmstad-eb referrals get "$name" |
  grep -q 'CREATE .* by kommun-halmstad-eb (agency) via gateway web-1' ||
  fail "the referral's history does not say it came via gateway web-1"
echo "PASS"
