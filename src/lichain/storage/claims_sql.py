"""SQL of custody claims and circularity reads: boundary runs, claim look-ups, recovery flows, deliveries.

Why a module of its own: the claim rules (:mod:`lichain.core.claims`) read the ledger through
:class:`~lichain.core.ports.CustodyView`; :class:`~lichain.storage.sql.SqlStore` delegates those methods here, and
the circularity services read recovery and delivery rows from here. Every query is a bulk read (chunked ``IN``
lists, one query per table); products of masses and mass fractions are formed in Python on exact integers, since
mg × ppb overflows a 64-bit SQL integer for lots above ~9 t.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from lichain.core.model import Consumption
from lichain.core.ports import BoundaryRun, ClaimLot, ClaimRecord, LotAllocation
from lichain.storage import schema as s

__all__ = [
    "RecoveryFlows",
    "boundary_runs",
    "claim_dependents",
    "claim_ids",
    "claim_lots",
    "claims",
    "deliveries",
    "lot_claims",
    "recovery_flows",
    "shipments_of",
    "site_claims",
]

_CHUNK = 500


def _us(t: datetime) -> int:
    d = t.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _time(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def _live(seq_col: Any) -> Any:
    return ~seq_col.in_(select(s.retractions.c.target_seq))


def _parts(items: Iterable[Any]) -> Iterable[list[Any]]:
    xs = sorted(set(items))
    for i in range(0, len(xs), _CHUNK):
        yield xs[i : i + _CHUNK]


def _in_period(site: str | None, start: datetime, end: datetime) -> Any:
    cond = and_(s.runs.c.started_us >= _us(start), s.runs.c.started_us < _us(end), _live(s.runs.c.event_seq))
    return cond if site is None else and_(cond, s.runs.c.site == site)


def boundary_runs(conn: Connection, site: str, start: datetime, end: datetime) -> list[BoundaryRun]:
    """Live runs at ``site`` started in [start, end) with inputs [mg] and output lot ids."""
    runs = conn.execute(select(s.runs.c.idx, s.runs.c.id, s.runs.c.started_us, s.events.c.event_id)
                        .join(s.events, s.events.c.seq == s.runs.c.event_seq)
                        .where(_in_period(site, start, end)).order_by(s.runs.c.idx)).all()
    ins: dict[int, list[Consumption]] = defaultdict(list)
    for r in conn.execute(select(s.consumptions.c.run_idx, s.lots.c.id, s.consumptions.c.mass_mg)
                          .join(s.runs, s.runs.c.idx == s.consumptions.c.run_idx)
                          .join(s.lots, s.lots.c.idx == s.consumptions.c.lot_idx)
                          .where(_in_period(site, start, end))):
        ins[r.run_idx].append(Consumption(r.id, r.mass_mg))
    outs: dict[int, list[str]] = defaultdict(list)
    for run_idx, lot_id in conn.execute(select(s.lots.c.run_idx, s.lots.c.id)
                                        .join(s.runs, s.runs.c.idx == s.lots.c.run_idx)
                                        .where(_in_period(site, start, end))):
        outs[run_idx].append(lot_id)
    return [BoundaryRun(r.id, r.event_id, _time(r.started_us), tuple(ins[r.idx]), tuple(outs[r.idx]))
            for r in runs]


def _allocations(conn: Connection, lot_ids: Sequence[str]) -> dict[str, list[LotAllocation]]:
    out: dict[str, list[LotAllocation]] = defaultdict(list)
    a, c = s.claim_allocations, s.custody_claims
    for part in _parts(lot_ids):
        for r in conn.execute(select(a.c.lot_id, s.events.c.event_id, c.c.site, c.c.model, a.c.element, a.c.pre_mg,
                                     a.c.post_mg)
                              .join(c, c.c.event_seq == a.c.claim_seq)
                              .join(s.events, s.events.c.seq == c.c.event_seq)
                              .where(a.c.lot_id.in_(part), _live(c.c.event_seq))):
            out[r.lot_id].append(LotAllocation(r.event_id, r.site, r.model, r.element, r.pre_mg, r.post_mg))
    return out


def claim_lots(conn: Connection, ids: Iterable[str]) -> dict[str, ClaimLot]:
    """Stored lots among ``ids``: mass, assay, origin, producing-run site, retracted flag, live allocations, and
    the producing run's inputs for lots declared pre- or post-consumer."""
    rows: list[Any] = []
    for part in _parts(ids):
        rows += conn.execute(
            select(s.lots.c.idx, s.lots.c.id, s.lots.c.mass_mg, s.lots.c.origin, s.lots.c.site,
                   s.lots.c.produced_us, s.lots.c.run_idx, s.runs.c.site.label("run_site"),
                   s.lots.c.event_seq.in_(select(s.retractions.c.target_seq)).label("retracted"))
            .outerjoin(s.runs, s.runs.c.idx == s.lots.c.run_idx)
            .where(s.lots.c.id.in_(part))).all()
    assay: dict[int, dict[str, int]] = defaultdict(dict)
    for part in _parts(r.idx for r in rows):
        for a in conn.execute(select(s.assays).where(s.assays.c.lot_idx.in_(part))):
            assay[a.lot_idx][a.element] = a.ppb
    allocs = _allocations(conn, [r.id for r in rows])
    ins: dict[int, list[Consumption]] = defaultdict(list)  # run idx -> inputs
    runs = {r.run_idx for r in rows if r.origin != "virgin" and r.run_idx is not None}
    for part in _parts(runs):
        for run_idx, lot_id, mg in conn.execute(
                select(s.consumptions.c.run_idx, s.lots.c.id, s.consumptions.c.mass_mg)
                .join(s.lots, s.lots.c.idx == s.consumptions.c.lot_idx)
                .where(s.consumptions.c.run_idx.in_(part)).order_by(s.consumptions.c.run_idx, s.lots.c.idx)):
            ins[run_idx].append(Consumption(lot_id, mg))
    return {r.id: ClaimLot(r.id, r.mass_mg, assay[r.idx], r.origin, r.site, _time(r.produced_us), r.run_site,
                           bool(r.retracted), tuple(allocs.get(r.id, ())),
                           tuple(ins[r.run_idx]) if r.run_idx in runs else ()) for r in rows}


def _totals(conn: Connection, where: Any) -> list[ClaimRecord]:
    c, a = s.custody_claims, s.claim_allocations
    heads = conn.execute(select(c, s.events.c.event_id).join(s.events, s.events.c.seq == c.c.event_seq)
                         .where(where, _live(c.c.event_seq)).order_by(c.c.start_us, c.c.id)).all()
    tot: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for part in _parts(h.event_seq for h in heads):
        for r in conn.execute(select(a.c.claim_seq, a.c.element, func.sum(a.c.pre_mg), func.sum(a.c.post_mg))
                              .where(a.c.claim_seq.in_(part)).group_by(a.c.claim_seq, a.c.element)):
            tot[r[0]][r[1]] = (int(r[2]), int(r[3]))
    return [ClaimRecord(h.id, h.event_id, _time(h.start_us), _time(h.end_us), h.model, tot[h.event_seq])
            for h in heads]


def site_claims(conn: Connection, site: str) -> list[ClaimRecord]:
    """Live custody claims of ``site`` with allocated totals per element (pre, post) [mg]."""
    return _totals(conn, s.custody_claims.c.site == site)


def claims(conn: Connection, site: str | None = None) -> list[tuple[str, ClaimRecord]]:
    """Live custody claims (of one site, or all) as (site, record)."""
    c = s.custody_claims
    sites = [site] if site else list(conn.execute(select(c.c.site).distinct().order_by(c.c.site)).scalars())
    return [(x, r) for x in sites for r in site_claims(conn, x)]


def claim_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Claim ids among ``ids`` already used."""
    found: set[str] = set()
    for part in _parts(ids):
        found.update(conn.execute(select(s.custody_claims.c.id).where(s.custody_claims.c.id.in_(part))).scalars())
    return found


def claim_dependents(conn: Connection, event_id: str) -> list[str]:
    """Live claims that count the stored event ``event_id`` (a run in their period, or a claim they received)."""
    seq = conn.execute(select(s.events.c.seq).where(s.events.c.event_id == event_id)).scalar()
    if seq is None:
        return []
    c = s.custody_claims
    out: list[str] = []
    run = conn.execute(select(s.runs.c.site, s.runs.c.started_us).where(s.runs.c.event_seq == seq)).first()
    if run is not None:
        for cid in conn.execute(select(c.c.id).where(c.c.site == run.site, c.c.start_us <= run.started_us,
                                                     c.c.end_us > run.started_us, _live(c.c.event_seq))).scalars():
            out.append(f"claim {cid} of site {run.site} counts the inputs of this run")
    claim = conn.execute(select(c.c.site).where(c.c.event_seq == seq)).first()
    if claim is not None:
        a, c2 = s.claim_allocations, c.alias("c2")
        q = (select(c2.c.id, c2.c.site).distinct()
             .select_from(a)
             .join(s.lots, s.lots.c.id == a.c.lot_id)
             .join(s.consumptions, s.consumptions.c.lot_idx == s.lots.c.idx)
             .join(s.runs, s.runs.c.idx == s.consumptions.c.run_idx)
             .join(c2, and_(c2.c.site == s.runs.c.site, c2.c.start_us <= s.runs.c.started_us,
                            c2.c.end_us > s.runs.c.started_us))
             .where(a.c.claim_seq == seq, c2.c.site != claim.site, _live(s.runs.c.event_seq),
                    _live(c2.c.event_seq)))
        for cid, site in conn.execute(q).all():
            out.append(f"claim {cid} of site {site} counts the recycled share this claim allocated")
    return out


def lot_claims(conn: Connection, lot_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Live allocations to each lot: claim id, site, model, period, element, pre and post [mg]."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    a, c = s.claim_allocations, s.custody_claims
    for part in _parts(lot_ids):
        for r in conn.execute(select(a.c.lot_id, a.c.element, a.c.pre_mg, a.c.post_mg, c.c.id, c.c.site, c.c.model,
                                     c.c.start_us, c.c.end_us)
                              .join(c, c.c.event_seq == a.c.claim_seq)
                              .where(a.c.lot_id.in_(part), _live(c.c.event_seq)).order_by(c.c.start_us, c.c.id)):
            out[r.lot_id].append({"claim": r.id, "site": r.site, "model": r.model, "element": r.element,
                                  "period_start": _time(r.start_us), "period_end": _time(r.end_us),
                                  "pre_mg": r.pre_mg, "post_mg": r.post_mg})
    return out


@dataclass(frozen=True, slots=True)
class RecoveryFlows:
    """Element flows of one recycler in a period [mg·ppb]: into the recovery step with black mass, out in
    recovered products, and into black-mass production with waste (scrap, end-of-life modules)."""

    site: str
    runs: int
    black_mass_in: dict[str, int]
    recovered_out: dict[str, int]
    waste_in: dict[str, int]


def _element_sum(conn: Connection, mass_by_lot: dict[int, int]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for part in _parts(mass_by_lot):
        for a in conn.execute(select(s.assays).where(s.assays.c.lot_idx.in_(part))):
            out[a.element] += mass_by_lot[a.lot_idx] * a.ppb
    return dict(out)


def recovery_flows(conn: Connection, start: datetime, end: datetime, site: str | None = None) -> list[RecoveryFlows]:
    """Per recycler site (or the one named): black mass consumed and recovered salts made by live runs started
    in [start, end) that consume black mass; waste consumed by live runs there that make black mass."""
    m_in, m_out = s.materials.alias("m_in"), s.materials.alias("m_out")
    recyclers = ([site] if site else
                 list(conn.execute(select(s.sites.c.id).where(s.sites.c.kind == "recycler").order_by(s.sites.c.id))
                      .scalars()))
    out: list[RecoveryFlows] = []
    for rs in recyclers:
        bm_runs = (select(s.runs.c.idx).join(s.consumptions, s.consumptions.c.run_idx == s.runs.c.idx)
                   .join(s.lots, s.lots.c.idx == s.consumptions.c.lot_idx)
                   .join(m_in, m_in.c.code == s.lots.c.material)
                   .where(_in_period(rs, start, end), m_in.c.stage == "black_mass").distinct())
        cons: dict[int, int] = defaultdict(int)
        for lot, mg in conn.execute(select(s.consumptions.c.lot_idx, s.consumptions.c.mass_mg)
                                    .join(s.lots, s.lots.c.idx == s.consumptions.c.lot_idx)
                                    .join(m_in, m_in.c.code == s.lots.c.material)
                                    .where(s.consumptions.c.run_idx.in_(bm_runs), m_in.c.stage == "black_mass")):
            cons[lot] += mg
        made = dict(conn.execute(select(s.lots.c.idx, s.lots.c.mass_mg)
                                 .join(m_out, m_out.c.code == s.lots.c.material)
                                 .where(s.lots.c.run_idx.in_(bm_runs), m_out.c.stage == "recovered_salt")).all())
        bm_made = (select(s.runs.c.idx).join(s.lots, s.lots.c.run_idx == s.runs.c.idx)
                   .join(m_out, m_out.c.code == s.lots.c.material)
                   .where(_in_period(rs, start, end), m_out.c.stage == "black_mass").distinct())
        waste: dict[int, int] = defaultdict(int)
        for lot, mg in conn.execute(select(s.consumptions.c.lot_idx, s.consumptions.c.mass_mg)
                                    .where(s.consumptions.c.run_idx.in_(bm_made))):
            waste[lot] += mg
        n = conn.execute(select(func.count()).select_from(bm_runs.subquery())).scalar_one()
        out.append(RecoveryFlows(rs, int(n), _element_sum(conn, cons), _element_sum(conn, made),
                                 _element_sum(conn, waste)))
    return out


def deliveries(conn: Connection, organisation: str, start: datetime | None = None,
               end: datetime | None = None) -> list[tuple[str, int, str]]:
    """Live shipments to ``organisation`` (named on the shipment, or operating the receiving site), shipped in
    [start, end) when given: (lot id, shipped mg, shipment id)."""
    sh, st = s.shipments, s.sites
    to_org = func.coalesce(sh.c.to_organisation, st.c.organisation)
    q = (select(s.lots.c.id, sh.c.mass_mg, sh.c.id.label("ship"))
         .join(s.lots, s.lots.c.idx == sh.c.lot_idx).join(st, st.c.id == sh.c.to_site)
         .where(to_org == organisation, _live(sh.c.event_seq), _live(s.lots.c.event_seq)).order_by(sh.c.idx))
    if start is not None:
        q = q.where(sh.c.shipped_us >= _us(start))
    if end is not None:
        q = q.where(sh.c.shipped_us < _us(end))
    return [(r.id, r.mass_mg, r.ship) for r in conn.execute(q)]


def shipments_of(conn: Connection, lot_id: str) -> list[str]:
    """Ids of the live shipments of one lot, in order."""
    sh = s.shipments
    return list(conn.execute(select(sh.c.id).join(s.lots, s.lots.c.idx == sh.c.lot_idx)
                             .where(s.lots.c.id == lot_id, _live(sh.c.event_seq)).order_by(sh.c.idx)).scalars())
