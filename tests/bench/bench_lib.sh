# Shared by the shell benchmarks: a work directory ($work) and the
# processes started ($started, append each pid), both gone when the
# script exits; free_port; build_shared_bench; start_broker_with_impulse;
# encode_impulse_create; load_run; print_medians; start_bound_run;
# capture_create_call.
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

# capture_create_call: after start_bound_run, with $create the loadgen
# arguments of a create: the change script as the broker sends it
# ($work/lua/change.lua, includes expanded) and a waiting create's call of
# it, the last script call that writes a referral and no offer (redis-cli
# MONITOR): $work/create.template (a line with the referral id, then the
# call's arguments from its count of keys on, each a line with its length
# and a line with its bytes) and $work/create.calls (the Redis commands the
# script ran for it, each a line with its count of arguments and then
# those as in the template).
capture_create_call() {
  cmake -DSOURCE_DIR="$root" -DOUT_DIR="$work/lua" -P "$root/cmake/embed_lua.cmake" >/dev/null
  redis-cli -s "$rd/redis.sock" MONITOR >"$work/monitor.txt" &
  local monitor_pid=$!; started+=("$monitor_pid")
  sleep 0.3
  "$work/bench/loadgen" --concurrency=1 --channels=1 --warmup=0 --duration=1 \
    --target="127.0.0.1:$broker_port" "${create[@]}" >/dev/null
  sleep 0.3
  stop "$monitor_pid"
  python3 - "$work/monitor.txt" "$work/create.template" "$work/create.calls" <<'PY'
import re, sys
def unquote(text):  # redis-cli MONITOR's quoting (sdscatrepr)
    out, i = bytearray(), 0
    simple = {'n': 10, 'r': 13, 't': 9, 'a': 7, 'b': 8, '\\': 92, '"': 34}
    while i < len(text):
        c = text[i]
        if c == '\\':
            if text[i + 1] == 'x':
                out.append(int(text[i + 2:i + 4], 16)); i += 4; continue
            out.append(simple[text[i + 1]]); i += 2; continue
        out += c.encode(); i += 1
    return bytes(out)
chosen, calls, current = None, [], None
for line in open(sys.argv[1], encoding='utf-8', errors='surrogateescape'):
    args = [unquote(a) for a in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]
    if '[0 lua]' in line:
        if current is not None:
            current.append(args)
        continue
    current = None
    if '"EVALSHA"' not in line:
        continue
    keys = args[3:3 + int(args[2])]
    if re.search(rb':referral:[0-9A-Z]{26}$', keys[0]) and not any(b':offer:' in k for k in keys):
        chosen, calls = args, []
        current = calls
if chosen is None:
    sys.exit('no waiting create seen in MONITOR')
referral_id = chosen[3].rsplit(b':', 1)[1]
with open(sys.argv[2], 'wb') as out:
    out.write(referral_id + b'\n')
    for arg in chosen[2:]:
        out.write(b'%d\n' % len(arg) + arg + b'\n')
with open(sys.argv[3], 'wb') as out:
    for call in calls:
        out.write(b'%d\n' % len(call))
        for arg in call:
            out.write(b'%d\n' % len(arg) + arg + b'\n')
PY
}

# encode_impulse_create FILE: the CreateReferralRequest of an impulse into
# region 13 that the create benchmarks send (as kommun-halmstad-eb).
encode_impulse_create() {
  protoc -I "$root/protos" --encode=slussen.v1.CreateReferralRequest \
    "$root/protos/slussen/v1/referral_service.proto" >"$1" <<'PB'
parent: "regions/13"
referral { impulse {
  call_back { display_name: "Anna Berg" unit: "Ekonomiskt bistånd" phone: "035-13 70 00" }
  kommun_code: "1380" need_category: NEED_CATEGORY_SICK_WITHOUT_QUALIFYING_INCOME } }
PB
}

# load_run NAME PIDS LOADGEN_ARGS...: one run of the shared loadgen at
# $conc in flight for $seconds, watching PIDS; its line goes to
# $work/results.txt under NAME, a summary to stdout.
load_run() {
  local name=$1 pids=$2 line
  shift 2
  line=$("$work/bench/loadgen" --concurrency="$conc" --channels=4 --warmup=1 --duration="$seconds" \
    --watch_pids="$pids" "$@" | tail -1)
  echo "$name $line" >>"$work/results.txt"
  echo "$name: $(echo "$line" | grep -o 'calls_per_s=[0-9]*\|errors=[0-9]*\|p99_us=[0-9.]*\|cpu_us_per_call.watched=[0-9.]*' | tr '\n' ' ')"
}

# print_medians BASELINE BARE: each NAME's median calls/s and CPU a call
# over the runs in $work/results.txt, and its share of BASELINE's and of
# BARE's median calls/s.
print_medians() {
  python3 - "$work/results.txt" "$1" "$2" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rest = line.split(' ', 1)
    value = lambda key: float(re.search(key + r'=([0-9.]+)', rest).group(1))
    runs.setdefault(name, []).append((value('calls_per_s'), value('cpu_us_per_call.watched')))
baseline = statistics.median(c for c, _ in runs[sys.argv[2]])
bare = statistics.median(c for c, _ in runs[sys.argv[3]])
for name, got in runs.items():
    calls = statistics.median(c for c, _ in got)
    cpu = statistics.median(u for _, u in got)
    print(f'median {name}: {calls:.0f} calls/s, {cpu:.1f} CPU µs a call, '
          f'{100 * calls / baseline:.0f} % of {sys.argv[2]}, {100 * calls / bare:.0f} % of {sys.argv[3]}')
PY
}

# start_bound_run BROKER_BINARY: what the bound scripts (get_bound.sh,
# create_bound.sh) start with: both binaries built, the shared bench, and
# the broker on a fresh Redis in $work/redis with an impulse. Sets broker,
# bare (bare_get) and rd, besides start_broker_with_impulse's variables.
start_bound_run() {
  broker=$1 bare="$root/build/tests/bench/bare_get"
  [ -x "$broker" ] && [ -x "$bare" ] || { echo "build first (./dev build)" >&2; exit 2; }
  build_shared_bench
  rd="$work/redis"
  start_broker_with_impulse "$broker" "$rd"
}
