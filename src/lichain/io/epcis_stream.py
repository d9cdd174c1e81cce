"""EPCIS 2.0 JSON-LD documents of any size, read in bounded memory as chunks of located events.

Why this exists: a year of a plant's events is a document of gigabytes; parsing it whole takes about eight times
its size in memory. This reader makes two passes over the file with a streaming JSON parser (ijson, C backend):

1. everything but the events (``@context``, ``type``, header master data, …) is built as a small skeleton, the
   events are counted, and the whole text is checked as JSON (syntax, nesting depth, size of numbers and
   strings), so a broken document is refused before any event is read;
2. the events are read one by one and handed on in chunks, each with the document's master data first.

The per-event reading is :class:`lichain.io.epcis_read.EpcisReader`'s, so a streamed document yields the same
events and problems as :func:`lichain.io.epcis_read.read_epcis` on the same text. A JSON error found while
streaming is located by the line and column of the start of the 64 KiB block that holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from lichain.core.errors import Problem
from lichain.core.validate import LocatedEvent
from lichain.io.epcis_read import EVENT_LISTS, EpcisReader

__all__ = ["StreamLimits", "iter_epcis_chunks"]

_BLOCK = 1 << 16
_ITEM_PREFIXES = tuple(p.strip("/").replace("/", ".") + ".item" for p in EVENT_LISTS)


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """Bounds of a streamed document: events per chunk, nesting depth, digits of an integer, string length."""

    chunk_events: int = 5_000
    max_depth: int = 64
    max_int_digits: int = 40
    max_string_chars: int = 1 << 20


def _open(path: Path) -> IO[bytes]:
    """The file positioned after a UTF-8 byte-order mark, if any."""
    fp = path.open("rb")
    if fp.read(3) != b"\xef\xbb\xbf":
        fp.seek(0)
    return fp


class _Counting:
    """A binary file wrapper that counts bytes read and the lines and columns before each block."""

    def __init__(self, fp: IO[bytes]) -> None:
        self.fp = fp
        self.offset = 0
        self.line, self.col = 1, 1
        self.block_line, self.block_col, self.block_offset = 1, 1, 0

    def read(self, n: int = -1) -> bytes:
        data = self.fp.read(n)
        self.block_line, self.block_col, self.block_offset = self.line, self.col, self.offset
        self.offset += len(data)
        nl = data.count(b"\n")
        if nl:
            self.line += nl
            self.col = len(data) - data.rfind(b"\n")
        else:
            self.col += len(data)
        return data

    def where(self, source: str) -> str:
        return f"{source}:{self.block_line}:{self.block_col}"


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
        except ijson.JSONError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(Problem(fp.where(source), f"invalid JSON (within the next 64 KiB): {message}"))
        except UnicodeDecodeError as exc:
            problems.append(Problem(f"{source}", f"not UTF-8 text: undecodable byte near offset "
                                                 f"{fp.block_offset + exc.start}"))
    return getattr(builder, "value", None), count, problems


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
