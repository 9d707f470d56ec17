#!/usr/bin/env bash
# Makes the DEVELOPMENT PKI: a CA and, signed by it, the demo SAML IdP's signing key and certificate
# (RSA 3072, SHA-256). Idempotent: files that already exist are kept. Never use this material in production.
#
# Usage: certs/make-dev-pki.sh [output-dir]   (default: certs/generated next to this script)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/generated}"
days_ca=3650
days_leaf=825

mkdir -p "$out"
chmod 700 "$out"
umask 077

# new_key <key> <cert>...: an RSA 3072 private key in PKCS#8 PEM, unless the key exists. A new key
# invalidates the certificates named after it (they are re-issued below), so a half-made PKI heals itself.
new_key() {
  local key="$1"; shift
  if [[ ! -s "$key" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$key" 2>/dev/null
    rm -f "$@"
  fi
}

# 1. The development CA (self-signed, CA:TRUE, keyCertSign).
new_key "$out/ca.key.pem" "$out/ca.cert.pem" "$out/demo-idp-signing.cert.pem"
if [[ ! -s "$out/ca.cert.pem" ]]; then
  openssl req -x509 -new -sha256 -days "$days_ca" \
    -key "$out/ca.key.pem" -out "$out/ca.cert.pem" \
    -subj "/O=Federation Gateway (development)/CN=Development CA - NOT FOR PRODUCTION" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
fi

# 2. The demo IdP's SAML signing certificate, signed by the CA (digitalSignature only).
new_key "$out/demo-idp-signing.key.pem" "$out/demo-idp-signing.cert.pem"
if [[ ! -s "$out/demo-idp-signing.cert.pem" ]]; then
  ext="$(mktemp)"
  trap 'rm -f "$ext" "$out/demo-idp-signing.csr.pem"' EXIT
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid" > "$ext"
  openssl req -new -sha256 -key "$out/demo-idp-signing.key.pem" -out "$out/demo-idp-signing.csr.pem" \
    -subj "/O=Federation Gateway (development)/CN=Demo SAML IdP signing - NOT FOR PRODUCTION"
  openssl x509 -req -sha256 -days "$days_leaf" \
    -in "$out/demo-idp-signing.csr.pem" -CA "$out/ca.cert.pem" -CAkey "$out/ca.key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" \
    -out "$out/demo-idp-signing.cert.pem" 2>/dev/null
fi

# Certificates are public; keys stay owner-only.
chmod 644 "$out/ca.cert.pem" "$out/demo-idp-signing.cert.pem"
chmod 600 "$out/ca.key.pem" "$out/demo-idp-signing.key.pem"
openssl verify -CAfile "$out/ca.cert.pem" "$out/demo-idp-signing.cert.pem" >/dev/null
echo "dev PKI ready in $out"
