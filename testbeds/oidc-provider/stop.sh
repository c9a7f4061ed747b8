#!/usr/bin/env bash
# Stop the server started by start.sh <state_dir> (by its PID). Idempotent.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: stop.sh <state_dir>" >&2; exit 1; }
F="$1/oidc-provider.pid"
[ -f "$F" ] || exit 0
PID="$(cat "$F")"
if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null \
   && ps -o args= -p "$PID" 2>/dev/null | grep -q "server.mjs"; then
  kill "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PID" 2>/dev/null || true
fi
rm -f "$F"
