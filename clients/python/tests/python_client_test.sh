#!/usr/bin/env bash
# The Python client against the real broker on a private Redis: the example
# session (clients/python/examples/session.py) in development identity mode
# and again over mutual TLS with the certificates of `./dev certs`, then the
# unit tests (test_client.py), which also need a second broker with a rate
# limit of one call in two seconds.
#
# Usage: python_client_test.sh SLUSSEN SLUSSCTL GENERATED [PYTHON]
#   GENERATED  the directory the build generated the gRPC modules into
#              (build/python: slussen/v1/*_pb2*.py, google/{rpc,api}/*_pb2.py)
#   PYTHON     a Python 3 that sees Debian's python3-grpcio and
#              python3-protobuf (/usr/bin/python3)
source "$(dirname "$0")/../../../tests/e2e/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 GENERATED=$3 PYTHON=${4:-/usr/bin/python3}
CLIENT="$SLUSSEN_ROOT/clients/python"

[ -f "$GENERATED/slussen/v1/referral_service_pb2_grpc.py" ] ||
  fail "no generated modules in $GENERATED (the build's slussen_python target writes them)"
"$PYTHON" -c 'import grpc, google.protobuf' 2>"$TEST_TMP/python.log" ||
  fail "$PYTHON lacks python3-grpcio or python3-protobuf (./dev install): $(cat "$TEST_TMP/python.log")"
export PYTHONPATH="$CLIENT:$GENERATED"
# Nothing written into the source tree.
export PYTHONDONTWRITEBYTECODE=1

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"
server="127.0.0.1:$BROKER_PORT"

echo "+ session.py --server $server"
"$PYTHON" "$CLIENT/examples/session.py" --server "$server" ||
  fail "the example session failed (broker log: $(tail -5 "$TEST_TMP/broker.log"))"

# A second broker on the same Redis, with a burst of one call.
BROKER_FLAGS=(--rate_limit_per_second=0.5 --rate_limit_burst=1)
start_broker "$SLUSSEN" "$SLUSSCTL"
rate_limited="127.0.0.1:$BROKER_PORT"
BROKER_FLAGS=()

echo "+ python3 -m unittest discover -s clients/python/tests"
if ! SLUSSEN_SERVER="$server" SLUSSEN_RATE_LIMITED_SERVER="$rate_limited" \
  "$PYTHON" -m unittest discover -s "$CLIENT/tests" -v 2>&1 |
  tee "$TEST_TMP/unittest.log"; then
  fail "the Python client's unit tests failed"
fi
! grep -q 'skipped' "$TEST_TMP/unittest.log" || fail "a unit test was skipped"

# Mutual TLS: a third broker on the same Redis, naming callers by their
# client certificates; health on a plaintext admin port.
"$SLUSSEN_ROOT/dev" certs "$TEST_TMP/certs" >"$TEST_TMP/certs.log" 2>&1 ||
  fail "./dev certs: $(cat "$TEST_TMP/certs.log")"
tls_port=$(free_port)
admin_port=$(free_port)
"$SLUSSEN" --listen="127.0.0.1:$tls_port" \
  --redis="unix:$TEST_TMP/redis/redis.sock" --pnr_key_file="$TEST_TMP/pnr.key" \
  --tls_cert_file="$TEST_TMP/certs/server.pem" \
  --tls_key_file="$TEST_TMP/certs/server.key" \
  --tls_client_ca_file="$TEST_TMP/certs/ca.pem" \
  --admin_listen="127.0.0.1:$admin_port" 2>>"$TEST_TMP/broker.log" &
BROKER_PID=$!
TEST_PIDS+=("$BROKER_PID")
wait_healthy "$SLUSSCTL" "$admin_port"

echo "+ session.py --server 127.0.0.1:$tls_port --certs CERTS"
"$PYTHON" "$CLIENT/examples/session.py" --server "127.0.0.1:$tls_port" \
  --certs "$TEST_TMP/certs" ||
  fail "the example session over mutual TLS failed (broker log: $(tail -5 "$TEST_TMP/broker.log"))"
echo "PASS: the Python client works against the broker"
