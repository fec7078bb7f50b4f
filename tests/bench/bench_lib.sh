# Shared by the shell benchmarks: a work directory ($work) and the
# processes started ($started, append each pid), both gone when the
# script exits; free_port; build_shared_bench; start_broker_with_impulse.
# Source it after `set -euo pipefail`, with $root the project's root.
work=$(mktemp -d)
started=()
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
  local p
  for p in "${started[@]}"; do stop "$p"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Builds ../shared/bench (echo, relay, loadgen) into $work/bench.
build_shared_bench() {
  cmake -S "$root/../shared/bench" -B "$work/bench" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 &&
    cmake --build "$work/bench" -j"$(nproc)" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
}

# start_broker_with_impulse BINARY DIR: a fresh Redis in DIR (the project's
# config, appendfsync always) and the broker BINARY on it, with the sample
# catalogue and one impulse referral of region 13. Sets redis_pid,
# broker_pid, broker_port and impulse (the referral's name).
start_broker_with_impulse() {
  local binary=$1 rd=$2 ctl="$root/build/slussctl"
  mkdir -p "$rd"
  (cd "$rd" && exec redis-server "$root/deploy/redis/slussen.conf" --unixsocket "$rd/redis.sock" \
    --dir "$rd" --logfile "$rd/redis.log" --appendfsync always --daemonize no) &
  redis_pid=$!; started+=("$redis_pid")
  for _ in $(seq 100); do redis-cli -s "$rd/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$rd/pnr.key")
  broker_port=$(free_port)
  "$binary" --listen="127.0.0.1:$broker_port" --redis="unix:$rd/redis.sock" --pnr_key_file="$rd/pnr.key" \
    --log_level=warning >"$rd/broker.log" 2>&1 &
  broker_pid=$!; started+=("$broker_pid")
  for _ in $(seq 100); do "$ctl" --server="127.0.0.1:$broker_port" --timeout=1 health >/dev/null 2>&1 && break; sleep 0.1; done
  "$ctl" --server="127.0.0.1:$broker_port" --org=slussen-admin --role=admin \
    catalog apply "$root"/providers/catalog/*.textproto >/dev/null
  impulse=$(SLUSSEN_ORG=kommun-halmstad-eb SLUSSEN_REGION=13 "$ctl" --server="127.0.0.1:$broker_port" \
    referrals create impulse --kommun=1380 --need=coordinated-rehabilitation \
    --call-back-name="Anna Berg" --call-back-phone="035-13 70 00" --quiet)
}
