"""Streaming from Python (replyguard.Stream, Guard.guarded): what goes out
is what the library says is safe, and the end agrees with Guard.check."""
from __future__ import annotations

import asyncio
import unittest

from support import CARD, FIXTURE

from replyguard import Flag, Guard, GuardClosedError, UnknownRouteError, Verdict


class StreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.guard = Guard(FIXTURE)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.guard.close()

    def test_card_split_across_chunks(self) -> None:
        reply = f"Your card {CARD} is on file."
        chunks = ["Your card 41", "11 1111 11", "11 1111 is on", " file."]
        out = []
        with self.guard.stream() as s:
            for c in chunks:
                u = s.feed(c)
                out.append(u.text)
                # no digit of the card goes out before the card is known
                self.assertNotIn("4111", "".join(out))
            final = s.close()
        out.append(final.text)
        self.assertTrue(final.final)
        self.assertEqual("".join(out), "Your card [card] is on file.")
        whole = self.guard.check(reply)
        self.assertEqual(final.result.verdict, whole.verdict)
        self.assertEqual(final.result.redacted, whole.redacted)
        self.assertEqual([(h.detector, h.start, h.end) for h in final.result.hits],
                         [(h.detector, h.start, h.end) for h in whole.hits])
        self.assertIn(Flag.REDACTED, final.result.flags)

    def test_streaming_option(self) -> None:
        # Guard(streaming=True) opens with RG_ENGINE_STREAMING (the streaming
        # databases compiled at open): streams answer as with a lazy compile.
        with Guard(FIXTURE, streaming=True) as g:
            s = g.stream()
            out = [s.feed(c).text for c in ["Your card 41", "11 1111 11", "11 1111 is on", " file."]]
            out.append(s.close().text)
            self.assertEqual("".join(out), "Your card [card] is on file.")
            g.reload()
            self.assertEqual(g.stream().feed("hello there ").text, "hello there ")

    def test_word_split_blocks(self) -> None:
        s = self.guard.stream()
        u = s.feed("you id")
        self.assertEqual(u.text, "you ")
        u = s.feed("iot, ")
        self.assertIs(u.verdict, Verdict.BLOCK)
        self.assertEqual(u.text, "")
        self.assertEqual(s.feed("more").text, "")
        final = s.close()
        self.assertIs(final.result.verdict, Verdict.BLOCK)
        self.assertEqual(s.safe_bytes, 4)
        with self.assertRaises(GuardClosedError):
            s.feed("x")

    def test_bytes_and_offsets(self) -> None:
        s = self.guard.stream(route="refunds")
        s.feed("caf\xc3".encode("latin-1"))   # a code point cut in two
        self.assertEqual(s.safe_bytes, 0)
        u = s.feed(b"\xa9 ok ")
        self.assertEqual(u.text, "café ok ".encode())
        final = s.close()
        self.assertIs(final.result.verdict, Verdict.ALLOW)
        # str chunks: hit offsets are characters of the whole stream
        s = self.guard.stream()
        s.feed("é ")
        s.feed("idiot")
        r = s.close().result
        self.assertEqual((r.hits[0].start, r.hits[0].end), (2, 7))
        self.assertEqual((r.hits[0].byte_start, r.hits[0].byte_end), (3, 8))

    def test_unknown_route(self) -> None:
        with self.assertRaises(UnknownRouteError):
            self.guard.stream(route="nope")

    def test_guarded_async(self) -> None:
        async def tokens():
            for t in ["Call me, ", "card 41", "11 1111 1111 1111", " ok", " thanks"]:
                yield t

        async def run():
            g = self.guard.guarded(tokens())
            out = [t async for t in g]
            return g, out

        g, out = asyncio.run(run())
        self.assertEqual("".join(out), "Call me, card [card] ok thanks")
        self.assertIs(g.result.verdict, Verdict.ALLOW)
        self.assertFalse(g.blocked)

    def test_guarded_stops_on_block(self) -> None:
        async def run():
            g = self.guard.guarded(iter(["hello you id", "iot and", " more", " words"]))
            return g, [t async for t in g]

        g, out = asyncio.run(run())
        self.assertTrue(g.blocked)
        self.assertEqual("".join(out), "hello you ")
        self.assertIs(g.result.verdict, Verdict.BLOCK)


if __name__ == "__main__":
    unittest.main()
