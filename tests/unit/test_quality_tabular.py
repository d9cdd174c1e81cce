"""The manufacturing and quality sheets: every event kind round-trips through a workbook and a CSV folder, a
record's rows must agree, and bad cells are refused at their cell."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import Workbook

from lichain.core.codec import canonical_payload, kind_of
from lichain.core.model import Event
from lichain.core.quality_check import batch_digest
from lichain.core.quality_model import (
    Certificate,
    Deviation,
    Limit,
    Measured,
    ProcessBatch,
    ProcessFile,
    SpcAlarm,
    Specification,
)
from lichain.io.tabular import read_workbook, write_workbook

T = datetime(2026, 3, 1, 10, tzinfo=UTC)


def _events() -> list[Event]:
    files = (ProcessFile("line=L1/month=2026-03/part-ab.parquet", "a" * 64, 7),
             ProcessFile("line=L1/month=2026-04/part-ab.parquet", "b" * 64, 3))
    bodies = [
        Specification("PCAM", "v2", T, (Limit("D50", "µm", D("9.5"), D("12.5")), Limit("Na", "ppm", None, D("150"))),
                      source="QS-1"),
        Specification("L1", "P/1", T, (Limit("pH", "pH", D("11.2"), D("11.6")),), "process"),
        Certificate("C-1", "LOT-1", "v2", T.replace(hour=12), "QC lab", (Measured("D50", D("8.9"), "µm"),
                                                                        Measured("Na", D("73"), "ppm")), "ICP-OES"),
        Deviation("DEV-1", "LOT-1", "Head of Quality", "agreed; blended", T.replace(hour=13), ("D50",), "R-9"),
        SpcAlarm("L1/pH/xbar/N1/2026-03-01T10:00:00Z", "L1", "pH", "xbar", "N1", T, T.replace(hour=11),
                 D("11.72"), D("11.4"), D("11.36"), D("11.44"), "pH", T.replace(hour=14)),
        ProcessBatch("ab", "L1", "P1", "l1.csv", batch_digest((f.path, f.sha256) for f in files), 10, T,
                     T.replace(month=4), (("pH", "pH"), ("temperature", "°C")), files, ("R-1", "R-2")),
    ]
    return [Event("", kind_of(b), T.replace(hour=15) if isinstance(b, ProcessBatch) else _at(b), b)
            for b in bodies]


def _at(b: object) -> datetime:
    return getattr(b, "issued_at", None) or b.declared_at  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["q.xlsx", "qcsv"])
def test_quality_sheets_round_trip(tmp_path: Path, name: str) -> None:
    events = _events()
    write_workbook(events, tmp_path / name)
    back, problems = read_workbook(tmp_path / name)
    assert problems == []
    assert sorted(canonical_payload(le.event.body) for le in back) == sorted(canonical_payload(e.body)
                                                                           for e in events)
    assert {le.event.body.__class__.__name__: le.event.time for le in back}["ProcessBatch"] == T.replace(hour=15)
    kinds = [type(le.event.body).__name__ for le in back]
    assert kinds.index("Specification") < kinds.index("Certificate") < kinds.index("Deviation")


def test_bad_cells_are_located(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "certificates"
    ws.append(["id", "lot", "spec_version", "issued_at", "lab", "property", "value", "unit"])
    ws.append(["C-1", "LOT-1", "v2", "2026-03-01T12:00:00Z", "lab", "D50", "abc", "µm"])
    ws.append(["C-2", "LOT-1", "v2", "2026-03-01T12:00:00Z", "lab", "D50", "9.9", "µm"])
    ws.append(["C-2", "LOT-2", "v2", "2026-03-01T12:00:00Z", "lab", "Na", "10", "ppm"])
    ws2 = wb.create_sheet("deviations")
    ws2.append(["id", "lot", "approved_by", "reason", "declared_at"])
    ws2.append(["D-1", "LOT-1", "QA", "ok", "2026-03-01T12:00:00"])
    wb.save(tmp_path / "bad.xlsx")
    events, problems = read_workbook(tmp_path / "bad.xlsx")
    where = {p.location: p.message for p in problems}
    assert any(loc.endswith("certificates!G2") and "must be a number" in m for loc, m in where.items())
    assert any(loc.endswith("certificates!B4") and "differs from the first row" in m for loc, m in where.items())
    assert any(loc.endswith("deviations!E2") and "offset" in m for loc, m in where.items())
    assert not any(isinstance(le.event.body, Certificate | Deviation) for le in events)
