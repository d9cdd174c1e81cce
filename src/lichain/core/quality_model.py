"""Manufacturing and quality facts recorded as ledger events: specifications, certificates of analysis,
deviations, SPC alarms and ingested batches of process readings.

Why this exists: these are facts about lots and lines that quality and production sign for, so they belong on the
hash-chained ledger beside the lots they speak of (a changed CoA or a hidden deviation must be detectable). The
rules that decide whether they may be recorded are in :mod:`lichain.core.quality`; their canonical JSON form in
:mod:`lichain.core.quality_codec`. Numbers are exact decimals; every value carries its unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = [
    "Certificate",
    "Deviation",
    "Limit",
    "Measured",
    "ProcessBatch",
    "ProcessFile",
    "SpcAlarm",
    "Specification",
]


@dataclass(frozen=True, slots=True)
class Limit:
    """A specification limit of one property: ``low`` ≤ value ≤ ``high`` (either may be absent) [``unit``]."""

    prop: str
    unit: str
    low: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Specification:
    """A versioned specification: limits for a material's CoA (``scope`` "material", ``subject`` its code) or
    for a line's process parameters (``scope`` "process", ``subject`` the line id)."""

    subject: str
    version: str
    issued_at: datetime
    limits: tuple[Limit, ...]
    scope: str = "material"
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Measured:
    """One measured property of a certificate of analysis [``unit``]."""

    prop: str
    value: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate of analysis of a lot, measured against specification ``spec_version`` of its material."""

    id: str
    lot: str
    spec_version: str
    issued_at: datetime
    lab: str
    values: tuple[Measured, ...]
    method: str | None = None


@dataclass(frozen=True, slots=True)
class Deviation:
    """A recorded, approved deviation: lot ``lot`` may be consumed although out of specification.

    ``run`` limits the permission to one consuming run (None: any run); ``properties`` names the failing CoA
    properties it covers.
    """

    id: str
    lot: str
    approved_by: str
    reason: str
    declared_at: datetime
    properties: tuple[str, ...] = ()
    run: str | None = None


@dataclass(frozen=True, slots=True)
class SpcAlarm:
    """A control-chart signal recorded for a line's parameter: the rule, the chart point and its time window."""

    id: str
    line: str
    parameter: str
    chart: str  # "xbar", "r", "i", "mr"
    rule: str  # e.g. "WE1", "N2"
    window_start: datetime
    window_end: datetime
    value: Decimal
    center: Decimal
    lcl: Decimal
    ucl: Decimal
    unit: str
    declared_at: datetime


@dataclass(frozen=True, slots=True)
class ProcessFile:
    """One immutable Parquet partition file of an ingested batch: path under the process store, SHA-256, rows."""

    path: str
    sha256: str
    rows: int


@dataclass(frozen=True, slots=True)
class ProcessBatch:
    """A batch of process readings ingested for a line: the files written, their digest, rows, time range, units.

    ``digest`` is the SHA-256 of the sorted ``path sha256`` lines of ``files``; ``units`` maps each parameter of
    the batch to its unit; ``runs`` are the runs the readings link to (with their site, the line's site).
    """

    id: str
    line: str
    site: str | None
    source: str
    digest: str
    rows: int
    time_from: datetime
    time_to: datetime
    units: tuple[tuple[str, str], ...]
    files: tuple[ProcessFile, ...]
    runs: tuple[str, ...] = ()
