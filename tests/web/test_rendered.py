"""The API's encoding of trace and footprint answers (``msgspec`` over the result dataclasses) gives the JSON the
one presenter gives (:func:`lichain.entrypoints.present.jsonable` with ``json.dumps``), for every lot and every
variant of a demo chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lichain.entrypoints.present import jsonable
from lichain.storage.sql import SqlStore
from lichain.web.service import rendered


def _reference(result: Any) -> Any:
    return json.loads(json.dumps(jsonable(result), ensure_ascii=False, allow_nan=False))


def test_rendered_answers_parse_to_the_presenters_json(sqlite_store: SqlStore, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from lichain.services.demo import run_demo
    from lichain.services.footprint import lot_footprint
    from lichain.services.query import list_lots
    from lichain.services.trace import trace_lot

    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    run_demo(sqlite_store, lots=300, seed=3)
    lots = [x.id for stage in ("cam", "pcam", "ore", "cell") for x in list_lots(sqlite_store, stage=stage, limit=15)]
    assert len(lots) >= 30
    checked = 0
    for k, lot in enumerate(lots):
        answers = [trace_lot(sqlite_store, lot), trace_lot(sqlite_store, lot, down=True, by="site"),
                   trace_lot(sqlite_store, lot, by="country", graph=True), lot_footprint(sqlite_store, lot)]
        if lot.startswith(("CAM", "PCAM")) or k % 3 == 0:
            answers.append(lot_footprint(sqlite_store, lot, 200.0, 3.7) if "CAM" in lot else answers[-1])
        for n, result in enumerate(answers):
            body = rendered(("test", lot, n), result).body
            assert json.loads(body) == _reference(result), (lot, n)
            checked += 1
    assert checked >= 4 * len(lots)
