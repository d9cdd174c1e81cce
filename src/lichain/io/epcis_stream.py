"""EPCIS 2.0 JSON-LD documents of any size, read in bounded memory as chunks of located events.

Why this exists: a year of a plant's events is a document of gigabytes; parsing it whole takes about eight times
its size in memory. This reader makes two passes over the file with a streaming JSON parser (ijson, C backend):

1. everything but the events (``@context``, ``type``, header master data, …) is built as a small skeleton, the
   events are counted, and the whole text is checked as JSON (syntax, nesting depth, size of numbers and
   strings), so a broken document is refused before any event is read;
2. the events are read one by one and handed on in chunks, each with the document's master data first.

The per-event reading is :class:`lichain.io.epcis_read.EpcisReader`'s, so a streamed document yields the same
events and problems as :func:`lichain.io.epcis_read.read_epcis` on the same text. A JSON-level refusal is located
by the line and column of the byte that breaks the rule (the 64 KiB block that holds it is parsed again a byte
at a time), with the reasons of :mod:`lichain.io.json_limits`.

Two things never reach the C parser, because it cannot refuse them itself: an integer of thousands of digits
(its conversion crashes the process past CPython's 4,300-digit limit, and is quadratic below it) and a lone
UTF-16 surrogate escape such as ``"\ud800"`` (it would be read as ``"?"``: a silent change of the data). The
bytes are screened for both as they are read (:class:`_Counting`), and the document is refused at that place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from lichain.core.errors import Problem
from lichain.core.validate import LocatedEvent
from lichain.io.epcis_read import EVENT_LISTS, EpcisReader
from lichain.io.json_limits import MAX_DEPTH, MAX_INT_DIGITS

__all__ = ["StreamLimits", "iter_epcis_chunks"]

_BLOCK = 1 << 16
#: Digit runs at least this long are refused before the parser converts them (CPython refuses > 4,300 digits).
_GUARD_DIGITS = 4_000
_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")  # every digit as "0": runs found by bytes.find
_LONG_RUN = b"0" * _GUARD_DIGITS
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # a cheap test before the exact one below
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_WS = b" \t\r\n"
_ITEM_PREFIXES = tuple(p.strip("/").replace("/", ".") + ".item" for p in EVENT_LISTS)


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """Bounds of a streamed document: events per chunk, nesting depth, digits of an integer, string length."""

    chunk_events: int = 5_000
    max_depth: int = MAX_DEPTH
    max_int_digits: int = MAX_INT_DIGITS
    max_string_chars: int = 1 << 20


def _open(path: Path) -> IO[bytes]:
    """The file positioned after a UTF-8 byte-order mark, if any."""
    fp = path.open("rb")
    if fp.read(3) != b"\xef\xbb\xbf":
        fp.seek(0)
    return fp


class _Refusal(Exception):
    """Raised from a read: the byte at ``offset`` starts something the parser must not see."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset, self.message = offset, message


class _Counting:
    """A binary file wrapper: counts bytes, lines and columns, and screens the bytes before the parser sees them.

    ``fine_from`` makes reads past that offset return one byte at a time, so that a parser error or event is
    tied to the byte that caused it (``offset`` is then the end of that byte).
    """

    def __init__(self, fp: IO[bytes], fine_from: int | None = None) -> None:
        self.fp = fp
        self.offset = 0
        self.line, self.col = 1, 1
        self.block_line, self.block_col, self.block_offset = 1, 1, 0
        self.fine_from = fine_from
        self.tail = b""  # the last bytes read, as context for the screens
        self.run, self.run_start, self.run_number = 0, 0, False  # a digit run reaching the end of the last read
        self.sig = 0  # the last byte before the current read that is neither blank nor a minus sign

    def read(self, n: int = -1) -> bytes:
        if self.fine_from is not None and self.offset >= self.fine_from:
            n = 1
        elif self.fine_from is not None and n > 0:
            n = min(n, self.fine_from - self.offset) or 1
        data = self.fp.read(n)
        self.screen(data)
        self.block_line, self.block_col, self.block_offset = self.line, self.col, self.offset
        self.offset += len(data)
        nl = data.count(b"\n")
        if nl:
            self.line += nl
            self.col = len(data) - data.rfind(b"\n")
        else:
            self.col += len(data)
        return data

    def screen(self, data: bytes) -> None:
        """Refuse a lone surrogate escape or a digit run of an integer too long to convert safely."""
        window = self.tail + data
        if b"\\u" in window and _SURROGATE_ESCAPE.search(window):
            self.surrogates(window, bool(data))
        z = data.translate(_TO_ZERO)
        pos = 0
        if self.run:  # a run the last read ended in
            lead = len(z) - len(z.lstrip(b"0"))
            self.run += lead
            if lead < len(z) or not data:
                self.end_run()
            pos = lead
        while (k := z.find(_LONG_RUN, pos)) >= 0:
            n = len(z) - k - len(z[k:].lstrip(b"0"))
            self.start_run(data, k, n)
            if k + n < len(z):
                self.end_run()
            pos = k + n
        trail = len(z) - len(z.rstrip(b"0"))
        if trail and len(z) - trail >= pos and not self.run:
            self.start_run(data, len(z) - trail, trail)
        stripped = data.rstrip(_WS + b"-")  # a minus sign belongs to the number after it
        if stripped:
            self.sig = stripped[-1]
        self.tail = window[-64:]

    def surrogates(self, window: bytes, more: bool) -> None:
        """Refuse a lone surrogate escape judged with 12 bytes after it (or at the end of the file)."""
        base = self.offset - len(self.tail)  # file offset of window[0]
        done, limit = len(self.tail) - 12, len(window) - (12 if more else 0)
        for m in _LONE_SURROGATE.finditer(window):
            if done < m.end() <= limit:
                slashes = len(window[: m.start()]) - len(window[: m.start()].rstrip(b"\\"))
                if slashes % 2 == 0:  # not an escaped backslash followed by "u..."
                    esc = window[m.start() : m.end()].decode("ascii")
                    raise _Refusal(base + m.start(), f"text holds a lone surrogate ({esc}): not valid Unicode")

    def start_run(self, data: bytes, k: int, n: int) -> None:
        """A digit run of ``n`` digits starts at ``data[k]``: a number if a colon, comma or bracket precedes it."""
        before = data[:k].rstrip(_WS)
        before = before[:-1].rstrip(_WS) if before.endswith(b"-") else before
        prev = before[-1] if before else self.sig
        self.run, self.run_start, self.run_number = n, self.offset + k, prev in b":,["

    def end_run(self) -> None:
        run, self.run = self.run, 0
        if self.run_number and run >= _GUARD_DIGITS:
            raise _Refusal(self.run_start, f"integer of {run:,} digits (at most {MAX_INT_DIGITS})")

    def where(self, source: str) -> str:
        return f"{source}:{self.block_line}:{self.block_col}"


def _line_col(path: Path, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of a byte offset; the column counts characters (UTF-8) as JSON readers do."""
    line, start, pos = 1, 0, 0
    with _open(path) as fp:
        skip = fp.tell()
        while pos < offset:
            data = fp.read(min(_BLOCK * 16, offset - pos))
            if not data:
                break
            nl = data.count(b"\n")
            if nl:
                line += nl
                start = pos + data.rfind(b"\n") + 1
            pos += len(data)
        fp.seek(skip + start)
        col = len(fp.read(offset - start).decode("utf-8", "replace")) + 1
    return line, col


def _json_problem(path: Path, source: str, offset: int, message: str) -> Problem:
    line, col = _line_col(path, offset)
    return Problem(f"{source}:{line}:{col}", message)


def _pinpoint(path: Path, source: str, limits: StreamLimits, block_offset: int, fallback: Problem) -> Problem:
    """Parse again up to the block that broke a rule, then a byte at a time: the exact place and reason."""
    depth = 0
    events = ijson.sendable_list()
    coro = ijson.parse_coro(events, use_float=False)
    data = b""
    with _open(path) as raw:
        fp = _Counting(raw, fine_from=block_offset)
        try:
            while True:
                data = fp.read(_BLOCK)
                if data:
                    coro.send(data)
                else:
                    coro.close()
                for _prefix, ev, value in events:
                    if ev in ("start_map", "start_array"):
                        depth += 1
                        if depth > limits.max_depth:
                            return _json_problem(path, source, fp.offset - 1,
                                                 f"nested deeper than {limits.max_depth} levels")
                    elif ev in ("end_map", "end_array"):
                        depth -= 1
                    elif ev == "number" and isinstance(value, int) and len(str(abs(value))) > limits.max_int_digits:
                        tok = str(value)
                        return _json_problem(path, source, fp.offset - 1 - len(tok), f"integer of "
                                             f"{len(tok.lstrip('-')):,} digits (at most {limits.max_int_digits})")
                    elif ev == "string" and len(value) > limits.max_string_chars:
                        return _json_problem(path, source, fp.offset - 1, f"string longer than "
                                                                          f"{limits.max_string_chars:,} characters")
                del events[:]
                if not data:
                    return fallback
        except _Refusal as exc:
            return _json_problem(path, source, exc.offset, exc.message)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            at = fp.offset if not data else max(fp.offset - 1, 0)  # at the end: the place after the last byte
            bom = 3 if _has_bom(path) else 0
            raw.seek(max(at - 1, 0) + bom)
            before = raw.read(1) if at else b""
            here = raw.read(16)
            const = re.match(rb"-?Infinity|NaN", before + here if before == b"-" else here)
            if const:
                at -= before == b"-" and const.group().startswith(b"-")
                return _json_problem(path, source, at, f"{const.group().decode()} is not a JSON number")
            if not _valid_utf8_start(here):
                return Problem(source, f"not UTF-8 text: undecodable byte 0x{here[0]:02X} at offset {at}")
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            text = text[2:] if text.startswith("b'") else text  # yajl's message about bytes
            if "UTF8" in text:
                return _json_problem(path, source, at, f"not UTF-8 text: {text}")
            return _json_problem(path, source, at, f"invalid JSON: {text}")


def _has_bom(path: Path) -> bool:
    with path.open("rb") as fp:
        return fp.read(3) == b"\xef\xbb\xbf"


def _valid_utf8_start(data: bytes) -> bool:
    """True when ``data`` starts with a whole UTF-8 character (it may be cut off after it)."""
    for k in range(1, 5):
        try:
            data[:k].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def _skeleton(path: Path, source: str, limits: StreamLimits,
              progress: Callable[[int, int], None] | None) -> tuple[Any, int, list[Problem]]:
    """Pass 1: the document without its events, the number of events, and JSON-level problems."""
    builder = ijson.ObjectBuilder()
    count, depth = 0, 0
    problems: list[Problem] = []
    with _open(path) as raw:
        fp = _Counting(raw)
        try:
            for prefix, ev, value in ijson.parse(fp, buf_size=_BLOCK, use_float=False):
                if ev in ("start_map", "start_array"):
                    depth += 1
                    if depth > limits.max_depth:
                        problems.append(Problem(fp.where(source), f"JSON nested deeper than {limits.max_depth} "
                                                                  "levels (within the next 64 KiB)"))
                        break
                elif ev in ("end_map", "end_array"):
                    depth -= 1
                elif ev == "number" and isinstance(value, int) and len(str(abs(value))) > limits.max_int_digits:
                    problems.append(Problem(fp.where(source), f"integer with more than {limits.max_int_digits} "
                                                              "digits (within the next 64 KiB)"))
                elif ev == "string" and len(value) > limits.max_string_chars:
                    problems.append(Problem(fp.where(source), f"string longer than {limits.max_string_chars} "
                                                              "characters (within the next 64 KiB)"))
                in_event = any(prefix == p or prefix.startswith(p + ".") for p in _ITEM_PREFIXES)
                if in_event:
                    if prefix in _ITEM_PREFIXES and ev not in ("end_map", "end_array"):
                        count += 1
                        if progress is not None and count % 1000 == 0:
                            progress(fp.offset, 0)
                    continue
                builder.event(ev, value)
        except _Refusal as exc:
            return None, count, [_json_problem(path, source, exc.offset, exc.message)]
        except ijson.JSONError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(Problem(fp.where(source), f"invalid JSON (within the next 64 KiB): {message}"))
        except UnicodeDecodeError as exc:
            problems.append(Problem(f"{source}", f"not UTF-8 text: undecodable byte near offset "
                                                 f"{fp.block_offset + exc.start}"))
        if problems:  # the first JSON-level problem, at its byte
            if _is_utf16(path):
                return None, count, [Problem(source, "UTF-16 text: a document streamed in bounded memory must be "
                                                     "UTF-8 (save it as UTF-8, or below 16 MiB as UTF-16 with BOM)")]
            return None, count, [_pinpoint(path, source, limits, fp.block_offset, problems[0])]
    return getattr(builder, "value", None), count, problems


def _is_utf16(path: Path) -> bool:
    with path.open("rb") as fp:
        return fp.read(2) in (b"\xff\xfe", b"\xfe\xff")


def iter_epcis_chunks(
    path: Path,
    source: str,
    limits: StreamLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[list[LocatedEvent], list[Problem]]]:
    """Read an EPCIS 2.0 JSON-LD file in chunks: (events of the chunk, problems found since the last chunk).

    Parameters
    ----------
    path : Path
        A UTF-8 document (with or without BOM).
    source : str
        Name used in locations (``<source>#/epcisBody/eventList/3`` or ``<source>:<line>:<column>``).
    limits : StreamLimits, optional
        Chunk size and JSON bounds.
    progress : callable, optional
        Called with (bytes read in the current pass, events read so far).

    Yields
    ------
    (list of LocatedEvent, list of Problem)
        The first chunk starts with the document's master data; a document with JSON-level problems yields
        only those problems.
    """
    limits = limits or StreamLimits()
    skeleton, n_events, problems = _skeleton(path, source, limits, progress)
    if problems:
        yield [], problems
        return
    reader = EpcisReader(source)
    head = reader.document_head(skeleton)
    if head is None:
        yield [], list(reader.problems)
        return
    base, listed = head
    if listed:  # the skeleton keeps no events; a non-empty list means the events were not where expected
        raise AssertionError("event list was not skipped")
    prefix = base.strip("/").replace("/", ".") + ".item"
    seen = 0
    with _open(path) as fp:
        for i, ev in enumerate(ijson.items(fp, prefix, use_float=False, buf_size=_BLOCK)):
            reader.event(ev, f"{base}/{i}")
            if (i + 1) % limits.chunk_events == 0:
                if progress is not None:
                    progress(fp.tell(), i + 1)
                yield reader.take(), reader.problems[seen:]
                seen = len(reader.problems)
        if progress is not None:
            progress(fp.tell(), n_events)
    yield reader.take(), reader.problems[seen:]
