"""Python per-call cost (bindings/bench/run.sh, docs/BINDINGS.md).

Usage: calls.py POLICY_DIR REPLIES_FILE [LINES [PASSES]]
Guard.check on the first LINES lines, route "default", one warm-up pass then
PASSES timed passes in thread CPU time; prints the best pass.
"""
import sys
import time

from replyguard import Guard


def main() -> None:
    policies, path = sys.argv[1], sys.argv[2]
    want = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    passes = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for _, line in zip(range(want), f)]
    guard = Guard(policies)
    check = guard.check
    best = float("inf")
    for p in range(passes + 1):
        t0 = time.thread_time()   # CPU time, as the C and Node benchmarks
        for line in lines:
            check(line)
        t = time.thread_time() - t0
        if p:
            best = min(best, t)
    n = len(lines)
    print(f"python  Guard.check          {n / best:9.0f} calls/s  {best / n * 1e6:6.2f} us/call")
    guard.close()


if __name__ == "__main__":
    main()
