"""The public Python API is pinned: its names, their documentation, its typing marker and its import cost."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import lichain

PUBLIC = [
    "BalanceCheck", "BalanceProblem", "ChainBrokenError", "ChainPoint", "Checkpoint", "CheckpointCheck",
    "CheckpointPayload", "ConflictError", "DemoReport", "IngestResult", "Ledger", "LedgerSummary", "LichainError",
    "NotFoundError", "Period", "PeriodError", "Problem", "ProjectionMismatch", "StageCount", "StorageError",
    "UnsupportedError", "ValidationFailed", "Verification", "__version__", "memory_ledger", "open_ledger",
    "to_json",
]  # fmt: skip


def test_public_names_are_pinned_and_resolve() -> None:
    assert lichain.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(lichain, name) is not None
    assert dir(lichain) == PUBLIC


def test_every_public_name_and_ledger_method_is_documented() -> None:
    for name in PUBLIC:
        obj = getattr(lichain, name)
        if callable(obj):
            assert inspect.getdoc(obj), name
    methods = [m for m, f in inspect.getmembers(lichain.Ledger, inspect.isfunction) if not m.startswith("_")]
    assert {"ingest", "record", "verify", "checkpoint", "verify_against", "lot", "lots", "trace",
            "footprint"} <= set(methods)
    for m in methods:
        assert inspect.getdoc(getattr(lichain.Ledger, m)), m


def test_package_is_typed_and_import_is_cheap() -> None:
    assert (Path(lichain.__file__).parent / "py.typed").exists()
    code = ("import sys, lichain; heavy = [m for m in ('sqlalchemy', 'numpy', 'numba', 'rich', 'typer') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        lichain.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("lichain.no_such_thing resolved")
