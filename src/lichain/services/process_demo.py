"""The demo's manufacturing data: process readings of its precursor and cathode lines with one injected pH
shift, specifications, and certificates of analysis of its pCAM and CAM lots with one out-of-spec lot and the
deviation that released it.

Why this exists: ``lichain spc`` and ``lichain quality`` need data to show, and the README's commands run on the
demo. Everything is deterministic in the seed. The demo's co-precipitation runs overlap in time at the precursor
plant, so they are assigned to lines (``PCAM-L1``, ``PCAM-L2`` …: each run to the first line free at its start);
calcination runs likewise to ``CAM-L1`` …. Readings every 10 minutes of each run, independent normal noise around
each parameter's set point. On ``PCAM-L1``, the run that starts first in March 2026 runs at pH +0.3 for its
whole window: the X̄ chart of March signals it, and the pCAM lot that run made has a D50 below specification
(a higher pH makes finer particles), released by a deviation. Quality facts are recorded after the chain with
business times before the lots are consumed (certificate 6 h after production, deviation 1 h later).

Readings need a folder (:func:`lichain.storage.process_store.process_root`): on a server database without
``LICHAIN_PROCESS_DIR`` the demo records the quality facts only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np

from lichain.core.model import Event, EventKind, LocatedEvent
from lichain.core.quality_model import Certificate, Deviation, Limit, Measured, Specification
from lichain.core.validate import BalancePolicy
from lichain.services.ingest import ingest_events
from lichain.services.process import ingest_readings
from lichain.services.record import assign_ids
from lichain.storage.process_sql import demo_runs
from lichain.storage.process_store import process_root

__all__ = ["SHIFT_LINE", "ManufacturingDemo", "record_manufacturing"]

SHIFT_LINE = "PCAM-L1"
_SHIFT_PH = 0.3
_STEP = timedelta(minutes=10)
#: Set point and noise (sd) of each demo parameter [its unit].
_PCAM = {"pH": (11.40, 0.03), "temperature": (55.0, 0.4), "nh3_concentration": (8.0, 0.15),
         "stirring_speed": (600.0, 5.0)}
_CAM = {"peak_temperature": (780.0, 2.0), "o2_flow": (12.0, 0.2)}
_UNITS = {"pH": "pH", "temperature": "°C", "nh3_concentration": "g/L", "stirring_speed": "rpm",
          "peak_temperature": "°C", "o2_flow": "L/min"}
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ManufacturingDemo:
    """What the demo recorded: lines, readings, certificates, and the out-of-spec lot with its deviation."""

    lines: tuple[str, ...]
    readings: int
    certificates: int
    out_of_spec_lot: str | None
    deviation: str | None
    shifted_run: str | None


def _lines(runs: list[tuple[str, str, datetime, datetime]], prefix: str) -> dict[str, list[tuple[str, datetime,
                                                                                              datetime]]]:
    """Runs assigned to lines: each to the first line free at its start (interval partitioning)."""
    lines: list[list[tuple[str, datetime, datetime]]] = []
    for rid, _site, a, b in sorted(runs, key=lambda r: (r[2], r[0])):
        for line in lines:
            if line[-1][2] <= a:
                line.append((rid, a, b))
                break
        else:
            lines.append([(rid, a, b)])
    return {f"{prefix}-L{i + 1}": line for i, line in enumerate(lines)}


def _by_site(runs: list[tuple[str, str, datetime, datetime]], prefix: str) -> dict[str, list[tuple[str, datetime,
                                                                                                datetime]]]:
    """Lines of each site (the first site's lines are PREFIX-L1 …, the second's PREFIX2-L1 …)."""
    out = {}
    for k, site in enumerate(sorted({r[1] for r in runs})):
        out.update(_lines([r for r in runs if r[1] == site], prefix if k == 0 else f"{prefix}{k + 1}"))
    return out


def _write_csv(path: Path, runs: list[tuple[str, datetime, datetime]], params: dict[str, tuple[float, float]],
               rng: np.random.Generator, shifted: str | None) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "run", "parameter", "value", "unit"])
        for rid, a, b in runs:
            k = int((b - a) / _STEP) + 1
            times = [(a + i * _STEP).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(k)]
            for p, (mu, sd) in params.items():
                vals = rng.normal(mu + (_SHIFT_PH if p == "pH" and rid == shifted else 0.0), sd, k)
                w.writerows([t, rid, p, f"{v:.4f}", _UNITS[p]] for t, v in zip(times, vals, strict=True))
                n += k
    return n


_PCAM_SPEC = (Limit("D10", "µm", Decimal("4.0"), None), Limit("D50", "µm", Decimal("9.5"), Decimal("12.5")),
              Limit("D90", "µm", None, Decimal("22")), Limit("tap_density", "g/cm3", Decimal("1.9"), None),
              Limit("BET", "m2/g", Decimal("3"), Decimal("12")), Limit("Na", "ppm", None, Decimal("150")),
              Limit("S", "ppm", None, Decimal("1500")), Limit("Fe", "ppm", None, Decimal("30")),
              Limit("Cu", "ppm", None, Decimal("20")), Limit("Zn", "ppm", None, Decimal("20")),
              Limit("moisture", "%", None, Decimal("1.0")), Limit("magnetic", "ppb", None, Decimal("100")))
_CAM_SPEC = (Limit("D50", "µm", Decimal("9"), Decimal("13")), Limit("tap_density", "g/cm3", Decimal("2.2"), None),
             Limit("BET", "m2/g", Decimal("0.2"), Decimal("0.8")), Limit("Na", "ppm", None, Decimal("200")),
             Limit("Fe", "ppm", None, Decimal("30")), Limit("moisture", "%", None, Decimal("0.05")),
             Limit("magnetic", "ppb", None, Decimal("50")))


def _values(rng: np.random.Generator, cam: bool, d50: float | None = None) -> tuple[Measured, ...]:
    def m(p: str, v: float, unit: str, places: int = 2) -> Measured:
        return Measured(p, Decimal(f"{v:.{places}f}"), unit)

    d = float(d50 if d50 is not None else rng.normal(11.0, 0.4))
    out = [m("D10", d * 0.55, "µm"), m("D50", d, "µm"), m("D90", d * 1.55, "µm"),
           m("tap_density", rng.normal(2.45 if cam else 2.1, 0.05), "g/cm3"),
           m("BET", rng.normal(0.45 if cam else 6.0, 0.05 if cam else 0.5), "m2/g"),
           m("Na", rng.uniform(40, 110), "ppm", 0), m("S", rng.uniform(600, 1100), "ppm", 0),
           m("Fe", rng.uniform(3, 12), "ppm", 1), m("Cu", rng.uniform(1, 5), "ppm", 1),
           m("Zn", rng.uniform(1, 6), "ppm", 1), m("moisture", rng.uniform(0.01, 0.03) if cam else
                                                   rng.uniform(0.2, 0.6), "%", 3),
           m("magnetic", rng.uniform(10, 40), "ppb", 0)]
    return tuple(out)


def record_manufacturing(store: Any, seed: int, policy: BalancePolicy | None = None) -> ManufacturingDemo:
    """Record the demo's specifications, readings, certificates and deviation (see the module doc)."""
    rng = np.random.default_rng(seed + 12)
    pcam_runs, cam_runs, lots = demo_runs(store)
    pcam_lines = _by_site(pcam_runs, "PCAM")
    cam_lines = _by_site(cam_runs, "CAM")
    l1 = pcam_lines.get(SHIFT_LINE, [])
    shifted = next((rid for rid, a, _ in l1 if a >= datetime(2026, 3, 1, tzinfo=UTC)), None)
    readings = 0
    root = process_root(store.url)
    if root is not None:
        with TemporaryDirectory() as tmp:
            for lines, params in ((pcam_lines, _PCAM), (cam_lines, _CAM)):
                for line, runs in lines.items():
                    path = Path(tmp) / f"{line}.csv"
                    _write_csv(path, runs, params, rng, shifted if line == SHIFT_LINE else None)
                    r = ingest_readings(store, path, line, root=root, policy=policy)
                    if not r.ok:
                        raise RuntimeError(f"demo readings of {line} refused: {r.problems[:3]}")
                    readings += r.rows
    bodies: list[tuple[datetime, object]] = []
    issued = _T0
    bodies.append((issued, Specification("PCAM-NCM811", "QS-PCAM-811/3", issued, _PCAM_SPEC,
                                          source="demo specification")))
    bodies.append((issued, Specification("PCAM-NCM622", "QS-PCAM-622/2", issued, _PCAM_SPEC,
                                          source="demo specification")))
    for code, version in (("CAM-NCM811", "QS-CAM-811/4"), ("CAM-NCM622", "QS-CAM-622/2")):
        bodies.append((issued, Specification(code, version, issued, _CAM_SPEC, source="demo specification")))
    for line in pcam_lines:
        bodies.append((issued, Specification(line, "QS-PROC-COPREC/1", issued, (
            Limit("pH", "pH", Decimal("11.2"), Decimal("11.6")), Limit("temperature", "°C", Decimal("53"),
                                                                       Decimal("57"))), "process",
                                             "demo process specification")))
    versions = {"PCAM-NCM811": "QS-PCAM-811/3", "PCAM-NCM622": "QS-PCAM-622/2", "CAM-NCM811": "QS-CAM-811/4",
                "CAM-NCM622": "QS-CAM-622/2"}
    bad_lot = next((lot for lot, (material, _, run) in lots.items() if run == shifted and material.startswith("PCAM")),
                   None)
    deviation = None
    n = 0
    for lot, (material, produced, _run) in lots.items():
        at = produced + timedelta(hours=6)
        cam = material.startswith("CAM")
        vals = _values(rng, cam, d50=8.9 if lot == bad_lot else None)
        bodies.append((at, Certificate(f"COA-{n + 1:06d}", lot, versions[material], at, "Quzhou QC laboratory"
                                       if not cam else "Tongxiang QC laboratory", vals, "laser diffraction, "
                                       "ICP-OES, BET N2, Karl Fischer")))
        n += 1
        if lot == bad_lot:
            deviation = f"DEV-{produced:%Y}-001"
            bodies.append((at + timedelta(hours=1), Deviation(
                deviation, lot, "Head of Quality, Quzhou precursor plant", "D50 8.9 µm below 9.5 µm after a pH "
                "excursion on PCAM-L1; blended at ≤ 20 % into calcination, accepted by the cathode plant",
                at + timedelta(hours=1), ("D50",))))
    evs = assign_ids([Event("", EventKind(_KIND[type(b)]), t, b) for t, b in bodies])  # type: ignore[arg-type]
    done = ingest_events([LocatedEvent(f"demo-quality:{i}", e) for i, e in enumerate(evs)], store,
                         source="lichain demo (quality)", policy=policy)
    if not done.ok:
        raise RuntimeError(f"demo quality facts refused: {done.problems[:3]}")
    return ManufacturingDemo(tuple(sorted(pcam_lines)) + tuple(sorted(cam_lines)), readings, n, bad_lot, deviation,
                             shifted)


_KIND = {Specification: "specification", Certificate: "coa", Deviation: "deviation"}
