#!/usr/bin/env bash
# The observability demo (docs/OBSERVABILITY.md): a realistic sample batch
# with labels and timestamps over a week, checked with --audit and --metrics,
# turned into the HTML report, and (with Chromium) a screenshot of it.
#
#   scripts/report-demo.sh [BUILD] [OUT_DIR] [SCREENSHOT.png]
#
# BUILD defaults to build/, OUT_DIR to BUILD/report-demo. The policy set is
# $RG_POLICIES or ./policies. docs/report.png was made with
#   scripts/report-demo.sh build /tmp/demo docs/report.png
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-$BUILD/report-demo}
SHOT=${3:-}
RG="$BUILD/tools/replyguard"
POL=${RG_POLICIES:-policies}
mkdir -p "$OUT"
python3 scripts/gen-audit-sample.py -n 4000 > "$OUT/input.jsonl"
"$RG" batch -p "$POL" --audit "$OUT/audit.jsonl" --audit-redacted \
  --metrics "$OUT/metrics.prom" < "$OUT/input.jsonl" > "$OUT/verdicts.jsonl"
"$RG" report "$OUT/audit.jsonl" -o "$OUT/report.html"
echo "report-demo: $(wc -l < "$OUT/audit.jsonl") audit events; wrote $OUT/report.html, $OUT/metrics.prom"
if [ -n "$SHOT" ]; then
  CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$CHROMIUM" ]; then
    echo "report-demo: no Chromium (scripts/install-deps.sh chromium): no screenshot" >&2
    exit 0
  fi
  PROFILE=$(mktemp -d)
  trap 'rm -rf "$PROFILE"' EXIT
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --disable-dev-shm-usage --user-data-dir="$PROFILE" --window-size=1280,3350 \
    --screenshot="$SHOT" "file://$(realpath "$OUT/report.html")" 2>/dev/null
  echo "report-demo: screenshot $SHOT"
fi
