#!/usr/bin/env bash
# Install the Debian 12 packages replyguard needs, only those missing.
# Used by `make`, `make demo`, `make test` and .ci/run. Idempotent and quiet
# when everything is present. Extra packages can be passed as arguments.
set -euo pipefail
pkgs=(libhyperscan-dev libpcre2-dev libyaml-dev libutf8proc-dev libcmocka-dev
      libjansson-dev meson ninja-build pkg-config gcc python3 "$@")
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
