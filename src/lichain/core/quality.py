"""Lot quality: specifications, certificates of analysis against them, deviations, and the write-time rule that a
run may not consume an out-of-specification lot unless a deviation is on record.

Why this exists: a precursor lot whose D50 or sodium is out of specification makes cathode that fails at the cell
maker; the ledger is where the consumption is recorded, so it is where the release rule is enforced, as a located
refusal naming the failing property and its limit. A lot's quality status is its latest certificate (by issue
time) judged against the specification version that certificate names; a lot without a certificate is not
judged (it may be consumed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lichain.core.model import LocatedEvent, Lot, Run
from lichain.core.quality_model import Certificate, Deviation, Specification
from lichain.core.quality_vocab import COA_PROPERTIES, PROCESS_PARAMETERS, unit_problem

__all__ = [
    "Failure",
    "QualityBook",
    "QualityRecords",
    "certificate_problems",
    "deviation_problems",
    "failures",
    "specification_problems",
]

Add = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Failure:
    """A measured property outside its specification limit [unit]."""

    prop: str
    value: str
    unit: str
    limit: str  # "low" or "high"
    bound: str

    def __str__(self) -> str:
        sign = "<" if self.limit == "low" else ">"
        return f"{self.prop} = {self.value} {self.unit} {sign} {self.limit} limit {self.bound} {self.unit}"


@dataclass(frozen=True, slots=True)
class QualityRecords:
    """What the stored ledger knows for the quality rule: lot materials, specifications, CoAs and deviations."""

    materials: dict[str, str]
    specifications: list[Specification]
    certificates: list[Certificate]
    deviations: list[Deviation]


def specification_problems(s: Specification) -> list[tuple[str, str]]:
    """Why a specification cannot be recorded: (field, reason) pairs."""
    out: list[tuple[str, str]] = []
    table = COA_PROPERTIES if s.scope == "material" else PROCESS_PARAMETERS
    if s.scope not in ("material", "process"):
        out.append(("/scope", f"scope must be 'material' or 'process', got {s.scope!r}"))
    if not s.version.strip():
        out.append(("/version", "a specification needs a version"))
    if not s.limits:
        out.append(("/limits", "a specification needs at least one limit"))
    seen: set[str] = set()
    for k, lim in enumerate(s.limits):
        why = unit_problem(lim.prop, lim.unit, table, "property" if s.scope == "material" else "parameter")
        if why:
            out.append((f"/limits/{k}/unit" if lim.prop in table else f"/limits/{k}/property", why))
        if lim.low is None and lim.high is None:
            out.append((f"/limits/{k}", f"limit of {lim.prop} needs low, high or both"))
        elif lim.low is not None and lim.high is not None and lim.low > lim.high:
            out.append((f"/limits/{k}/low", f"low {lim.low} is above high {lim.high} for {lim.prop}"))
        if lim.prop in seen:
            out.append((f"/limits/{k}/property", f"{lim.prop} is limited twice"))
        seen.add(lim.prop)
    return out


def certificate_problems(c: Certificate, spec: Specification | None, material: str | None) -> list[tuple[str, str]]:
    """Why a certificate cannot be recorded (unknown lot or specification, units, duplicate or impossible values)."""
    out: list[tuple[str, str]] = []
    if not c.id.strip():
        out.append(("/id", "a certificate of analysis needs an id"))
    if material is None:
        out.append(("/lot", f"unknown lot {c.lot}"))
    elif spec is None:
        out.append(("/spec_version", f"no specification {c.spec_version!r} of material {material} is on record"))
    if not c.lab.strip():
        out.append(("/lab", "name the laboratory that issued the certificate"))
    if not c.values:
        out.append(("/values", "a certificate of analysis needs at least one value"))
    seen: set[str] = set()
    for k, m in enumerate(c.values):
        why = unit_problem(m.prop, m.unit, COA_PROPERTIES, "property")
        if why:
            out.append((f"/values/{k}/unit" if m.prop in COA_PROPERTIES else f"/values/{k}/property", why))
        if m.value < 0:
            out.append((f"/values/{k}/value", f"{m.prop} must be ≥ 0, got {m.value}"))
        if m.unit == "kg/kg" and m.value > 1:
            out.append((f"/values/{k}/value", f"{m.prop} is a mass fraction (0..1), got {m.value}"))
        if m.prop in seen:
            out.append((f"/values/{k}/property", f"{m.prop} is given twice"))
        seen.add(m.prop)
    return out


def deviation_problems(d: Deviation, lot_known: bool) -> list[tuple[str, str]]:
    """Why a deviation cannot be recorded."""
    out: list[tuple[str, str]] = []
    if not d.id.strip():
        out.append(("/id", "a deviation needs an id"))
    if not lot_known:
        out.append(("/lot", f"unknown lot {d.lot}"))
    if not d.approved_by.strip():
        out.append(("/approved_by", "a deviation names who approved it"))
    if not d.reason.strip():
        out.append(("/reason", "a deviation states its reason"))
    for k, p in enumerate(d.properties):
        if p not in COA_PROPERTIES:
            out.append((f"/properties/{k}", f"unknown property {p!r}"))
    return out


def failures(c: Certificate, spec: Specification) -> list[Failure]:
    """The certificate's values outside the specification's limits (a property the CoA lacks is not judged)."""
    limits = {lim.prop: lim for lim in spec.limits}
    out = []
    for m in c.values:
        lim = limits.get(m.prop)
        if lim is None:
            continue
        if lim.low is not None and m.value < lim.low:
            out.append(Failure(m.prop, str(m.value), m.unit, "low", str(lim.low)))
        elif lim.high is not None and m.value > lim.high:
            out.append(Failure(m.prop, str(m.value), m.unit, "high", str(lim.high)))
    return out


class QualityBook:
    """Stored and in-document quality records, for checking certificates, deviations and consumptions in order."""

    def __init__(self, records: QualityRecords, events: Sequence[LocatedEvent]) -> None:
        self._stored_materials = records.materials
        self._events = events
        self._materials: dict[str, str] | None = None
        self.specs: dict[tuple[str, str, str], Specification] = {}
        for s in records.specifications:
            self.add_spec(s)
        self.coas: dict[str, list[Certificate]] = {}
        for c in records.certificates:
            self.add_certificate(c)
        self.deviations: dict[str, list[Deviation]] = {}
        for d in records.deviations:
            self.add_deviation(d)

    @property
    def materials(self) -> dict[str, str]:
        """Lot id → material code of the stored lots named and of the document's lots (made when first needed:
        a document without quality records never reads it)."""
        if self._materials is None:
            self._materials = dict(self._stored_materials)
            for le in self._events:
                b = le.event.body
                for lot in (b.outputs if isinstance(b, Run) else (b,) if isinstance(b, Lot) else ()):
                    self._materials.setdefault(lot.id, lot.material)
        return self._materials

    def add_spec(self, s: Specification) -> None:
        self.specs[(s.scope, s.subject, s.version)] = s

    def add_certificate(self, c: Certificate) -> None:
        self.coas.setdefault(c.lot, []).append(c)

    def add_deviation(self, d: Deviation) -> None:
        self.deviations.setdefault(d.lot, []).append(d)

    def spec_of(self, c: Certificate) -> Specification | None:
        material = self.materials.get(c.lot)
        return None if material is None else self.specs.get(("material", material, c.spec_version))

    def status(self, lot: str) -> tuple[Certificate, list[Failure]] | None:
        """The lot's latest certificate and its failures (None: no certificate on record)."""
        coas = self.coas.get(lot)
        if not coas:
            return None
        latest = max(enumerate(coas), key=lambda kc: (kc[1].issued_at, kc[0]))[1]
        spec = self.spec_of(latest)
        return latest, failures(latest, spec) if spec is not None else []

    def permits(self, lot: str, run: str, failing: Iterable[Failure]) -> bool:
        """True when a recorded deviation lets ``run`` consume ``lot`` despite the failing properties."""
        props = {f.prop for f in failing}
        return any((d.run is None or d.run == run) and (not d.properties or props <= set(d.properties))
                   for d in self.deviations.get(lot, ()))

    def check_run(self, loc: str, run: Run, add: Add) -> None:
        """Refuse each input that is out of specification without a deviation, naming property and limit."""
        for k, c in enumerate(run.inputs):
            st = self.status(c.lot)
            if st is None or not st[1]:
                continue
            coa, failing = st
            if not self.permits(c.lot, run.id, failing):
                material = self.materials.get(c.lot, "?")
                add(f"{loc}/inputs/{k}", f"run {run.id} consumes lot {c.lot}, which is out of specification "
                                         f"(certificate {coa.id} against {material} specification "
                                         f"{coa.spec_version}: {'; '.join(str(f) for f in failing)}): "
                                         "record a deviation for the lot before consuming it")
