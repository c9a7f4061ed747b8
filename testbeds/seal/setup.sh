#!/usr/bin/env bash
# Creates (idempotently) the Python venv with the independent tools of the
# PZ1 seal tests (crates/seal/tests/independent.rs, testbeds/seal/seal-check.py):
# pycose with cbor2 < 6 (pycose 1.1 breaks with cbor2 6, domain doc §0.4),
# base45 and cryptography to decode and verify the COSE_Sign1, zxing-cpp and
# pillow to decode the QR code from an image (also for the certificate PDF
# tests), pyHanko and its CLI to validate the PAdES seal of certificates
# (R11, domain doc §9.3). Prints the venv's python on stdout; quiet otherwise. Same pattern
# as testbeds/xml/setup.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
VENV="$CACHE/seal-venv"
PY="${PYTHON:-python3}"
PKGS=(pycose==1.1.0 cbor2==5.9.0 base45==0.4.4 cryptography==50.0.2 zxing-cpp==3.1.1 pillow==13.0.0 pyHanko==0.38.0 pyhanko-cli==0.6.0)
STAMP="$VENV/.palazzo-pins"
WANT="${PKGS[*]}"

mkdir -p "$CACHE"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
   && "$VENV/bin/python" -c 'import pycose, cbor2, base45, cryptography, zxingcpp, PIL, pyhanko' 2>/dev/null; then
  echo "$VENV/bin/python"; exit 0
fi

command -v "$PY" >/dev/null || { echo "seal/setup.sh: $PY not found" >&2; exit 1; }
rm -rf "$VENV"
"$PY" -m venv "$VENV" >&2 || { echo "seal/setup.sh: python3 -m venv failed (apt-get install python3-venv?)" >&2; exit 1; }
LOG="$CACHE/seal-pip.log"
if ! "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_NO_CACHE:+--no-cache-dir} "${PKGS[@]}" >"$LOG" 2>&1; then
  echo "seal/setup.sh: pip install failed, see $LOG:" >&2; tail -n 30 "$LOG" >&2; rm -rf "$VENV"; exit 1
fi
printf '%s' "$WANT" > "$STAMP"
echo "$VENV/bin/python"
