"""The demo's due-diligence scenario end to end: the Kalahari manganese mine loses its RMAP audit on day 30.

Checked against an independent reading of the ledger: which Kalahari ore lots were still at the mine when the
audit lapsed (their last departure from the movements, not the engine), and which lots lie downstream of them
(a plain graph walk). Every lot downstream of those lots that holds manganese carries the flag (a positive share
of its manganese passed through a lot at risk), every other lot carries none; the customer declaration lists the
mine with its lapsed audit and the recorded measure; the policy answers the declaration's question A.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from lichain.analysis.diligence import through_share
from lichain.services.diligence import diligence, lot_risks
from lichain.services.emrt import emrt_declaration
from lichain.services.snapshot import load_snapshot
from lichain.storage.sql import SqlStore, open_store

ZA = "ZA-KALAHARI-MANGANESE"
CUSTOMER = "Demo Cell Korea Co., Ltd."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SqlStore:
    from lichain.services.demo import run_demo

    store = open_store(str(Path(tmp_path_factory.mktemp("dd")) / "demo.db"))
    assert run_demo(store, lots=3000).ok
    return store


def test_only_material_there_after_the_lapse_carries_the_flag_and_everything_downstream_does(
        demo: SqlStore) -> None:
    snap = load_snapshot(demo).snapshot
    lapse = next(r.valid_from for r in demo.site_risks([ZA]) if r.status == "lapsed")
    start = min(r.valid_from for r in demo.site_risks(["CD-KOLWEZI-COHYDROXIDE"]))
    assert lapse - start == timedelta(days=30)
    za = np.flatnonzero(snap.lot_site == snap.site_ids.index(ZA))
    moves = demo.movements([snap.lot_id(i) for i in za])
    left = {int(i): max(m.at for m in moves[snap.lot_id(i)] if m.site == ZA and m.mass_mg < 0) for i in za}
    expected = {i for i, t in left.items() if t >= lapse}
    assert expected and set(left) - expected  # lots on both sides of the date in the demo
    flagged = lot_risks(demo, snap, za)
    assert set(flagged) == expected and all([iv.id for iv in v] == ["RMAP-KALAHARI"] for v in flagged.values())
    seen, stack = set(expected), list(expected)  # lots downstream of the flagged ore: a plain walk of the graph
    while stack:
        i = stack.pop()
        for j in snap.down_dst[snap.down_indptr[i]:snap.down_indptr[i + 1]].tolist():
            if j not in seen:
                seen.add(j)
                stack.append(j)
    below = np.zeros(snap.n_lots, np.bool_)
    below[list(seen)] = True
    mask = np.zeros(snap.n_lots, np.bool_)
    mask[list(expected)] = True
    holds_mn = snap.lot_assay[:, snap.element_index("Mn")] > 0
    carries = np.nan_to_num(through_share(snap, "Mn", mask).values) > 0
    assert below.sum() > 100 and np.array_equal(carries, below & holds_mn)
    cam = snap.stage_names.index("cam")
    cams = np.flatnonzero(snap.lot_stage == cam)
    first_tainted = next(int(i) for i in cams if below[i])
    before = [int(i) for i in cams if not below[i] and i < first_tainted][-1]
    for i, flag in ((before, False), (first_tainted, True)):  # the lot view agrees on both sides of the boundary
        r = diligence(demo, snap.lot_id(i))
        assert ("RMAP-KALAHARI" in {f.id for f in r.flags}) is flag


def test_customer_declaration_lists_the_mine_with_its_lapsed_audit_and_the_measure(demo: SqlStore) -> None:
    e = emrt_declaration(demo, CUSTOMER, "2026")
    (mine,) = [m for m in e.mines if m.mine_identification == ZA]
    assert mine.metal == "Manganese" and mine.audit_status == ("RMAP lapsed since 2026-01-31 (RMAP-KALAHARI)",)
    assert [r.id for r in mine.risks] == ["RMAP-KALAHARI"] and 0 < mine.risks[0].share <= mine.share
    assert mine.proposed_next_steps is not None and "M-KALAHARI-REAUDIT" in mine.proposed_next_steps
    assert mine.smelters == ("Quzhou nickel-cobalt-manganese refinery (demo)",)
    mn = next(m for m in e.metals if m.element == "Mn")
    assert mn.at_risk_share == pytest.approx(mine.risks[0].share, abs=1e-12)  # the lapse is manganese's only risk
    a = next(x for x in e.company_answers if x.question == "A")
    assert a.answer == "Yes" and "DDP-2025-01" in a.basis
    assert e.company == "Demo Integrated Battery Materials Group"
    shares = {(r.metal, r.mine_identification): r.share for r in e.mines}
    for m in e.metals:  # mines and recycled feed account for all of each metal
        total = sum(v for (metal, _), v in shares.items() if metal == m.metal) + m.recycled_share
        assert total == pytest.approx(1.0, abs=1e-9)
