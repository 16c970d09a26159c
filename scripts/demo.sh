#!/usr/bin/env bash
# Usage: scripts/demo.sh BUILD_DIR   (what `make demo` runs)
#
# A tour of the replyguard CLI on the shipped policy set: lint it, check a
# few sample replies with the human-readable explanation (allow, a
# redaction, handoff, block), then run every sample in
# examples/demo/replies.jsonl through `batch` and show the verdicts as a
# table. Non-interactive (reads no stdin); exits non-zero if the CLI fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
cli=$build/tools/replyguard
policies=$root/policies
replies=$root/examples/demo/replies.jsonl

if [ ! -x "$cli" ]; then
  echo "demo: $cli not found; build first (make)" >&2
  exit 2
fi

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'
else
  bold='' dim='' off=''
fi
section() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
# Show a command as a reader would type it (short names), then run it.
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }

# The reply text of one sample, by id (the JSONL file is the one source).
reply_of() {
  python3 -c 'import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    if row["id"] == sys.argv[2]:
        sys.stdout.write(row["reply"])
        break
else:
    sys.exit("demo: no sample " + sys.argv[2])' "$replies" "$1"
}

# Check one sample on a route, showing the human-readable explanation.
check_sample() {
  local route=$1 text
  text=$(reply_of "$2")
  show "replyguard check -p policies -r $route \"$text\""
  "$cli" check -p "$policies" -r "$route" "$text"
}

section "1. Lint the policy set"
show "replyguard lint policies"
"$cli" lint "$policies"

section "2. One reply, explained (replyguard check)"
echo "A booking confirmation with the restaurant's phone number: a business number is not a leak."
check_sample default booking
echo
echo "A card number on the default route: masked in a redacted copy."
check_sample default card/default
echo
echo "The same reply on the refunds route."
check_sample refunds card/default
echo
echo "A rude reply, and a threat to the customer."
check_sample default rude
echo
check_sample default threat

section "3. Every sample through batch (JSON Lines in, JSON Lines out)"
show "replyguard batch -p policies < examples/demo/replies.jsonl | <table>"
# The formatter pairs each output line with its input line (batch keeps
# the order) and prints one row per reply, then its reasons and redaction.
table=$(cat <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
outs = [json.loads(l) for l in sys.stdin]
if len(outs) != len(rows):
    sys.exit(f"demo: {len(rows)} inputs but {len(outs)} outputs")
pad = " " * 40
print(f"{'id':<18} {'route':<11} {'verdict':<8} why")
for row, out in zip(rows, outs):
    if "verdict" not in out:
        route = row.get("route", "default")
        print(f"{str(row.get('id')):<18} {route:<11} {'ERROR':<8} {out['error']}")
        continue
    why = [f"{r['category']} {r['score']:.2f} ≥ {r['threshold']:.2f} → {r['action']}"
           f" (rule {r['rule']} of {r['route']})" for r in out["reasons"]]
    if not why and out["hits"]:
        cats = sorted({h["category"] for h in out["hits"]})
        why = ["hits " + ", ".join(cats) + ", below every threshold"]
    flags = [f for f in out["flags"] if f != "redacted"]
    if flags:
        why.append("flags: " + ", ".join(flags))
    print(f"{str(out['id']):<18} {out['route']:<11} {out['verdict'].upper():<8} "
          + ("\n" + pad).join(why or ["-"]))
    if out["redacted"] is not None:
        print(pad + "redacted: " + out["redacted"])
PY
)
"$cli" batch -p "$policies" < "$replies" | python3 -c "$table" "$replies"

if [ -d "$policies/tests" ]; then
  section "4. The policy set's own test cases (replyguard test)"
  show "replyguard test -p policies | tail -n 1"
  # A failing case is the policy's news, not the demo's failure (make test
  # reports it); a usage or load error (status 2) stops the demo.
  status=0
  results=$("$cli" test -p "$policies") || status=$?
  printf '%s\n' "$results" | tail -n 1
  if [ "$status" -eq 1 ]; then
    printf '%s\n' "$results" | grep '^FAIL' | head -n 5 || true
  elif [ "$status" -ne 0 ]; then
    exit "$status"
  fi
fi

section "5. A reply streamed token by token (replyguard stream)"
echo "A voice agent speaks while the model writes: only the first safe_bytes bytes may be said."
echo "The card number is cut across tokens; it is held back until complete, then released masked."
chunks='{"chunk": "Sure, the card "}
{"chunk": "41"}
{"chunk": "11 1111 11"}
{"chunk": "11 1111 is on"}
{"chunk": " your account."}
{"end": true}'
show "printf '%s\\n' '{\"chunk\": \"Sure, the card \"}' ... | replyguard stream -r default"
printf '%s\n' "$chunks" | "$cli" stream -p "$policies" -r default | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    print("  %-7s safe %2d of %2d bytes  release %r" % (o["verdict"], o["safe_bytes"], o["bytes"], o["text"]))
'

printf '\n%sMore: replyguard --help, docs/CLI.md, docs/STREAMING.md, docs/POLICY_FORMAT.md%s\n' \
  "$bold" "$off"
