"""Terminal tables that fit the terminal: ids shortened in the middle, numbers whole, cut rows announced.

Why this exists: Rich, left alone, squeezes a table wider than the terminal by cutting cells at their end
("https://id.gs1.org/01/095…"), which hides exactly the part of a lot id that tells lots apart, and it can cut
numbers too. Here a table is laid out for the console's width first: numbers keep their full width and never
wrap; text wraps (folds) instead of being cut; ids, when they must give way, lose their middle and keep both
ends readable, and the table says so. When a listing shows fewer rows than there are, it says how many and how
to see all (``--limit 0``). ``--json`` always carries every value whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["Col", "elide_middle", "print_table", "rows_note"]

ELLIPSIS = "…"
_MIN_ID = 16  # an id is never shortened below this many characters
_MAX_WORD = 12  # a text column keeps the width of its longest word, up to this; longer words fold
_MIN_FOLD = 5  # and never folds narrower than this


@dataclass(frozen=True, slots=True)
class Col:
    """A column: header and kind (``id`` shortened in the middle, ``num`` right-aligned and whole, ``text``)."""

    header: str
    kind: str = "text"


def elide_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: a third of it from the head, an ellipsis, the rest from the tail.

    The tail gets the larger part: a lot id's tail (item and lot number) tells lots apart more than its head.
    """
    if len(text) <= width:
        return text
    width = max(width, 3)
    head = max(1, (width - 1) // 3)
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + text[len(text) - tail:]


def rows_note(shown: int, total: int, offset: int = 0, how: str = "--limit 0 for all") -> str | None:
    """"showing 50 of 1,234; --limit 0 for all" when rows were left out, else None (``how``: how to see all)."""
    if offset == 0 and shown >= total:
        return None
    where = f"rows {offset + 1:,}–{offset + shown:,}" if offset and shown else f"{shown:,}"
    return f"showing {where} of {total:,}; {how}" + (", --offset 0 from the start" if offset else "")


def _table(title: str | None) -> Table:
    """The table style: no vertical borders, a rule under the header, two spaces between columns."""
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                 title_justify="left")


def _overhead(ncols: int) -> int:
    """Characters the table style spends between columns (measured on a table of 1-character cells)."""
    t = _table(None)
    for _ in range(ncols):
        t.add_column("x")
    return int(Console(width=10_000).measure(t).maximum) - ncols


def _min_text(cells: Sequence[str], header: str) -> int:
    words = [len(w) for c in [header, *cells] for w in c.split()]
    return min(max(words, default=1), _MAX_WORD)


def _widths(cols: Sequence[Col], rows: Sequence[Sequence[str]],
            width: int) -> tuple[list[int], list[int], list[int]]:
    """Natural widths; widths after shortening ids so the table fits ``width``; text columns' least widths."""
    natural = [max([max(map(len, c.header.split() or [""])) if c.kind == "num" else len(c.header),
                    *(len(r[i]) for r in rows)])
               for i, c in enumerate(cols)]  # a number column's header may wrap at words; its numbers never
    floor = [natural[i] if c.kind in ("num", "id") else _min_text([r[i] for r in rows], c.header)
             for i, c in enumerate(cols)]
    widths = list(natural)
    over = _overhead(len(cols))
    if sum(natural) + over <= width:
        return natural, widths, floor
    ids = [i for i, c in enumerate(cols) if c.kind == "id"]
    texts = [i for i, c in enumerate(cols) if c.kind == "text"]
    fixed = sum(natural[i] for i, c in enumerate(cols) if c.kind == "num")
    # text columns wrap at words; when even that does not fit beside the shortest ids, they fold narrower
    room = width - over - fixed - _MIN_ID * len(ids)
    while texts and sum(floor[i] for i in texts) > room and max(floor[i] for i in texts) > _MIN_FOLD:
        j = max(texts, key=lambda i: floor[i])
        floor[j] -= 1
    for i in ids:
        widths[i] = min(natural[i], _MIN_ID)
    for i in texts:
        widths[i] = floor[i]
    # what is left goes first to text up to a comfortable width, then to ids, then to text again
    spare = width - over - fixed - sum(widths[i] for i in ids + texts)
    comfortable = [min(n, _MAX_WORD) for n in natural]
    for cols_, cap in ((texts, comfortable), (ids, natural), (texts, natural)):
        lack = {i: max(0, cap[i] - widths[i]) for i in cols_}
        need = sum(lack.values())
        if spare <= 0 or need == 0:
            continue
        for i in cols_:
            give = lack[i] if need <= spare else spare * lack[i] // need
            widths[i] += give
        spare = width - over - fixed - sum(widths[i] for i in ids + texts)
    return natural, widths, floor


def print_table(out: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], *, title: str | None = None,
                total: int | None = None, offset: int = 0, how: str = "--limit 0 for all") -> None:
    """Print ``rows`` as a table fitted to ``out``'s width, then the notes on shortened ids and cut rows."""
    _, widths, _ = _widths(cols, rows, out.width)
    t = _table(title)
    for c, w in zip(cols, widths, strict=True):  # fixed widths: Rich then neither squeezes nor cuts a column
        if c.kind == "num":  # as wide as its widest number: numbers never wrap, the header may
            t.add_column(c.header, justify="right", width=w)
        else:
            t.add_column(c.header, overflow="fold", width=w)
    elided = False
    for r in rows:
        cells = []
        for c, w, cell in zip(cols, widths, r, strict=True):
            if c.kind == "id" and len(cell) > w:
                cell, elided = elide_middle(cell, w), True
            cells.append(cell)
        t.add_row(*cells)
    out.print(t, highlight=False)
    if elided:
        out.print(f"ids shortened in the middle ({ELLIPSIS}) to fit {out.width} columns; --json or a wider "
                  "terminal shows them whole", highlight=False)
    note = rows_note(len(rows), len(rows) if total is None else total, offset, how)
    if note:
        out.print(note, highlight=False)
