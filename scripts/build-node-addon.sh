#!/usr/bin/env bash
# Build the Node addon (bindings/node) with node-gyp against the build tree's
# libreplyguard, offline: Node's headers come from /usr/include/node
# (--nodedir=/usr; Debian's libnode-dev or the nodejs package), nothing is
# downloaded. Run by bindings/meson.build (so `make` builds the addon).
#
#   build-node-addon.sh --find                 print the node-gyp command, or fail
#   build-node-addon.sh SRC STAGE INCDIR LIBDIR OUT
#       SRC     bindings/node          STAGE   a scratch directory (node-gyp's cwd)
#       INCDIR  dir of replyguard.h    LIBDIR  dir of libreplyguard.so
#       OUT     where to put replyguard.node
set -euo pipefail

find_node_gyp() {
  if [ -n "${NODE_GYP:-}" ]; then echo "$NODE_GYP"; return; fi
  if command -v node-gyp >/dev/null 2>&1; then command -v node-gyp; return; fi
  # npm's own copy, beside the node on PATH (NodeSource and upstream builds).
  local prefix
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  for js in "$prefix/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
            /usr/share/nodejs/node-gyp/bin/node-gyp.js \
            /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js; do
    if [ -f "$js" ]; then echo "$js"; return; fi
  done
  echo "build-node-addon: node-gyp not found (apt-get install node-gyp, or set NODE_GYP)" >&2
  return 1
}

if [ "${1:-}" = --find ]; then find_node_gyp; exit; fi
[ $# -eq 5 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
src=$(cd "$1" && pwd) stage=$2 inc=$(cd "$3" && pwd) libdir=$(cd "$4" && pwd)
out=$(cd "$(dirname "$5")" && pwd)/$(basename "$5")
gyp=$(find_node_gyp)
case $gyp in *.js) gyp=(node "$gyp") ;; *) gyp=("$gyp") ;; esac
nodedir=${NODEDIR:-/usr}
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "build-node-addon: $nodedir/include/node/node_api.h missing (apt-get install libnode-dev)" >&2
  exit 1
fi

# gyp wants sources below the directory of binding.gyp: stage a copy.
mkdir -p "$stage/src"
cp "$src/binding.gyp" "$stage/binding.gyp"
cp "$src"/src/*.c "$stage/src/"
cd "$stage"
# node-gyp's make needs none of the parent make's jobserver settings; and it
# links with $(CXX) unless told otherwise: the addon is C, so no g++ needed.
unset MAKEFLAGS MFLAGS MAKELEVEL
export CC=${CC:-cc} LINK=${LINK:-cc}
if ! "${gyp[@]}" rebuild --nodedir="$nodedir" --loglevel=warn \
      -- -Drg_cflags="-I$inc" \
         -Drg_libs="-L$libdir -lreplyguard" -Drg_libdir="$libdir" \
      >build.log 2>&1; then
  cat build.log >&2
  exit 1
fi
cp build/Release/replyguard.node "$out"
