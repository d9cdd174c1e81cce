"""Use case: the battery passport of a cell lot or of one registered battery (Regulation (EU) 2023/1542 Art. 77).

Why here: the passport joins the cell maker's statement (:class:`lichain.core.model.CellSpec`, the last live one
for the lot) with everything the ledger computes for the lot — its cradle-to-gate footprint per kWh of rated
energy (:func:`lichain.services.footprint.footprint_of`, per kg of the lot × battery mass / rated energy), its
recycled content per element (:func:`lichain.services.circularity.recycled`), its composition from the lot's assay
and the cathode material's formula, and a content-addressed link to its due-diligence report
(:func:`lichain.services.diligence.diligence`) — then writes it in a standard's shape, keeps only what the
requested access level may read (:mod:`lichain.core.passport_access`) and links it to the previous version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from lichain.core.codec import parse_time
from lichain.core.errors import ChoiceError, NotFoundError
from lichain.core.model import BatteryRegistration, CellSpec
from lichain.core.passport_access import BATTERYPASS_ACCESS, IDTA_ACCESS, LEVELS, filter_level, level_of, rank
from lichain.core.passport_data import (
    Hazard,
    MaterialShare,
    MissingInput,
    PassportData,
    RecycledShare,
    passport_id,
)
from lichain.core.passport_version import content_digest, next_version
from lichain.storage import passport_sql
from lichain.storage.sql import SqlStore

__all__ = ["FORMATS", "Passport", "PreviousVersion", "gather", "passport", "passport_lot"]

#: Output formats: Battery Pass Data Model 1.2 aspects, or IDTA-02035 submodels.
FORMATS: tuple[str, ...] = ("batterypass", "aas")
#: Element → (name, CAS number, EU critical raw material: Regulation (EU) 2024/1252 Annex II Section 2).
_ELEMENTS = {"Ni": ("Nickel", "7440-02-0", True), "Co": ("Cobalt", "7440-48-4", True),
             "Mn": ("Manganese", "7439-96-5", True), "Li": ("Lithium", "7439-93-2", True)}
_CATHODE = "Cathode active material"


@dataclass(frozen=True)
class PreviousVersion:
    """The version a passport supersedes: its number and content digest."""

    version: int
    digest: str


@dataclass(frozen=True)
class Passport:
    """Outcome of ``lichain passport ID`` (the ``passport --json`` shape).

    ``aspects`` are the standard's aspects (``format`` batterypass) or submodels (aas) as the ``level`` may read
    them; ``missing_inputs`` the fields this level may read that are left empty, and why; ``withheld`` the JSON
    pointers of fields above this level, filled or not (neither their values nor whether they are filled is
    shown); ``digest`` covers the content (:mod:`lichain.core.passport_version`).
    """

    passport_id: str
    battery_id: str | None
    lot: str
    format: str
    level: str
    status: str
    predecessor_passport: str | None
    version: int
    previous: PreviousVersion | None
    digest: str
    spec_event: str
    computed_at_head: str
    aspects: dict[str, dict[str, Any]]
    missing_inputs: tuple[MissingInput, ...]
    withheld: tuple[str, ...]
    notes: tuple[str, ...]


def _resolve(store: SqlStore, ident: str) -> tuple[str, str | None, BatteryRegistration | None]:
    """(lot id, battery id, its registration) for a battery id or a lot id."""
    for e in reversed(passport_sql.registrations(store)):
        b = e.body
        if isinstance(b, BatteryRegistration) and ident in b.battery_ids:
            return b.lot, ident, b
    from lichain.services.query import canonical_lot_id
    from lichain.storage.queries import find_lot

    row = find_lot(store, ident) or find_lot(store, canonical_lot_id(ident))
    if row is None:
        raise NotFoundError(f"unknown lot or battery {ident}")
    return row.id, None, None


def passport_lot(store: SqlStore, ident: str) -> str:
    """The cell lot a battery id (or a lot id) names; NotFoundError when neither is on record."""
    return _resolve(store, ident)[0]


def _composition(store: SqlStore, lot: str, spec: CellSpec, assay: Mapping[str, float]
                 ) -> tuple[tuple[MaterialShare, ...], tuple[Hazard, ...]]:
    """Cathode elements per battery from the lot's assay, and the cathode material's concentration from its
    formula (cell Ni fraction / formula Ni fraction; only when the lot's inputs carry one CAM formula)."""
    from lichain.core.chemistry import mass_fractions
    from lichain.services.query import show_lot
    from lichain.storage.footprint_sql import material_formula

    mats = tuple(MaterialShare(e, *_ELEMENTS[e][:2], round(assay[e] * float(spec.mass_kg) * 1000, 3), _ELEMENTS[e][2],
                               _CATHODE) for e in _ELEMENTS if assay.get(e))
    formulas = set()
    for i in show_lot(store, lot).inputs:
        d = show_lot(store, i.lot)
        f = material_formula(store, d.material) if d.stage == "cam" else None
        if f:
            formulas.add(f)
    hazards: tuple[Hazard, ...] = ()
    if len(formulas) == 1:
        f = formulas.pop()
        w = mass_fractions(f)
        key = next((e for e in ("Ni", "Co", "Mn", "Li") if w.get(e) and assay.get(e)), None)
        if key is not None:
            share = assay[key] / float(w[key])
            hazards = (Hazard(f"{f} (cathode active material)", round(100 * share, 4), _CATHODE),)
    return mats, hazards


def _graph_parts(store: SqlStore, lot: str, whole_ledger: bool) -> tuple[tuple[RecycledShare, ...], str]:
    """The lot's recycled shares and the ``urn:lichain:diligence:<sha256>`` link of its due-diligence report
    (``lichain diligence LOT --json``): kept per lot and computed on its upstream closure
    (:mod:`lichain.services.passport_parts`), or over the whole ledger's snapshot (``whole_ledger``)."""
    from lichain.services.passport_parts import diligence_link, lot_parts

    if not whole_ledger:
        parts = lot_parts(store, lot)
        return parts.recycled, parts.diligence_link
    from lichain.services.circularity import recycled
    from lichain.services.diligence import diligence

    rec = recycled(store, lot).elements
    return (tuple(RecycledShare(e, r.pre_consumer, r.post_consumer) for e, r in sorted(rec.items())),
            diligence_link(diligence(store, lot)))


def gather(store: SqlStore, ident: str, *, whole_ledger: bool = False) -> PassportData:
    """The facts of the passport of ``ident`` (a registered battery id, or a cell lot id: its battery model).

    ``whole_ledger``: compute the lot's recycled shares and due-diligence report over the whole ledger's
    snapshot instead of its upstream closure (kept per lot): the same facts, at per-ledger cost (for checks).
    Raises NotFoundError for an unknown id, ChoiceError for a lot that is not a cell lot or has no cell data.
    """
    from lichain.services.footprint import footprint_of
    from lichain.services.query import show_lot

    lot_id, battery, reg = _resolve(store, ident)
    detail = show_lot(store, lot_id)
    if detail.stage != "cell":
        raise ChoiceError(f"lot {lot_id} is a {detail.stage} lot: a passport is made for a cell or battery lot")
    specs = passport_sql.cell_specs(store, lot_id)
    if not specs:
        raise ChoiceError(f"lot {lot_id} has no cell data: record the cell maker's cell_specs row (lichain:CellSpec) "
                          "first (docs/passport.md)")
    spec_ev = specs[-1]
    spec = spec_ev.body
    assert isinstance(spec, CellSpec)
    fp = footprint_of(store, lot_id)
    rec, link = _graph_parts(store, lot_id, whole_ledger)
    country = passport_sql.site_country(store, detail.site)
    mats, hazards = _composition(store, lot_id, spec, detail.assay)
    status, pred, operator = "original", None, None
    if reg is not None and reg.status != "original":
        status, operator = reg.status, reg.operator
        pred = passport_id(reg.predecessor) if reg.predecessor else None
    notes = [
        "Carbon footprint: cradle-to-gate, location-based, per kWh of rated energy = kg CO2e per kg of the cell "
        "lot x battery mass / rated energy; MainProduction is the cell maker's own step, RawMaterialExtraction "
        "everything upstream (Regulation (EU) 2023/1542 Annex II point 4 as lichain reads it; the delegated act "
        "is not adopted: no compliance "
        "is claimed).",
        "Recycled content: element-mass-weighted physical shares over the lot graph (Art. 8), in percent.",
        "Material masses per battery from the lot's assay x battery mass; only the cathode elements the ledger "
        "tracks.",
    ]
    if not fp["complete"]:
        notes.append("The footprint is incomplete: some upstream datum has no factor (lichain footprint LOT).")
    return PassportData(
        passport_id(battery or lot_id), lot_id, spec, spec_ev.event_id,
        spec.manufactured_at or parse_time(detail.produced_at), detail.site, country, battery, status, pred,
        operator, float(fp["kg_co2e_per_kg"]), float(fp["kg_co2e_per_kg"]) - float(fp["own_kg_co2e"]) / fp["mass_kg"],
        float(fp["own_kg_co2e"]) / fp["mass_kg"], bool(fp["complete"]),
        rec, mats, hazards, link, tuple(notes))


def render(d: PassportData, fmt: str) -> tuple[dict[str, dict[str, Any]], list[MissingInput]]:
    """The aspects (batterypass) or submodels (aas) of a passport, and its missing inputs."""
    if fmt == "batterypass":
        from lichain.io.passport_batterypass import batterypass_aspects

        return batterypass_aspects(d)
    if fmt == "aas":
        from lichain.io.aas_passport import idta_submodels

        return idta_submodels(d)
    raise ChoiceError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _path(m: MissingInput) -> str:
    """The access-table path of a missing field (array indices dropped)."""
    return "/".join([m.aspect, *(p for p in m.field.strip("/").split("/") if not p.isdigit())])


def build(d: PassportData, *, level: str = "public", fmt: str = "batterypass", head: str = "",
          previous: Mapping[str, Any] | None = None) -> Passport:
    """A passport document from its facts: rendered, filtered for ``level``, checked against the standard's
    schemas (RuntimeError if a writer produced an invalid aspect), digested and versioned."""
    if level not in LEVELS:
        raise ChoiceError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    aspects, missing = render(d, fmt)
    rules = BATTERYPASS_ACCESS if fmt == "batterypass" else IDTA_ACCESS
    visible, withheld = filter_level(aspects, level, rules)
    readable = [rank(level_of(_path(m), rules).level) <= rank(level) for m in missing]
    # a field above this level is withheld whether it is filled or not: this level cannot tell which
    withheld = tuple(sorted({*withheld, *(f"/{m.aspect}{m.field}" for m, ok in zip(missing, readable, strict=True)
                                          if not ok)}))
    missing = [m for m, ok in zip(missing, readable, strict=True) if ok]
    from lichain.io.passport_schemas import passport_problems

    bad = passport_problems(fmt, visible, ((m.aspect, m.field) for m in missing), withheld)
    if bad:  # a writer bug: never hand out a passport its own standard refuses
        raise RuntimeError(f"passport of {d.passport_id} is not valid against its {fmt} schemas: {bad[:3]}")
    p = Passport(d.passport_id, d.battery_id, d.lot, fmt, level, d.status, d.predecessor_passport, 1, None, "",
                 d.spec_event, head, visible, tuple(missing), withheld, d.notes)
    digest = content_digest(asdict(p))
    try:
        version, link = next_version(previous, {"passport_id": d.passport_id, "level": level, "format": fmt,
                                                "digest": digest})
    except ValueError as exc:
        raise ChoiceError(str(exc)) from None
    return replace(p, digest=digest, version=version,
                   previous=None if link is None else PreviousVersion(int(link["version"]), str(link["digest"])))


def passport(store: SqlStore, ident: str, *, level: str = "public", fmt: str = "batterypass",
             previous: Mapping[str, Any] | None = None, whole_ledger: bool = False) -> Passport:
    """The passport of a battery or cell lot at one access level and format (``previous``: the last issued
    version of it, to link a changed passport to; unchanged content keeps its version; ``whole_ledger``: see
    :func:`gather`)."""
    if fmt not in FORMATS:
        raise ChoiceError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return build(gather(store, ident, whole_ledger=whole_ledger), level=level, fmt=fmt, head=store.head()[1],
                 previous=previous)
