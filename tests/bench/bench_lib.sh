# Shared by the shell benchmarks: a work directory ($work) and the
# processes started ($started, append each pid), both gone when the
# script exits; free_port. Source it after `set -euo pipefail`.
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
