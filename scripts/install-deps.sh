#!/usr/bin/env bash
# Install the Debian 12 packages replyguard needs, only those missing.
# Used by `make`, `make demo`, `make test` and .ci/run. Idempotent and quiet
# when everything is present. Extra packages can be passed as arguments.
set -euo pipefail
pkgs=(libhyperscan-dev libpcre2-dev libyaml-dev libutf8proc-dev libcmocka-dev
      libjansson-dev meson ninja-build pkg-config gcc python3 "$@")
# The bindings (docs/BINDINGS.md). Node: the `node` on PATH, N-API headers in
# /usr/include/node and node-gyp; on a fresh Debian 12 those are nodejs,
# libnode-dev and node-gyp. A node installed otherwise (NodeSource's nodejs
# ships the headers and npm's node-gyp, and conflicts with libnode-dev) needs
# none of them. Python: pip of the python3 on PATH, for the install test.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
[ -f /usr/include/node/node_api.h ] || pkgs+=(libnode-dev)
bash "$(dirname "$0")/build-node-addon.sh" --find >/dev/null 2>&1 || pkgs+=(node-gyp)
python3 -m pip --version >/dev/null 2>&1 || pkgs+=(python3-pip)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
