#!/usr/bin/env bash
# deploy/monitoring: the alert rules pass `promtool check rules` and their
# unit tests (alerts_test.yml), and every metric the rules and the Grafana
# dashboard ask for is one the broker exports (broker/service/metrics.h).
#
# Usage: monitoring_test.sh SOURCE_DIR
set -euo pipefail
src=$1
dir="$src/deploy/monitoring"
command -v promtool >/dev/null || { echo "FAIL: no promtool (Debian's prometheus; ./dev install)"; exit 1; }
promtool check rules "$dir/alerts.yml"
(cd "$dir" && promtool test rules alerts_test.yml)
/usr/bin/python3 - "$dir" "$src/broker/service/metrics.h" <<'PY'
import json, re, sys
monitoring, header = sys.argv[1], sys.argv[2]
# Each metric's entry: its line and the lines that go on describing it.
entries = re.findall(r"^//\s+(slussen_[a-z_]+)(.*(?:\n//\s{20,}.*)*)",
                     open(header).read(), re.M)
exported = {name for name, _ in entries}
histograms = {name for name, text in entries
              if name.endswith("_seconds") or "histogram" in text}
known = exported | {f"{h}_{s}" for h in histograms for s in ("bucket", "sum", "count")} | {"up"}
exprs = re.findall(r"expr:\s*(?:\|\s*)?\n?((?:.|\n)*?)(?=\n\s+(?:for|labels):)", open(f"{monitoring}/alerts.yml").read())
dashboard = json.load(open(f"{monitoring}/grafana-dashboard.json"))
exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
problems = []
for expr in exprs:
    for name in re.findall(r"\b(slussen_[a-z_]+|up)\b(?=\s*[{\[(]|\s*\)|\s*==|\s*>)", expr):
        if name not in known:
            problems.append(f"{name} (in {expr.strip()[:60]}...) is not exported")
if not exprs or len(exported) < 5:
    problems.append(f"read too little: {len(exprs)} expressions, {len(exported)} metrics")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PY
echo "PASS"
