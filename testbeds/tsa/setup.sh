#!/usr/bin/env bash
# Creates (idempotently) the test PKI of the local RFC 3161 time-stamp
# authority: a test CA and a TSA certificate issued by it with
# extendedKeyUsage=critical,timeStamping (domain/protocol-documents.md
# §9.1, §9.5). Prints the PKI directory on stdout; quiet otherwise.
# server.py (started per test by palazzo_testkit::tsa) answers with
# `openssl ts -reply` over HTTP on 127.0.0.1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PALAZZO_TESTBED_CACHE:-$REPO/.cache}"
PKI="$CACHE/tsa-pki"
mkdir -p "$CACHE"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"
command -v openssl >/dev/null || { echo "tsa/setup.sh: openssl not found" >&2; exit 1; }

# Parallel test processes may call this at once: one creates, the others wait.
exec 9>"$CACHE/tsa-pki.lock"
flock 9
if [ -f "$PKI/.complete" ]; then echo "$PKI"; exit 0; fi
rm -rf "$PKI"; mkdir -p "$PKI"; cd "$PKI"
cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Palazzo test TSA CA
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_tsa]
basicConstraints = critical,CA:false
extendedKeyUsage = critical,timeStamping
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
{
  openssl req -x509 -new -newkey rsa:3072 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -config ca.cnf -extensions v3_ca
  openssl req -new -newkey rsa:3072 -nodes -keyout tsa.key -out tsa.csr -subj "/CN=Palazzo test TSA"
  openssl x509 -req -in tsa.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tsa.crt -days 3650 \
    -extfile ca.cnf -extensions v3_tsa
} >/dev/null 2>"$PKI/openssl.log" || { echo "tsa/setup.sh: openssl failed:" >&2; cat "$PKI/openssl.log" >&2; exit 1; }
cat tsa.crt ca.crt > chain.pem
touch .complete
echo "$PKI"
