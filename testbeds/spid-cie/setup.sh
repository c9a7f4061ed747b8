#!/usr/bin/env bash
# Creates (idempotently) the Python venv for the SPID/CIE test federation.
# Prints the venv path on stdout. Quiet otherwise unless something fails.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
VENV="$CACHE/spid-cie-venv"
PY="${PYTHON:-python3}"
PKGS=(spid-cie-oidc==1.6.3 design-django-theme==2.18.1)
STAMP="$VENV/.palazzo-pins"
WANT="${PKGS[*]}"

mkdir -p "$CACHE"
# keep the cache out of git without touching the top-level .gitignore
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && "$VENV/bin/python" -c 'import spid_cie_oidc, bootstrap_italia_template, django' 2>/dev/null; then
  echo "$VENV"; exit 0
fi

command -v "$PY" >/dev/null || { echo "setup.sh: $PY not found" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "setup.sh: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
LOG="$CACHE/spid-cie-pip.log"
if ! "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_NO_CACHE:+--no-cache-dir} "${PKGS[@]}" >"$LOG" 2>&1; then
  echo "setup.sh: pip install failed, see $LOG:" >&2; tail -n 30 "$LOG" >&2; rm -rf "$VENV"; exit 1
fi
printf '%s' "$WANT" > "$STAMP"
echo "$VENV"
