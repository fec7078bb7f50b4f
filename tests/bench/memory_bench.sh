#!/usr/bin/env bash
# Redis memory per waiting referral, and where it goes: imports ROWS
# impulse referrals (`slussctl referrals import`, each waiting in region
# 13's funktionsbrevlåda queue with its response clock) into a fresh Redis
# (the project's deploy/redis/slussen.conf) and prints `used_memory` before
# and after, then the memory of each kind of key (MEMORY USAGE ... SAMPLES 0,
# exact) divided by the referrals, largest first; then the same referrals
# with each referral's hash and its clocks' hashes as one hash without the
# names their keys say (memory_fold.lua, into database 1): the layout
# named as the way to a smaller referral, measured as a size.
#
# Usage: tests/bench/memory_bench.sh   (from the project root after
#        ./dev build)
# Environment: ROWS=5000 (referrals), KEEP=1 (leave the Redis running and
#              print its socket, to look further)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rows=${ROWS:-5000}
source "$(dirname "$0")/bench_lib.sh"
ctl="$root/build/slussctl"

rd="$work/redis"
mkdir -p "$rd"
(cd "$rd" && exec redis-server "$root/deploy/redis/slussen.conf" --unixsocket "$rd/redis.sock" \
  --dir "$rd" --logfile "$rd/redis.log" --daemonize no) &
started+=("$!")
cli() { redis-cli -s "$rd/redis.sock" "$@"; }
for _ in $(seq 100); do cli ping >/dev/null 2>&1 && break; sleep 0.1; done
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$rd/pnr.key")
port=$(free_port)
"$root/build/slussen" --listen="127.0.0.1:$port" --redis="unix:$rd/redis.sock" \
  --pnr_key_file="$rd/pnr.key" --log_level=warning --rate_limit_per_second=1000000 \
  --rate_limit_burst=1000000 >"$work/broker.log" 2>&1 &
started+=("$!")
for _ in $(seq 200); do "$ctl" --server="127.0.0.1:$port" --timeout=1 health >/dev/null 2>&1 && break; sleep 0.1; done
"$ctl" --server="127.0.0.1:$port" --org=slussen-admin --role=admin \
  catalog apply "$root"/providers/catalog/*.textproto >/dev/null

python3 - "$work/rows.csv" "$rows" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("impulse.kommun_code;impulse.need_category;impulse.call_back.display_name;impulse.call_back.phone\n")
    for i in range(int(sys.argv[2])):
        f.write(f"1380;sick-without-qualifying-income;Handläggare {i};035-{i:06d}\n")
PY

used() { cli info memory | awk -F: '/^used_memory:/ { print $2 + 0 }'; }
before=$(used)
"$ctl" --server="127.0.0.1:$port" --org=kommun-halmstad-eb --region=13 \
  referrals import "$work/rows.csv" --parallel=8 --json --result="$work/result.csv" >/dev/null
after=$(used)
waiting=$(cli zcard 'slussen:{r13}:matchable')
echo "referrals waiting: $waiting of $rows imported"
echo "used_memory: $before -> $after: $(((after - before) / rows)) B a referral"

# Each key's memory under a pattern with the ids and names taken out.
cli --scan --pattern 'slussen:*' >"$work/keys"
while read -r key; do
  printf '%s\t%s\n' "$key" "$(cli memory usage "$key" samples 0)"
done <"$work/keys" >"$work/sizes"
python3 - "$work/sizes" "$rows" <<'PY'
import re, sys, collections
sizes = collections.Counter()
counts = collections.Counter()
for line in open(sys.argv[1]):
    key, size = line.rstrip("\n").split("\t")
    kind = re.sub(r"^slussen:\{[^}]*\}:", "", key)
    kind = re.sub(r"(referral|clock|idem|offer|clocks:referral):.*", r"\1:<id>", kind)
    kind = re.sub(r"(participant|pnr|open):.*", r"\1:<...>", kind)
    kind = re.sub(r"referrals:org:.*", "referrals:org:<org>", kind)
    if key.startswith("slussen:{dir}"):
        kind = "directory"
    if kind.startswith("offering"):
        kind = "offering(s)"
    sizes[kind] += int(size or 0)
    counts[kind] += 1
rows = int(sys.argv[2])
print(f"{'key':28} {'keys':>7} {'bytes':>11} {'a referral':>10}")
for kind, size in sizes.most_common():
    print(f"{kind:28} {counts[kind]:7d} {size:11d} {size / rows:10.0f}")
print(f"{'all':28} {sum(counts.values()):7d} {sum(sizes.values()):11d} {sum(sizes.values()) / rows:10.0f}")
PY

# The layout named as the way to the goal, as a size: each referral's hash
# and its clocks' hashes as one hash, without the names their keys say
# (memory_fold.lua writes them into database 1).
cli --eval "$root/tests/bench/memory_fold.lua" 'slussen:{r13}:referrals' , 'slussen:{r13}:' 'regions/13/' >/dev/null
folded=0
for key in $(cli -n 1 --scan --pattern 'slussen:*'); do
  folded=$((folded + $(cli -n 1 memory usage "$key" samples 0)))
done
python3 - "$work/sizes" "$rows" "$folded" <<'PY'
import re, sys
rows, folded = int(sys.argv[2]), int(sys.argv[3])
now = every = 0
for line in open(sys.argv[1]):
    key, size = line.rstrip("\n").split("\t")
    every += int(size or 0)
    if re.match(r"^slussen:\{r13\}:(referral|clock):", key):
        now += int(size or 0)
print(f"referral:<id> and clock:<id> folded into one hash without the names their keys say: "
      f"{folded / rows:.0f} B a referral against {now / rows:.0f} B; all keys so: "
      f"{(every - now + folded) / rows:.0f} B a referral")
PY
if [[ -n ${KEEP:-} ]]; then
  echo "Redis left at $rd/redis.sock; Ctrl-C ends it"
  wait
fi
