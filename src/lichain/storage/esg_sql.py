"""Storage reads of the ESG report: the period's runs, activity data, losses, lots and inputs, and the ledger owner.

Why this exists: the ESG use case (:mod:`lichain.services.esg`) sums indicators per site; the SQL that selects
the period's live records belongs to storage (bound parameters only), so the service works on plain rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

from lichain.storage import schema as s
from lichain.storage.sql import SqlStore, chunks

__all__ = ["EsgRows", "ledger_owners", "read_esg_rows", "site_rows"]


@dataclass(frozen=True, slots=True)
class EsgRows:
    """Raw rows of one period ``[lo_us, hi_us)``: what :func:`lichain.services.esg.esg_report` sums."""

    sites: list[Any]  # sites rows (id, name, kind, country, organisation, grid_region, …)
    materials: list[tuple[str, str, str]]  # (code, stage, name)
    overrides: list[Any]  # live factor override rows in ledger order
    run_count: list[tuple[str, int]]  # (site, runs ended in the period)
    source_count: list[tuple[str, int]]  # (site, commissioned lots produced in the period)
    activities: list[tuple[Any, ...]]  # (site, kind, name, amount, unit, factor_key, instrument, time_us)
    losses: list[tuple[str, str, int]]  # (site, element, mg)
    outputs: list[tuple[str, int, str, int, int | None]]  # (site, lot idx, material, mg, run idx)
    inputs: list[tuple[str, int, int, str, int | None]]  # (site, lot idx, mg, made at site, made by run)
    assay: dict[int, dict[str, int]]  # lot idx → element → ppb (inputs and outputs of the period)


def _live(col: Any) -> Any:
    return ~col.in_(select(s.retractions.c.target_seq))


def read_esg_rows(store: SqlStore, lo_us: int, hi_us: int) -> EsgRows:
    """Rows of runs ended and source lots produced in ``[lo_us, hi_us)`` (retracted events left out)."""
    runs, lots, acts, cons, made = s.runs, s.lots, s.activities, s.consumptions, s.lots.alias("made")
    in_runs = and_(runs.c.ended_us >= lo_us, runs.c.ended_us < hi_us, _live(runs.c.event_seq))
    source_lot = and_(lots.c.run_idx.is_(None), lots.c.produced_us >= lo_us, lots.c.produced_us < hi_us,
                      _live(lots.c.event_seq))
    a_cols = (acts.c.kind, acts.c.name, acts.c.amount, acts.c.unit, acts.c.factor_key, acts.c.instrument)
    with store.read() as conn:
        site_rows = conn.execute(select(s.sites)).all()
        mats = conn.execute(select(s.materials.c.code, s.materials.c.stage, s.materials.c.name)).all()
        ov = conn.execute(select(s.overrides).where(_live(s.overrides.c.event_seq))
                          .order_by(s.overrides.c.event_seq)).all()
        run_count = conn.execute(select(runs.c.site, func.count()).where(in_runs)
                                 .group_by(runs.c.site)).all()
        src_count = conn.execute(select(lots.c.site, func.count()).where(source_lot)
                                 .group_by(lots.c.site)).all()
        act_rows = [*conn.execute(select(runs.c.site, *a_cols, runs.c.ended_us)
                                  .join(runs, runs.c.idx == acts.c.run_idx).where(in_runs)).all(),
                    *conn.execute(select(lots.c.site, *a_cols, lots.c.produced_us)
                                  .join(lots, lots.c.idx == acts.c.lot_idx).where(source_lot)).all()]
        loss_rows = conn.execute(select(runs.c.site, s.run_losses.c.element, func.sum(s.run_losses.c.mass_mg))
                                 .join(runs, runs.c.idx == s.run_losses.c.run_idx).where(in_runs)
                                 .group_by(runs.c.site, s.run_losses.c.element)).all()
        out_rows = conn.execute(select(lots.c.site, lots.c.idx, lots.c.material, lots.c.mass_mg,
                                       lots.c.run_idx).outerjoin(runs, runs.c.idx == lots.c.run_idx)
                                .where(or_(in_runs, source_lot), _live(lots.c.event_seq))).all()
        in_rows = conn.execute(select(runs.c.site, cons.c.lot_idx, cons.c.mass_mg, made.c.site,
                                      made.c.run_idx).join(runs, runs.c.idx == cons.c.run_idx)
                               .join(made, made.c.idx == cons.c.lot_idx).where(in_runs)).all()
        assay: dict[int, dict[str, int]] = defaultdict(dict)
        want = sorted({int(r[1]) for r in in_rows} | {int(r[1]) for r in out_rows})
        for part in chunks(want):
            for li, el, ppb in conn.execute(select(s.assays).where(s.assays.c.lot_idx.in_(part))).all():
                assay[int(li)][el] = int(ppb)
    return EsgRows(
        sites=list(site_rows), materials=[(m[0], m[1], m[2]) for m in mats], overrides=list(ov),
        run_count=[(r[0], int(r[1])) for r in run_count], source_count=[(r[0], int(r[1])) for r in src_count],
        activities=[tuple(r) for r in act_rows], losses=[(r[0], r[1], int(r[2])) for r in loss_rows],
        outputs=[(r[0], int(r[1]), r[2], int(r[3]), None if r[4] is None else int(r[4])) for r in out_rows],
        inputs=[(r[0], int(r[1]), int(r[2]), r[3], None if r[4] is None else int(r[4])) for r in in_rows],
        assay=dict(assay))


def ledger_owners(store: SqlStore) -> dict[str, list[str]]:
    """Organisations declared ledger owner in master data (live site events flagged ``ledger_owner``): org → sites."""
    out: dict[str, list[str]] = {}
    with store.read() as conn:
        rows = conn.execute(select(s.sites.c.id, s.sites.c.organisation, s.sites.c.attrs)
                            .where(_live(s.sites.c.event_seq)).order_by(s.sites.c.id)).all()
    for sid, org, attrs in rows:
        if json.loads(attrs or "{}").get("ledger_owner") is True:
            out.setdefault(org, []).append(sid)
    return out


def site_rows(store: SqlStore) -> list[Any]:
    """Every site row (id, name, kind, country, organisation, grid_region, attrs, event_seq)."""
    with store.read() as conn:
        return list(conn.execute(select(s.sites).order_by(s.sites.c.id)).all())
