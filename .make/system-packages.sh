#!/usr/bin/env bash
# Installs the Debian packages the gateway and its tests run against, when they are missing.
# Needs root (apt-get); as another user it only says what is missing.
set -euo pipefail
missing=()
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v pkcs11-tool   >/dev/null 2>&1 || missing+=(opensc)
command -v redis-server  >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl       >/dev/null 2>&1 || missing+=(openssl)
command -v g++           >/dev/null 2>&1 || missing+=(build-essential)
command -v python3       >/dev/null 2>&1 || missing+=(python3)
command -v xmlsec1       >/dev/null 2>&1 || missing+=(xmlsec1)           # pysaml2's signer (interop IdP in tests)
/usr/bin/python3 -c 'import saml2' >/dev/null 2>&1 || missing+=(python3-pysaml2)
command -v chromium      >/dev/null 2>&1 || missing+=(chromium)   # browser tests (playwright-core drives it)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "provision: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "provision: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian starts the packaged services; the gateway runs its own instances under var/ instead.
for svc in redis-server postgresql; do
  (service "$svc" stop >/dev/null 2>&1 || true)
done
