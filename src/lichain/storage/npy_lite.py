"""Rows of ``.npy`` files read with the standard library, for one-shot commands that must not import numpy.

Implements the part of the NPY format (numpy's ``numpy.lib.format``, versions 1.0-3.0) that the origin-shares
cache uses: C-ordered arrays of fixed-width bytes (``|S<w>``), little-endian float64 (``<f8``) and int8
(``|i1``). Files are memory-mapped, so finding a few lots in a million reads only the pages it touches.
``tests/unit/test_npy_lite.py`` checks every reader against numpy on arrays numpy wrote.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NpyArray", "open_npy"]

_MAGIC = b"\x93NUMPY"
_DESCR = re.compile(r"'descr':\s*'([^']+)'")
_ORDER = re.compile(r"'fortran_order':\s*(True|False)")
_SHAPE = re.compile(r"'shape':\s*\(([^)]*)\)")


@dataclass(frozen=True)
class NpyArray:
    """A memory-mapped ``.npy`` array: its dtype string, shape and where its data starts."""

    descr: str
    shape: tuple[int, ...]
    offset: int
    buf: mmap.mmap

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return int(self.descr[2:])

    def find_bytes(self, value: bytes) -> int | None:
        """Index of the first element equal to ``value`` in a 1-d ``|S<w>`` array, or None."""
        if self.descr[:2] != "|S" or len(self.shape) != 1:
            raise ValueError(f"not a 1-d bytes array: {self.descr} {self.shape}")
        w = self.itemsize
        if len(value) > w or not value or value.endswith(b"\0"):
            return None
        key = value + b"\0" * (w - len(value))
        end = self.offset + w * self.shape[0]
        at = self.buf.find(key, self.offset, end)
        while at != -1:
            if (at - self.offset) % w == 0:
                return (at - self.offset) // w
            at = self.buf.find(key, at + 1, end)
        return None

    def row(self, i: int) -> tuple[float | int, ...]:
        """Element ``i`` of a 1-d array, or row ``i`` (flattened) of an n-d numeric array, as Python numbers."""
        if self.descr not in ("<f8", "|i1"):
            raise ValueError(f"unsupported dtype {self.descr}")
        if not 0 <= i < self.shape[0]:
            raise IndexError(i)
        per_row = 1
        for n in self.shape[1:]:
            per_row *= n
        code = "d" if self.descr == "<f8" else "b"
        size = self.itemsize * per_row
        return struct.unpack_from(f"<{per_row}{code}", self.buf, self.offset + i * size)


def open_npy(path: Path) -> NpyArray:
    """Map ``path`` and read its NPY header; ``ValueError`` for what this reader does not handle."""
    with open(path, "rb") as f:
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if buf[:6] != _MAGIC:
        raise ValueError(f"{path}: not an NPY file")
    major = buf[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", buf, 8)
        start = 10
    elif major in (2, 3):
        (hlen,) = struct.unpack_from("<I", buf, 8)
        start = 12
    else:
        raise ValueError(f"{path}: NPY version {major} not supported")
    header = bytes(buf[start:start + hlen]).decode("latin-1" if major < 3 else "utf-8")
    descr, order, shape = _DESCR.search(header), _ORDER.search(header), _SHAPE.search(header)
    if descr is None or order is None or shape is None or order.group(1) == "True":
        raise ValueError(f"{path}: unsupported NPY header {header.strip()}")
    dims = tuple(int(x) for x in shape.group(1).replace(" ", "").split(",") if x)
    return NpyArray(descr.group(1), dims, start + hlen, buf)
