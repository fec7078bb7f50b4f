#!/usr/bin/env bash
# The broker and the gateway answer --help (and -h) with their own flags
# (absl's default listed none: "No flags matched") and --version with the
# version and the commit they were built from, without serving. (--help
# exits with status 1, as absl's does; --version with 0.)
#
# Usage: program_help_test.sh SLUSSEN SLUSSEN_WEB
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1
WEB=$2

# shows STATUS PROGRAM FLAG EXPECTED...: `PROGRAM FLAG` exits with STATUS
# and prints each EXPECTED.
shows() {
  local status=$1 program=$2 flag=$3
  shift 3
  local out got=0
  out=$(timeout 10 "$program" "$flag" 2>&1) || got=$?
  [[ $got == "$status" ]] ||
    fail "$(basename "$program") $flag exited $got, not $status: $out"
  for expected in "$@"; do
    grep -q -- "$expected" <<<"$out" ||
      fail "$(basename "$program") $flag: no \"$expected\" in: $out"
  done
  if grep -q "No flags matched" <<<"$out"; then
    fail "$(basename "$program") $flag: lists no flags"
  fi
}

shows 1 "$SLUSSEN" --help "--listen" "--redis" "--rate_limit_per_second" \
  "Flags from broker/server/broker_flags.cc"
shows 1 "$SLUSSEN" -h "--listen"
shows 0 "$SLUSSEN" --version "^slussen [0-9][0-9.]* (commit [0-9a-z-]*)$"
shows 1 "$WEB" --help "--brokers" "--users_file" \
  "Flags from clients/web/web_main.cc"
shows 1 "$WEB" -h "--brokers"
shows 0 "$WEB" --version "^slussen-web [0-9][0-9.]* (commit [0-9a-z-]*)$"
echo "PASS program_help"
