#!/usr/bin/env bash
# Creates (idempotently) the Python venv of the test SMTP server: aiosmtpd
# from PyPI, pinned. Prints the venv's python on stdout; quiet otherwise.
# server.py (started per test by palazzo_testkit::smtp) receives the
# messages Palazzo sends and writes each one, with its envelope, to a
# directory. Same pattern as testbeds/pdf/setup.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
VENV="$CACHE/smtp-venv"
PY="${PYTHON:-python3}"
PKGS=(aiosmtpd==1.4.6)
STAMP="$VENV/.palazzo-pins"
WANT="${PKGS[*]}"

mkdir -p "$CACHE"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

# Parallel test processes may call this at once: one creates, the others wait.
exec 9>"$CACHE/smtp-venv.lock"
flock 9
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && "$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi

command -v "$PY" >/dev/null || { echo "smtp/setup.sh: $PY not found" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "smtp/setup.sh: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
LOG="$CACHE/smtp-pip.log"
if ! "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_NO_CACHE:+--no-cache-dir} "${PKGS[@]}" >"$LOG" 2>&1; then
  echo "smtp/setup.sh: pip install failed, see $LOG:" >&2; tail -n 30 "$LOG" >&2; rm -rf "$VENV"; exit 1
fi
printf '%s' "$WANT" > "$STAMP"
echo "$VENV/bin/python"
