#!/usr/bin/env bash
# Stop the servers started by start.sh <state_dir> (by the PIDs it wrote). Idempotent.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: stop.sh <state_dir>" >&2; exit 1; }
STATE="$1"
for f in "$STATE"/ta.pid "$STATE"/cie.pid; do
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
     && ps -o args= -p "$pid" 2>/dev/null | grep -q "manage.py runserver"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
