"""lichain: the data side of the lithium-battery materials chain.

The public Python API (documented in docs/api.md)::

    import lichain
    with lichain.open_ledger("ledger.db") as ledger:
        result = ledger.ingest("chain.xlsx")        # an IngestResult: ok, events_written, problems …
        print(ledger.verify().head)                 # a Verification

Names load on first use, so ``import lichain`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → module that defines it.
_EXPORTS = {
    "Ledger": "lichain.api",
    "UnsupportedError": "lichain.api",
    "memory_ledger": "lichain.api",
    "open_ledger": "lichain.api",
    "to_json": "lichain.entrypoints.present",
    "LichainError": "lichain.core.errors",
    "ChainBrokenError": "lichain.core.errors",
    "ConflictError": "lichain.core.errors",
    "NotFoundError": "lichain.core.errors",
    "PeriodError": "lichain.core.errors",
    "Problem": "lichain.core.errors",
    "StorageError": "lichain.core.errors",
    "ValidationFailed": "lichain.core.errors",
    "Period": "lichain.core.period",
    "IngestResult": "lichain.services.ingest",
    "Verification": "lichain.services.verify",
    "ChainPoint": "lichain.services.verify",
    "ProjectionMismatch": "lichain.core.ports",
    "Checkpoint": "lichain.services.checkpoint",
    "CheckpointPayload": "lichain.services.checkpoint",
    "CheckpointCheck": "lichain.services.checkpoint",
    "BalanceCheck": "lichain.services.query",
    "BalanceProblem": "lichain.services.query",
    "LedgerSummary": "lichain.services.query",
    "StageCount": "lichain.services.query",
    "DemoReport": "lichain.services.demo",
}
_RENAMED = {"to_json": "jsonable"}

__all__ = [
    "BalanceCheck",
    "BalanceProblem",
    "ChainBrokenError",
    "ChainPoint",
    "Checkpoint",
    "CheckpointCheck",
    "CheckpointPayload",
    "ConflictError",
    "DemoReport",
    "IngestResult",
    "Ledger",
    "LedgerSummary",
    "LichainError",
    "NotFoundError",
    "Period",
    "PeriodError",
    "Problem",
    "ProjectionMismatch",
    "StageCount",
    "StorageError",
    "UnsupportedError",
    "ValidationFailed",
    "Verification",
    "__version__",
    "memory_ledger",
    "open_ledger",
    "to_json",
]

if TYPE_CHECKING:
    from lichain.api import Ledger, UnsupportedError, memory_ledger, open_ledger
    from lichain.core.errors import (
        ChainBrokenError,
        ConflictError,
        LichainError,
        NotFoundError,
        PeriodError,
        Problem,
        StorageError,
        ValidationFailed,
    )
    from lichain.core.period import Period
    from lichain.core.ports import ProjectionMismatch
    from lichain.entrypoints.present import jsonable as to_json
    from lichain.services.checkpoint import Checkpoint, CheckpointCheck, CheckpointPayload
    from lichain.services.demo import DemoReport
    from lichain.services.ingest import IngestResult
    from lichain.services.query import BalanceCheck, BalanceProblem, LedgerSummary, StageCount
    from lichain.services.verify import ChainPoint, Verification


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lichain' has no attribute {name!r}")
    value = getattr(import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
