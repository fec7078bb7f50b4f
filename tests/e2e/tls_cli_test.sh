#!/usr/bin/env bash
# Mutual TLS as a user sets it up: `./dev certs` makes the certificates, the
# broker runs with --tls_cert_file, --tls_key_file, --tls_client_ca_file and
# an admin port, slussctl talks to it with --certs (or the three file
# flags). The identity is the certificate's: --org and headers do not
# change it. A client without a certificate gets nothing; the admin port
# answers health in plaintext. The broker refuses half the TLS flags, and
# plaintext on a non-loopback address unless forced (then it warns).
#
# The provider agent publishes with the provider's certificate.
#
# Usage: tls_cli_test.sh SLUSSEN SLUSSCTL AGENT
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 AGENT=$3
certs="$TEST_TMP/certs"

"$SLUSSEN_ROOT/dev" certs "$certs" >"$TEST_TMP/certs.log" 2>&1 ||
  fail "./dev certs: $(cat "$TEST_TMP/certs.log")"
for f in ca.pem server.pem server.key agency-kommun-halmstad-eb.pem \
  agency-kommun-laholm-eb.key provider-fk-lfc-halmstad.pem \
  coordinator-samordning-halland.pem admin-slussen-admin.key; do
  [ -s "$certs/$f" ] || fail "./dev certs made no $f"
done
[ "$(stat -c %a "$certs/server.key")" = 600 ] || fail "server.key is not mode 600"
openssl x509 -in "$certs/coordinator-samordning-halland.pem" -noout -ext subjectAltName |
  grep -q 'URI:urn:slussen:coordinator:samordning-halland:13' ||
  fail "the coordinator's certificate does not name it"

start_redis "$TEST_TMP/redis"
make_key "$TEST_TMP/pnr.key"
BROKER_PORT=$(free_port)
admin_port=$(free_port)
"$SLUSSEN" --listen="127.0.0.1:$BROKER_PORT" \
  --redis="unix:$TEST_TMP/redis/redis.sock" --pnr_key_file="$TEST_TMP/pnr.key" \
  --tls_cert_file="$certs/server.pem" --tls_key_file="$certs/server.key" \
  --tls_client_ca_file="$certs/ca.pem" --admin_listen="127.0.0.1:$admin_port" \
  2>>"$TEST_TMP/broker.log" &
TEST_PIDS+=($!)
# Health in plaintext on the admin port.
wait_healthy "$SLUSSCTL" "$admin_port"
grep -q '"identity":"mutual TLS' "$TEST_TMP/broker.log" ||
  fail "the broker does not say it serves mutual TLS: $(tail -3 "$TEST_TMP/broker.log")"

ctl=("$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --certs="$certs")
"${ctl[@]}" --role=admin --org=slussen-admin catalog apply \
  "$SLUSSEN_ROOT"/providers/catalog/*.textproto >"$TEST_TMP/catalog.log" 2>&1 ||
  fail "loading the catalogue as the admin: $(cat "$TEST_TMP/catalog.log")"

# The agency's certificate, with a header-style --region (still the
# commands' default region) and a staff handle.
name=$("${ctl[@]}" --org=kommun-halmstad-eb --person=anna.b referrals create impulse \
  --kommun=1380 --need=coordinated-rehabilitation --call-back-name="Anna Berg" \
  --call-back-phone="035-13 70 00" --quiet) || fail "the agency could not create"
"${ctl[@]}" --org=kommun-halmstad-eb referrals get "$name" >"$TEST_TMP/get.txt" ||
  fail "the agency does not see its referral"
grep -q 'referring organisation  kommun-halmstad-eb' "$TEST_TMP/get.txt" ||
  fail "the referral is not the certificate's organisation's: $(cat "$TEST_TMP/get.txt")"
grep -q 'by kommun-halmstad-eb (agency)' "$TEST_TMP/get.txt" ||
  fail "the history does not name the certificate's organisation"

# Another agency's certificate: NOT_FOUND (exit 1).
set +e
"${ctl[@]}" --org=kommun-laholm-eb referrals get "$name" 2>"$TEST_TMP/err.txt"
code=$?
set -e
[ "$code" = 1 ] && grep -q NOT_FOUND "$TEST_TMP/err.txt" ||
  fail "another agency saw the referral (exit $code): $(cat "$TEST_TMP/err.txt")"

# The three file flags instead of --certs, as the region's coordinator.
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --tls_ca_file="$certs/ca.pem" \
  --tls_cert_file="$certs/coordinator-samordning-halland.pem" \
  --tls_key_file="$certs/coordinator-samordning-halland.key" \
  referrals list --region=13 --quiet | grep -qx "$name" ||
  fail "the coordinator does not see its region's referral"

# The README's example: the coordinator's worklist, the region taken from
# its certificate (urn:slussen:coordinator:samordning-halland:13).
"${ctl[@]}" --role=coordinator --org=samordning-halland worklist \
  --due-within-hours=2000 >"$TEST_TMP/worklist.txt" 2>&1 ||
  fail "the coordinator's worklist without --region: $(cat "$TEST_TMP/worklist.txt")"
grep -q "kommun-halmstad-eb" "$TEST_TMP/worklist.txt" ||
  fail "the worklist lacks the impulse's call-back clock: $(cat "$TEST_TMP/worklist.txt")"

# No client certificate: refused whatever --org says.
set +e
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --tls_ca_file="$certs/ca.pem" \
  --org=kommun-halmstad-eb --timeout=2 referrals get "$name" 2>"$TEST_TMP/err.txt"
code=$?
set -e
[ "$code" = 1 ] || fail "a client without a certificate got through (exit $code)"
# Plaintext to the TLS port: refused too.
set +e
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=kommun-halmstad-eb --timeout=2 \
  referrals get "$name" 2>/dev/null
code=$?
set -e
[ "$code" = 1 ] || fail "a plaintext client got through (exit $code)"

# A --certs without --org is a usage error.
set +e
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --certs="$certs" referrals list \
  2>"$TEST_TMP/err.txt"
code=$?
set -e
[ "$code" = 2 ] && grep -q -- '--certs needs --org' "$TEST_TMP/err.txt" ||
  fail "--certs without --org: exit $code, $(cat "$TEST_TMP/err.txt")"

# The broker's own refusals.
key="$TEST_TMP/pnr.key"
set +e
"$SLUSSEN" --listen=127.0.0.1:0 --redis="unix:$TEST_TMP/redis/redis.sock" \
  --pnr_key_file="$key" --tls_cert_file="$certs/server.pem" 2>"$TEST_TMP/half.log"
code=$?
set -e
[ "$code" = 2 ] && grep -q 'all three or none' "$TEST_TMP/half.log" ||
  fail "half the TLS flags: exit $code, $(cat "$TEST_TMP/half.log")"
set +e
"$SLUSSEN" --listen=0.0.0.0:0 --redis="unix:$TEST_TMP/redis/redis.sock" \
  --pnr_key_file="$key" 2>"$TEST_TMP/remote.log"
code=$?
set -e
[ "$code" = 1 ] && grep -q 'insecure_allow_remote' "$TEST_TMP/remote.log" ||
  fail "plaintext on 0.0.0.0: exit $code, $(cat "$TEST_TMP/remote.log")"
# Forced, on an address of no interface here (TEST-NET-1), so that nothing
# is opened: the warning comes before the bind fails.
set +e
"$SLUSSEN" --listen=192.0.2.1:0 --insecure_allow_remote \
  --redis="unix:$TEST_TMP/redis/redis.sock" --pnr_key_file="$key" \
  2>"$TEST_TMP/forced.log"
set -e
grep -q '"level":"warning".*INSECURE' "$TEST_TMP/forced.log" ||
  fail "no warning when forced: $(cat "$TEST_TMP/forced.log")"
set +e
"$SLUSSEN" --listen=127.0.0.1:0 --admin_listen=0.0.0.0:0 \
  --redis="unix:$TEST_TMP/redis/redis.sock" --pnr_key_file="$key" \
  2>"$TEST_TMP/admin.log"
code=$?
set -e
[ "$code" = 1 ] && grep -q 'admin port on 0.0.0.0:0' "$TEST_TMP/admin.log" ||
  fail "admin port on 0.0.0.0: exit $code, $(cat "$TEST_TMP/admin.log")"
# The provider agent with FK's certificate: its funktionsbrevlåda's
# caseload from a CSV; another provider's offering is not FK's to publish.
printf 'start_date;cases\n2026-01-01;25\n' >"$TEST_TMP/brevlada.csv"
"$AGENT" --server="127.0.0.1:$BROKER_PORT" --certs="$certs" --org=fk-lfc-halmstad --once \
  --offering=providers/fk-lfc-halmstad/offerings/brevlada --schedule="$TEST_TMP/brevlada.csv" \
  2>"$TEST_TMP/agent.log" || fail "the agent over mutual TLS: $(cat "$TEST_TMP/agent.log")"
"${ctl[@]}" --role=provider --org=fk-lfc-halmstad offerings list --provider=providers/fk-lfc-halmstad |
  grep -q "cases [0-9]*/25" || fail "the caseload was not published"
if "$AGENT" --server="127.0.0.1:$BROKER_PORT" --certs="$certs" --org=fk-lfc-halmstad --once \
  --offering=providers/halsosam-halmstad/offerings/kom-igang --schedule="$TEST_TMP/brevlada.csv" \
  2>"$TEST_TMP/agent.log"; then
  fail "FK's certificate published Hälsosam's capacity"
fi
grep -q NOT_FOUND "$TEST_TMP/agent.log" || fail "not NOT_FOUND: $(cat "$TEST_TMP/agent.log")"
echo "PASS"
