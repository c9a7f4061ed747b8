#!/usr/bin/env bash
# Start the generic staff OpenID Provider (oidc-provider, in-memory) in the background.
#
#   testbeds/oidc-provider/start.sh <state_dir> <port> [redirect_uris]
#
# redirect_uris: comma-separated, for client "palazzo" (default $PALAZZO_REDIRECT_URIS or
# http://127.0.0.1:8080/auth/callback). More can be set at run time: POST /test/clients.
# Writes <state_dir>/oidc-provider.pid and .log. Quiet on success. Stop with stop.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "oidc-provider/start.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: start.sh <state_dir> <port> [redirect_uris]"
STATE="$1"; PORT="$2"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port: $PORT"
command -v node >/dev/null || die "node not found"
mkdir -p "$STATE"; STATE="$(cd "$STATE" && pwd)"
"$HERE/stop.sh" "$STATE"

# npm ci when node_modules is missing or older than the lockfile
STAMP="$HERE/node_modules/.palazzo-installed"
if [ ! -f "$STAMP" ] || [ "$HERE/package-lock.json" -nt "$STAMP" ]; then
  ( cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$STATE/npm-ci.log" 2>&1 ) \
    || { tail -n 30 "$STATE/npm-ci.log" >&2; die "npm ci failed"; }
  touch "$STAMP"
fi

URL="http://127.0.0.1:$PORT/.well-known/openid-configuration"
if node -e 'fetch(process.argv[1]).then(()=>process.exit(0),()=>process.exit(1))' "$URL" 2>/dev/null; then
  die "port $PORT on 127.0.0.1 is already in use"
fi
export PALAZZO_REDIRECT_URIS="${3:-${PALAZZO_REDIRECT_URIS:-http://127.0.0.1:8080/auth/callback}}"
( cd "$HERE" && exec node server.mjs "$PORT" >"$STATE/oidc-provider.log" 2>&1 ) &
PID=$!
echo "$PID" >"$STATE/oidc-provider.pid"
for _ in $(seq 1 100); do
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$URL" 2>/dev/null; then
    sleep 0.3; kill -0 "$PID" 2>/dev/null && exit 0
    cat "$STATE/oidc-provider.log" >&2; die "server exited (port $PORT taken?)"
  fi
  kill -0 "$PID" 2>/dev/null || { cat "$STATE/oidc-provider.log" >&2; die "server exited before answering $URL"; }
  sleep 0.2
done
cat "$STATE/oidc-provider.log" >&2; die "no 200 from $URL within 20 s"
