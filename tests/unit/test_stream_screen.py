"""The byte screen of the streamed EPCIS reader, at every split of the input into reads.

What the C parser must never see (an integer of thousands of digits crashes it; a lone surrogate escape becomes
"?") is refused at its exact byte offset however the file is cut into reads; a valid surrogate pair, long digit
runs inside strings and ordinary numbers pass untouched.
"""

from __future__ import annotations

import io
import json

import ijson
import pytest

from lichain.io.epcis_stream import _Counting, _Refusal


def _read_all(data: bytes, n: int) -> None:
    fp = _Counting(io.BytesIO(data))
    while fp.read(n):
        pass


def _refusal(data: bytes, n: int) -> _Refusal | None:
    try:
        _read_all(data, n)
    except _Refusal as exc:
        return exc
    return None


OK = [
    b'{"name": "x\\ud83d\\ude00y", "n": 5, "m": -12.5e3}',  # a surrogate pair (U+1F600) is valid JSON text
    b'{"lot": "' + b"7" * 5000 + b'"}',  # a long run of digits inside a string is text, not a number
    b'{"a": "\\\\ud800"}',  # an escaped backslash followed by "ud800" is not an escape
    b'{"a": [' + b"1234567890, " * 500 + b"1]}",
]


@pytest.mark.parametrize("data", OK)
def test_valid_text_passes_at_every_split(data: bytes) -> None:
    for n in range(1, 40):
        assert _refusal(data, n) is None, n
    assert _refusal(data, 1 << 16) is None


BAD = [
    (b'{"a": "x\\ud800y"}', 8, "lone surrogate (\\ud800)"),
    (b'{"a": "\\udc00"}', 7, "lone surrogate (\\udc00)"),
    (b'{"a": "\\ud83d \\ude00"}', 7, "lone surrogate (\\ud83d)"),  # a high surrogate not followed by its pair
    (b'{"a": ' + b"9" * 5000 + b"}", 6, "integer of 5,000 digits"),
    (b'{"a": [1, -' + b"9" * 4500 + b"]}", 11, "integer of 4,500 digits"),
    (b"[" + b"8" * 4000, 1, "integer of 4,000 digits"),  # cut off at the end of the file
]


@pytest.mark.parametrize(("data", "offset", "reason"), BAD)
def test_what_the_parser_must_not_see_is_refused_at_its_byte(data: bytes, offset: int, reason: str) -> None:
    for n in (*range(1, 25), 999, 1000, 1001, 4096, 1 << 16):
        exc = _refusal(data, n)
        assert exc is not None, n
        assert exc.offset == offset and reason in exc.message, (n, exc.offset, exc.message)


def test_the_parser_reads_through_the_screen_unchanged() -> None:
    doc = {"a": [1, 2.5, "x\U0001f600"], "b": {"c": None, "d": True}, "e": "9" * 3000}
    data = json.dumps(doc).encode()
    for n in (1, 7, 1 << 16):
        fp = _Counting(io.BytesIO(data))
        built = ijson.sendable_list()
        coro = ijson.items_coro(built, "", use_float=True)
        while chunk := fp.read(n):
            coro.send(chunk)
        coro.close()
        assert built == [doc] and fp.offset == len(data)
