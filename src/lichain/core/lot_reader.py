"""Port of the one-lot read path: what showing a lot (its run, inputs, use so far and stock per site) needs.

Two adapters implement it: :class:`lichain.storage.queries.SqlLotReader` over any SQL store, and
:class:`lichain.storage.sqlite_read.SqliteLotReader`, the standard library's ``sqlite3`` on a SQLite ledger
file, which spares a one-shot ``lichain show`` the import of SQLAlchemy. A test holds them equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from lichain.core.ports import Movement

__all__ = ["LotReader", "LotRow"]


@dataclass(frozen=True, slots=True)
class LotRow:
    """A lot as listed: masses in mg, assay in parts per 10⁹."""

    idx: int
    id: str
    material: str
    stage: str
    site: str
    produced_us: int
    mass_mg: int
    origin: str
    assay: dict[str, int]


@runtime_checkable
class LotReader(Protocol):
    """Reads of one lot (raw units: mg, ppb, µs since the Unix epoch)."""

    url: str
    is_sqlite: bool

    def head(self) -> tuple[int, str]:
        """(last seq, chain hash) of the event chain."""
        ...

    def find_lot(self, lot_id: str) -> LotRow | None:
        """One lot by id (live or retracted), or None."""
        ...

    def lot_detail(self, idx: int) -> dict[str, Any]:
        """Producing run (all its columns) with its inputs, live consuming runs, live shipments, retraction."""
        ...

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        """Live movements of the stored lots among ``ids`` (production, shipments, consumptions)."""
        ...

    def full_store(self) -> Any:
        """The ledger's full SQL store, for what this reader does not cover (e.g. a cold analysis cache)."""
        ...
