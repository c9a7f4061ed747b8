#!/usr/bin/env bash
# Creates (idempotently) the Python venv of the local pagoPA GPD simulator:
# openapi-core (validates every request and response against the contract),
# Werkzeug (the HTTP server) and pytest, all pinned in requirements.txt.
# Prints the venv's python on stdout; quiet otherwise. server.py is started
# per test (test_server.py here, palazzo_testkit::gpd for the Rust tests).
# Same pattern as testbeds/smtp/setup.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
VENV="$CACHE/gpd-venv"
PY="${PYTHON:-python3}"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.palazzo-pins"
WANT="$(sha256sum "$REQ" | cut -d' ' -f1)"

mkdir -p "$CACHE"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

# Parallel test processes may call this at once: one creates, the others wait.
exec 9>"$CACHE/gpd-venv.lock"
flock 9
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && "$VENV/bin/python" -c 'import openapi_core, werkzeug, pytest' 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi

command -v "$PY" >/dev/null || { echo "gpd/setup.sh: $PY not found" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "gpd/setup.sh: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
LOG="$CACHE/gpd-pip.log"
if ! "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_NO_CACHE:+--no-cache-dir} -r "$REQ" >"$LOG" 2>&1; then
  echo "gpd/setup.sh: pip install failed, see $LOG:" >&2; tail -n 30 "$LOG" >&2; rm -rf "$VENV"; exit 1
fi
printf '%s' "$WANT" > "$STAMP"
echo "$VENV/bin/python"
