#!/usr/bin/env bash
# Per-call overhead of the Python and Node bindings over the C call
# (docs/BINDINGS.md): the same short replies through rg_check, Guard.check
# (Python) and guard.check (Node), one thread each, best of N passes.
# Usage: bindings/bench/run.sh [BUILD_DIR [REPLIES_FILE [LINES [PASSES [POLICY_DIR]]]]]
#   default: build, ../shared/data/agent_replies_sgd_train.txt, 10000, 5, policies
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
replies=${2:-$root/../shared/data/agent_replies_sgd_train.txt}
lines=${3:-10000}
passes=${4:-5}
policies=${5:-$root/policies}
cc -O2 -std=gnu11 -I"$root/include" -o "$build/bindings-bench-calls" "$root/bindings/bench/calls.c" \
  -L"$build/lib" -lreplyguard -Wl,-rpath,"$build/lib"
echo "$lines lines of $(basename "$replies"), route default, policies $policies"
"$build/bindings-bench-calls" "$policies" "$replies" "$lines" "$passes"
REPLYGUARD_LIBRARY=$build/lib/libreplyguard.so.0 PYTHONPATH=$root/bindings/python \
  python3 "$root/bindings/bench/calls.py" "$policies" "$replies" "$lines" "$passes"
REPLYGUARD_NODE_ADDON=$build/bindings/node/replyguard.node \
  node "$root/bindings/bench/calls.js" "$policies" "$replies" "$lines" "$passes"
