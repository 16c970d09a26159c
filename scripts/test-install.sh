#!/usr/bin/env bash
# The install test (examples/meson.build): `make install PREFIX=<temp>` from
# the source tree into a temporary prefix, then use that install the way a
# user would:
#   - the layout: libreplyguard.so.0 (soname), replyguard.h, replyguard.pc,
#     bin/replyguard, share/replyguard/policies;
#   - build examples/c/minimal.c and threads.c with
#     `pkg-config --cflags --libs replyguard` and run them;
#   - run the installed CLI with no -p (it finds the installed policies);
#   - `pip install --no-build-isolation --no-index --prefix` the Python
#     package (offline) and use it with no environment variable set: it
#     finds the library in its own prefix;
#   - node-gyp the Node addon against the installed library (pkg-config,
#     --nodedir=/usr, offline) as `npm install` would, and use it.
# Ends with 'install: N passed, N failed'.
# Usage: test-install.sh SOURCE_DIR
set -uo pipefail
src=$(cd "${1:?usage: test-install.sh SOURCE_DIR}" && pwd)
tmp=$(mktemp -d /tmp/rg-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/    /' "$tmp/out"; fi; }
finish() { echo "install: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

# The nested make must not inherit the outer make's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL
if make -C "$src" install PREFIX="$prefix" BUILD="$tmp/build" \
     MESONFLAGS="-Dtests=false -Dpython=disabled -Dnode=disabled" >"$tmp/make.log" 2>&1; then
  ok "make install PREFIX=$prefix"
else
  bad "make install PREFIX=$prefix"; tail -n 40 "$tmp/make.log"; finish
fi

lib=$(find "$prefix" -name libreplyguard.so.0 | head -n 1)
pc=$(find "$prefix" -name replyguard.pc | head -n 1)
libdir=$(dirname "$lib")
check "library installed with its soname ($lib)" \
  bash -c "readelf -d '$lib' | grep -q 'SONAME.*\[libreplyguard.so.0\]' && [ -L '$libdir/libreplyguard.so' ]"
check "header installed" test -f "$prefix/include/replyguard.h"
check "pkg-config file installed ($pc)" test -f "$pc"
check "CLI installed" test -x "$prefix/bin/replyguard"
check "policies installed under share/replyguard/policies" \
  bash -c "ls '$prefix'/share/replyguard/policies/*.yaml >/dev/null"

export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs replyguard)
check "pkg-config --cflags --libs replyguard: $flags" bash -c "[[ '$flags' == *-I$prefix/include* && '$flags' == *-lreplyguard* ]]"
check "cc examples/c/minimal.c \$(pkg-config --cflags --libs replyguard)" \
  bash -c "cc -o '$tmp/minimal' '$src/examples/c/minimal.c' $flags"
check "cc examples/c/threads.c \$(pkg-config ...) -pthread" \
  bash -c "cc -std=gnu11 -o '$tmp/threads' '$src/examples/c/threads.c' $flags -pthread"
check "minimal runs on the installed policies: block" \
  bash -c "LD_LIBRARY_PATH='$libdir' '$tmp/minimal' '$prefix/share/replyguard/policies' | head -n 1 | grep -qx block"
check "threads runs on the installed policies" \
  env LD_LIBRARY_PATH="$libdir" "$tmp/threads" "$prefix/share/replyguard/policies"
# No -p, no $RG_POLICIES, no ./policies: the installed policy set; no
# LD_LIBRARY_PATH: the tool's rpath finds the library.
check "installed CLI finds the installed policies and library" \
  bash -c "cd '$tmp' && env -u RG_POLICIES -u LD_LIBRARY_PATH '$prefix/bin/replyguard' check -r refunds 'Card 4111 1111 1111 1111.' | grep -q 'verdict *block'"

# Python: offline install into the same prefix; no REPLYGUARD_LIBRARY.
if python3 -m pip --version >/dev/null 2>&1; then
  check "pip install --no-build-isolation --no-index --prefix (offline)" \
    python3 -m pip install --no-build-isolation --no-index --no-cache-dir --disable-pip-version-check \
      --prefix "$prefix" "$src/bindings/python"
  site=$(dirname "$(find "$prefix" -path '*-packages/replyguard/__init__.py' | head -n 1)")
  site=$(dirname "$site")
  check "the installed Python package finds the library in its prefix" \
    bash -c "cd '$tmp' && env -u REPLYGUARD_LIBRARY PYTHONPATH='$site' python3 -c '
import replyguard, sys
assert replyguard.library_path().startswith(\"$prefix/\"), replyguard.library_path()
g = replyguard.Guard(\"$prefix/share/replyguard/policies\")
assert g.check(\"Card 4111 1111 1111 1111.\", route=\"refunds\").verdict == \"block\"
assert replyguard.__file__.startswith(\"$prefix/\")
'"
else
  bad "python3 -m pip is missing (scripts/install-deps.sh installs python3-pip)"
fi

# Node: what `npm install` does for this package (node-gyp rebuild against
# the installed library, found with pkg-config), offline.
if command -v node >/dev/null && gyp=$(bash "$src/scripts/build-node-addon.sh" --find 2>/dev/null); then
  app=$tmp/app/node_modules/replyguard
  mkdir -p "$app/src"
  cp "$src"/bindings/node/{package.json,index.js,index.d.ts,stream.js,binding.gyp} "$app/"
  cp "$src/bindings/node/src/addon.c" "$app/src/"
  case $gyp in *.js) gyp="node $gyp" ;; esac
  check "node-gyp rebuild --nodedir=/usr against the installed library" \
    bash -c "cd '$app' && $gyp rebuild --nodedir=/usr --loglevel=warn"
  check "require('replyguard') from an app, installed policies" \
    bash -c "cd '$tmp/app' && env -u REPLYGUARD_NODE_ADDON -u LD_LIBRARY_PATH node -e '
const { Guard } = require(\"replyguard\");
const g = new Guard(\"$prefix/share/replyguard/policies\");
const r = g.check(\"Card 4111 1111 1111 1111.\", { route: \"refunds\" });
if (r.verdict !== \"block\") throw new Error(r.verdict);
'"
else
  bad "node or node-gyp missing (scripts/install-deps.sh installs them)"
fi
finish
