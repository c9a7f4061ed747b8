#!/usr/bin/env bash
# Start the local SPID/CIE OIDC federation for Palazzo's tests.
#
#   testbeds/spid-cie/start.sh <state_dir> <ta_port> [<cie_port>]
#
# process 1: Trust Anchor http://127.0.0.1:<ta_port> + SPID OP http://127.0.0.1:<ta_port>/oidc/op
# process 2: CIE OP http://127.0.0.1:<cie_port>/oidc/op (omitted when no cie_port is given)
# Fresh SQLite DBs in <state_dir> on every start. Writes <state_dir>/federation.json,
# <state_dir>/{ta,cie}.pid and logs <state_dir>/{ta,cie}.log (Django) + .out (runserver).
# Quiet on success. Stop with stop.sh <state_dir>.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "spid-cie/start.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: start.sh <state_dir> <ta_port> [<cie_port>]"
STATE="$1"; TA_PORT="$2"; CIE_PORT="${3:-}"
[[ "$TA_PORT" =~ ^[0-9]+$ ]] || die "bad ta_port: $TA_PORT"
[ -z "$CIE_PORT" ] || [[ "$CIE_PORT" =~ ^[0-9]+$ ]] || die "bad cie_port: $CIE_PORT"
[ "$TA_PORT" != "$CIE_PORT" ] || die "ta_port and cie_port must differ"

VENV="$("$HERE/setup.sh")"
PY="$VENV/bin/python"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
"$HERE/stop.sh" "$STATE"   # idempotent: stop a previous run on the same state dir
rm -f "$STATE"/*.sqlite3 "$STATE"/*.sqlite3-journal "$STATE"/federation.json \
      "$STATE"/*.log "$STATE"/*.out

TA="http://127.0.0.1:$TA_PORT"
BOOT=(--ta "$TA" --ta-db "$STATE/ta.sqlite3" --out "$STATE/federation.json")
[ -z "$CIE_PORT" ] || BOOT+=(--cie "http://127.0.0.1:$CIE_PORT" --cie-db "$STATE/cie.sqlite3")
SPIDCIE_LOG="$STATE/bootstrap.log" "$PY" "$HERE/bootstrap.py" "${BOOT[@]}" \
  >"$STATE/bootstrap.out" 2>&1 || { cat "$STATE/bootstrap.out" >&2; die "bootstrap failed"; }

port_free() { # port
  "$PY" -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) else 1)' "$1" \
    || die "port $1 on 127.0.0.1 is already in use"
}
port_free "$TA_PORT"; [ -z "$CIE_PORT" ] || port_free "$CIE_PORT"

launch() { # name port profile
  local name="$1" port="$2" profile="$3"
  ( cd "$HERE" && exec env SPIDCIE_BASE_URL="http://127.0.0.1:$port" SPIDCIE_TA="$TA" \
      SPIDCIE_DB="$STATE/$name.sqlite3" SPIDCIE_PROFILE="$profile" \
      SPIDCIE_LOG="$STATE/$name.log" PYTHONUNBUFFERED=1 \
      "$PY" manage.py runserver "127.0.0.1:$port" --noreload --insecure \
      >"$STATE/$name.out" 2>&1 ) &
  echo $! >"$STATE/$name.pid"
}

wait_ready() { # name url
  local name="$1" url="$2" pid i
  pid="$(cat "$STATE/$name.pid")"
  for i in $(seq 1 150); do
    if "$PY" - "$url" <<'PYEOF' 2>/dev/null; then kill -0 "$pid" 2>/dev/null && return 0; break; fi
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
PYEOF
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$STATE/$name.out" "$STATE/$name.log" >&2 2>/dev/null || true
      die "$name server exited before answering $url"
    fi
    sleep 0.2
  done
  tail -n 20 "$STATE/$name.out" >&2 || true
  die "$name server did not answer 200 at $url within 30 s (or exited)"
}

launch ta "$TA_PORT" spid
[ -z "$CIE_PORT" ] || launch cie "$CIE_PORT" cie
wait_ready ta "$TA/.well-known/openid-federation"
wait_ready ta "$TA/oidc/op/.well-known/openid-federation"
[ -z "$CIE_PORT" ] || wait_ready cie "http://127.0.0.1:$CIE_PORT/oidc/op/.well-known/openid-federation"
