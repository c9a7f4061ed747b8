#!/usr/bin/env bash
# Creates (idempotently) the Python venv with the independent PDF tools the
# receipt tests use: pikepdf (qpdf) to check the PDF/A-3 structure (XMP
# pdfaid, OutputIntent, embedded fonts, associated file with
# AFRelationship) and pypdf to extract the visible text. Prints the venv's
# python on stdout; quiet otherwise. Same pattern as testbeds/xml/setup.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
VENV="$CACHE/pdf-venv"
PY="${PYTHON:-python3}"
PKGS=(pikepdf==10.18.0 pypdf==7.1.1)
STAMP="$VENV/.palazzo-pins"
WANT="${PKGS[*]}"

mkdir -p "$CACHE"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && "$VENV/bin/python" -c 'import pikepdf, pypdf' 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi

command -v "$PY" >/dev/null || { echo "pdf/setup.sh: $PY not found" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "pdf/setup.sh: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
LOG="$CACHE/pdf-pip.log"
if ! "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_NO_CACHE:+--no-cache-dir} "${PKGS[@]}" >"$LOG" 2>&1; then
  echo "pdf/setup.sh: pip install failed, see $LOG:" >&2; tail -n 30 "$LOG" >&2; rm -rf "$VENV"; exit 1
fi
printf '%s' "$WANT" > "$STAMP"
echo "$VENV/bin/python"
