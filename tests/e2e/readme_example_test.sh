#!/usr/bin/env bash
# Runs the example session of README.md exactly as printed: the lines
# between <!-- example:begin --> and <!-- example:end --> that start with
# "$ " (continued by lines starting with "> "), in one shell, against a
# broker on a private Redis. Every command must succeed.
#
# Usage: readme_example_test.sh SLUSSEN SLUSSCTL README
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 README=$3

script=$(awk '
  /<!-- example:begin/ { inside = 1; next }
  /<!-- example:end/ { inside = 0 }
  inside && /^\$ / { if (cmd != "") print cmd; cmd = substr($0, 3); next }
  inside && /^> / && cmd != "" { cmd = cmd "\n" substr($0, 3); next }
  inside && cmd != "" { print cmd; cmd = "" }
  END { if (cmd != "") print cmd }
' "$README")
[ -n "$script" ] || fail "no example session found in $README"
[ "$(grep -c 'slussctl' <<<"$script")" -ge 3 ] || fail "the example has fewer than three slussctl commands"

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
load_catalog "$SLUSSCTL"

# The README runs build/slussctl from the repository root.
mkdir -p "$TEST_TMP/root/build"
ln -s "$SLUSSCTL" "$TEST_TMP/root/build/slussctl"
cd "$TEST_TMP/root"
export SLUSSEN_SERVER="127.0.0.1:$BROKER_PORT"

echo "$script" | while IFS= read -r line; do echo "+ $line"; done
bash -euo pipefail -c "$script" || fail "the README example failed (broker log: $(tail -5 "$TEST_TMP/broker.log"))"
echo "PASS: the README example works as printed"
