"""One Guard shared by many threads: same answers as one thread, scratch per
thread freed when the thread ends, reloads while checking."""
from __future__ import annotations

import gc
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from support import CARD, FIXTURE, fixture_copy, write_variant

from replyguard import Guard, Verdict

REPLIES = [
    "Hello, how can I help?",
    "darn it, the order is late",
    "you idiot",
    f"Your card {CARD} is saved.",
    "Ça va? Merci — café ☕ and a moron",
    "",
    "nothing to see here " * 20,
]
THREADS = 8
ROUNDS = 300


def key(result):
    """What must not depend on which thread checked."""
    return (result.verdict, result.hits, result.categories, result.reasons,
            result.redacted, result.flags, result.policy)


class ThreadsTest(unittest.TestCase):
    def test_many_threads_same_answers(self) -> None:
        with Guard(FIXTURE) as g:
            expected = [key(g.check(t)) for t in REPLIES]
            errors = []
            barrier = threading.Barrier(THREADS)

            def work(seed: int) -> int:
                barrier.wait()
                n = 0
                for i in range(ROUNDS):
                    j = (seed + i) % len(REPLIES)
                    got = key(g.check(REPLIES[j]))
                    if got != expected[j]:
                        errors.append((seed, j, got))
                    n += 1
                return n

            with ThreadPoolExecutor(THREADS) as pool:
                counts = list(pool.map(work, range(THREADS)))
                # One scratch per pool thread (the barrier made all of them
                # check at once), plus this thread's.
                self.assertEqual(len(g._core.live), THREADS + 1)
            self.assertEqual(errors, [])
            self.assertEqual(sum(counts), THREADS * ROUNDS)
            gc.collect()
            self.assertEqual(len(g._core.live), 1)  # pool threads ended

    def test_scratch_freed_when_thread_ends(self) -> None:
        with Guard(FIXTURE) as g:
            g.check("hello")
            threads = [threading.Thread(target=g.check, args=("you idiot",))
                       for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            del threads
            gc.collect()
            self.assertEqual(len(g._core.live), 1)   # only this thread's

    def test_reload_while_checking(self) -> None:
        d = fixture_copy(self)
        g = Guard(d)
        self.addCleanup(g.close)
        stop = threading.Event()
        bad = []
        seen = set()

        def work() -> None:
            while not stop.is_set():
                r = g.check("you idiot")
                # Each result is wholly from one snapshot: v2 (toxicity
                # thresholds removed) allows, every other version blocks.
                want = Verdict.ALLOW if r.policy.version == "v2" else Verdict.BLOCK
                seen.add(r.policy.version)
                if r.verdict != want:
                    bad.append((r.policy.version, r.verdict))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for version in ("v2", "v3", "v2", "v3"):
                write_variant(d, version, "allow" if version == "v2" else "block")
                g.reload()
                # Until a worker has checked on the new snapshot (no timing
                # assumption: generous on a loaded machine).
                for _ in range(6000):
                    if version in seen:
                        break
                    stop.wait(0.005)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(bad, [])
        self.assertTrue({"v2", "v3"} <= seen, seen)
        self.assertEqual(g.info["generation"], 5)


if __name__ == "__main__":
    unittest.main()
