#!/usr/bin/env bash
# Creates (idempotently) the Python venv with the independent XML tools the
# segnatura tests use: xmlschema (XSD 1.0 validation against the AgID
# schemas) and signxml (XML-DSig / XAdES verification), with lxml for
# canonicalisation. Prints the venv's python on stdout; quiet otherwise.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
VENV="$CACHE/xml-venv"
PY="${PYTHON:-python3}"
PKGS=(xmlschema==4.3.2 signxml==5.2.0 lxml==6.1.3)
STAMP="$VENV/.palazzo-pins"
WANT="${PKGS[*]}"

mkdir -p "$CACHE"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && "$VENV/bin/python" -c 'import xmlschema, signxml, lxml' 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi

command -v "$PY" >/dev/null || { echo "xml/setup.sh: $PY not found" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "xml/setup.sh: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
LOG="$CACHE/xml-pip.log"
if ! "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_NO_CACHE:+--no-cache-dir} "${PKGS[@]}" >"$LOG" 2>&1; then
  echo "xml/setup.sh: pip install failed, see $LOG:" >&2; tail -n 30 "$LOG" >&2; rm -rf "$VENV"; exit 1
fi
printf '%s' "$WANT" > "$STAMP"
echo "$VENV/bin/python"
