#!/usr/bin/env bash
# Proves the README's two commands on a bare Debian 12: builds a minimal root filesystem with
# debootstrap (minbase + git, make, curl, Debian's nodejs and npm, nothing else), puts a clean clone of
# this repository (and ../shared beside it) inside, and runs there, as root, what a newcomer runs:
#   1. `make run` until the demo RP answers (then Ctrl-C, i.e. SIGINT), and
#   2. `make test`.
# Each must provision everything it needs itself (Debian packages, Node.js, npm packages).
#
# Usage (root; needs Debian's apt and the npm registry): make fresh-debian-check
#   FRESH_DEBIAN_KEEP=1   keep the root filesystem afterwards (printed path)
#   FRESH_DEBIAN_SKIP_TEST=1  only `make run` (quick check of provisioning)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="$(cd "$repo/../shared" 2>/dev/null && pwd || true)"
say() { printf 'fresh-debian: %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { say "must run as root (debootstrap, chroot)"; exit 2; }
command -v debootstrap >/dev/null 2>&1 || {
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
}

# The Debian mirror this machine's apt already uses (no host is written here).
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
[ -n "$mirror" ] || { say "no Debian mirror found in this machine's apt sources"; exit 2; }

root="$(mktemp -d /var/tmp/fresh-debian.XXXXXX)"
chmod 755 "$root"   # it is "/" inside: every user (postgres too) must traverse it
mounted=()
cleanup() {
  local status=$?
  # whatever still runs inside the new root (make run's services) ends with it
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/root" 2>/dev/null)" in "$root"*) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
  done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  if [ "${FRESH_DEBIAN_KEEP:-0}" = 1 ]; then say "root filesystem kept at $root"; else rm -rf --one-file-system "$root"; fi
  exit "$status"
}
trap cleanup EXIT
mnt() { mount "$@"; mounted+=("${!#}"); }

say "debootstrap bookworm (minbase), then git make curl nodejs npm, into $root"
started=$SECONDS
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -20 "$root.debootstrap.log"; say "debootstrap failed"; exit 1; }
rm -f "$root.debootstrap.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's own network trust (e.g. a local CA for an egress proxy) is part of the machine, not of
# the project: carry it into the new root, as a fresh machine of this workplace would have it.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# What the newcomer has: git, make, curl, Debian's nodejs and npm (without recommended extras), nothing else.
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c \
  'apt-get update -qq && apt-get install -y -qq --no-install-recommends git make curl ca-certificates nodejs npm' \
  >"$root.apt.log" 2>&1 || { tail -20 "$root.apt.log"; say "apt-get install in the new root failed"; exit 1; }
chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
rm -f "$root.apt.log"
say "root filesystem ready in $((SECONDS - started)) s; node $(chroot "$root" node --version); g++: $(chroot "$root" sh -c 'command -v g++ || echo absent')"
# Use the same npm registry as this machine (its user config, if any), nothing else of the host.
[ -f "$HOME/.npmrc" ] && grep -E '^(registry|@[^=]+:registry)=' "$HOME/.npmrc" >"$root/root/.npmrc" || true
mnt -t proc proc "$root/proc"
mnt -t sysfs sys "$root/sys"
mnt --bind /dev "$root/dev"
mnt -t devpts devpts "$root/dev/pts"
mnt -t tmpfs -o size=2g tmpfs "$root/dev/shm"

mkdir -p "$root/work"
git clone -q "$repo" "$root/work/main"
git -C "$root/work/main" checkout -q "$(git -C "$repo" rev-parse HEAD)"
if [ -n "$shared" ]; then cp -a "$shared" "$root/work/shared"; fi

# A clean environment, but for the machine's certificate settings (they name files of the new root's own).
trust=()
for var in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR npm_config_cafile; do
  [ -n "${!var:-}" ] && trust+=("$var=${!var}")
done
cafile="$(npm config get cafile 2>/dev/null || true)"
[ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] && trust+=("npm_config_cafile=$cafile")
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI="${CI:-}" "${trust[@]}" bash -c "$1"; }

say "1/2 make run (waits for the demo RP, then Ctrl-C)"
started=$SECONDS
# free loopback ports, so that a gateway already running on this machine does not get in the way
ports=($(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))'))
in_root "cd /work/main && GW_PORT=${ports[0]} GW_IDP_PORT=${ports[1]} GW_RP_PORT=${ports[2]} setsid make run >/work/make-run.log 2>&1 & echo \$! >/work/make-run.pid" || true
ok=0
for _ in $(seq 1 900); do
  if grep -q 'Open http' "$root/work/make-run.log" 2>/dev/null; then ok=1; break; fi
  if ! kill -0 "$(cat "$root/work/make-run.pid")" 2>/dev/null; then break; fi
  sleep 1
done
if [ "$ok" = 1 ]; then
  rp_url="$(grep -o 'Open http[^ ]*' "$root/work/make-run.log" | head -1 | cut -d' ' -f2)"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$rp_url" || true)"
  [ "$code" = 200 ] || { say "demo RP at $rp_url answered $code"; ok=0; }
fi
kill -INT -- "-$(cat "$root/work/make-run.pid")" 2>/dev/null || true
for _ in $(seq 1 30); do kill -0 "$(cat "$root/work/make-run.pid")" 2>/dev/null || break; sleep 1; done
if [ "$ok" != 1 ]; then tail -40 "$root/work/make-run.log"; say "make run did not come up"; exit 1; fi
say "make run came up in $((SECONDS - started)) s and stopped on Ctrl-C"

if [ "${FRESH_DEBIAN_SKIP_TEST:-0}" = 1 ]; then say "make test skipped (FRESH_DEBIAN_SKIP_TEST=1)"; exit 0; fi
say "2/2 make test"
started=$SECONDS
log="${FRESH_DEBIAN_LOG:-/var/tmp/fresh-debian-make-test.log}"
if ! in_root 'cd /work/main && make test' >"$log" 2>&1; then
  grep -E '✘|Error|error' "$log" | head -40; tail -40 "$log"
  say "make test failed on a bare Debian 12 (whole output: $log)"; exit 1
fi
tail -5 "$log"
say "make test passed on a bare Debian 12 in $((SECONDS - started)) s"
