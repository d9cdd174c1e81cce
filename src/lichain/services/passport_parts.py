"""The passport's per-lot graph parts (recycled shares, due-diligence link), at per-lot cost and kept per lot.

Why this exists: a passport reads two results that used to be computed over the whole ledger for every request:
the lot's due-diligence report (one share pass over every lot per element and processing site) and its recycled
shares (one pass per element); at a million lots that was seconds per passport. Both depend only on the lot's
upstream, so they are computed on the lot's upstream closure alone (:func:`lichain.analysis.closure.
upstream_part`: the same values bit for bit), and kept per lot while nothing recorded since can change them:

* :data:`CHANGES_PARTS`: a retraction, a site or a material (the lot graph, as for an upstream trace:
  :data:`lichain.services.footprint_extend.CHANGES_GRAPH`) and a site risk statement (what the report reads of
  the upstream sites);
* :data:`CHANGES_STAYS`: a run or a shipment moves stock, and so may end or extend a lot's stay at its site;
  they count only when the report read any stay (some upstream site has a risk statement on record);
* the clock: a lot still at its site stays there "until now", so a risk interval starting later (an audit that
  lapses on its expiry date) can begin to overlap it; a kept part is used only before the earliest such start.

Appended lots, runs that consume none of the upstream, passports, keys, quality and claims records leave the
parts as they are (a writer appending a lot at a time no longer costs a passport its whole computation). A kept
part also remembers the chain head it was checked at and is used only while that head is still on the chain
(a ledger recreated under the same address is not the same ledger). Per process; a new worker computes its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from lichain.analysis.closure import upstream_part
from lichain.core.codec import canonical_json
from lichain.core.diligence import risk_intervals
from lichain.core.model import EventKind
from lichain.core.passport_data import RecycledShare
from lichain.services.circularity import recycled
from lichain.services.diligence import DiligenceReport, diligence
from lichain.services.footprint_extend import CHANGES_GRAPH, appended_only
from lichain.services.snapshot import lot_position, snapshot_holding
from lichain.storage.sql import SqlStore

__all__ = ["CHANGES_PARTS", "CHANGES_STAYS", "LotParts", "clear", "diligence_link", "lot_parts"]

#: Event kinds after which a lot's kept parts may differ.
CHANGES_PARTS = CHANGES_GRAPH | frozenset({EventKind.SITE_RISK.value})
#: Event kinds that move stock: they change kept parts whose report read the upstream lots' stays.
CHANGES_STAYS = frozenset({EventKind.RUN.value, EventKind.SHIPMENT.value})
_MAX_KEPT = 4096  # lots kept per process (a few hundred bytes each)


@dataclass(frozen=True)
class LotParts:
    """A cell lot's recycled shares per element (physical, in the passport's shape) and its due-diligence link,
    as computed at chain head ``head`` (event ``seq``); ``stays_read``: the report read upstream stays;
    ``valid_until``: the earliest later start of a risk interval at an upstream site (None: none)."""

    lot: str
    recycled: tuple[RecycledShare, ...]
    diligence_link: str
    seq: int
    head: str
    stays_read: bool
    valid_until: datetime | None


_KEPT: OrderedDict[tuple[str, str], LotParts] = OrderedDict()
_LOCK = threading.Lock()


def clear() -> None:
    """Forget every kept part (tests; a process serving another ledger)."""
    with _LOCK:
        _KEPT.clear()


def diligence_link(report: DiligenceReport) -> str:
    """``urn:lichain:diligence:<sha256>`` of a due-diligence report (``lichain diligence LOT --json``)."""
    return "urn:lichain:diligence:" + hashlib.sha256(canonical_json(asdict(report)).encode("utf-8")).hexdigest()


def _still_valid(store: SqlStore, p: LotParts, seq: int, head: str, now: datetime) -> bool:
    if p.valid_until is not None and now >= p.valid_until:
        return False
    if (seq, head) == (p.seq, p.head):
        return True
    changing = CHANGES_PARTS | CHANGES_STAYS if p.stays_read else CHANGES_PARTS
    return (seq > p.seq and store.chain_hash_at(p.seq) == p.head
            and appended_only(store, p.seq, p.head, seq, head, changing))


def _compute(store: SqlStore, lot_id: str, seq: int, head: str, now: datetime) -> LotParts:
    snap = snapshot_holding(store, lot_id)
    part, _, _ = upstream_part(snap, lot_position(snap, lot_id))
    rec = recycled(store, lot_id, snap=part).elements
    link = diligence_link(diligence(store, lot_id, now=now, snap=part))
    sites = sorted({part.site_ids[int(s)] for s in part.lot_site if s >= 0})
    statements = store.site_risks(sites)
    later = [iv.start for iv in risk_intervals(statements) if iv.start > now]
    return LotParts(lot_id, tuple(RecycledShare(e, r.pre_consumer, r.post_consumer) for e, r in sorted(rec.items())),
                    link, seq, head, bool(statements), min(later, default=None))


def lot_parts(store: SqlStore, lot_id: str, *, now: datetime | None = None) -> LotParts:
    """The recycled shares and due-diligence link of stored lot ``lot_id`` (its id as the ledger spells it): kept
    ones while still valid (see the module documentation), else computed on the lot's upstream closure."""
    now = now or datetime.now(UTC)
    seq, head = store.head()
    key = (store.url, lot_id)
    with _LOCK:
        kept = _KEPT.get(key)
    if kept is not None and _still_valid(store, kept, seq, head, now):
        if seq > kept.seq:  # checked up to this head: the next check reads only what comes after it
            kept = replace(kept, seq=seq, head=head)
            with _LOCK:
                _KEPT[key] = kept
        return kept
    fresh = _compute(store, lot_id, seq, head, now)
    with _LOCK:
        _KEPT[key] = fresh
        _KEPT.move_to_end(key)
        while len(_KEPT) > _MAX_KEPT:
            _KEPT.popitem(last=False)
    return fresh
