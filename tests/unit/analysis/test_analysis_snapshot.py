"""The snapshot: CSR content, incremental extension, time travel, memory, export."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis.snapshot import LedgerArrays, Snapshot, arrays_as_of, split_arrays
from lichain.analysis.synth import random_ledger, synthetic_ledger

SEEDS = st.integers(0, 2**32 - 1)


def edges_by_hand(a: LedgerArrays, alloc: np.ndarray | None = None) -> list[tuple[int, int, float]]:
    """(output, input, kg), ordered as the snapshot promises: by output lot, then consumption order."""
    out: list[tuple[int, int, float]] = []
    for o, r in enumerate(a.lot_run):
        if r < 0:
            continue
        outs = np.flatnonzero(a.lot_run == r)
        share = alloc[o] if alloc is not None else a.lot_mass_kg[o] / a.lot_mass_kg[outs].sum()
        out += [(o, int(i), kg * share) for rr, i, kg in zip(a.cons_run, a.cons_lot, a.cons_kg, strict=True)
                if rr == r]
    return out


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 60), SEEDS)
def test_csr_matches_the_ledger(n: int, seed: int) -> None:
    a = random_ledger(n, seed=seed)
    s = Snapshot.build(a)
    got = list(zip(s.edge_dst().tolist(), s.up_src.tolist(), s.up_kg.tolist(), strict=True))
    want = edges_by_hand(a)
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert np.allclose([g[2] for g in got], [w[2] for w in want], rtol=1e-15)
    # downstream CSR holds the same edges, grouped by input lot
    for i in range(s.n_lots):
        rows = slice(s.down_indptr[i], s.down_indptr[i + 1])
        assert np.all(s.up_src[s.down_pos[rows]] == i)
        assert np.all(s.edge_dst()[s.down_pos[rows]] == s.down_dst[rows])
    assert sorted(s.down_pos.tolist()) == list(range(s.n_edges))
    assert np.all(s.up_src < s.edge_dst())
    assert not s.up_kg.flags.writeable


def test_economic_allocation() -> None:
    a = random_ledger(40, seed=11, p_multi=0.9)
    alloc = np.random.default_rng(0).random(40)
    s = Snapshot.build(a, alloc=alloc)
    want = edges_by_hand(a, alloc)
    assert np.allclose(s.up_kg, [w[2] for w in want], rtol=1e-15)


def test_rejects_lots_out_of_creation_order() -> None:
    a = random_ledger(20, seed=2)
    produced = int(np.flatnonzero(a.lot_run >= 0)[0])
    m = int(np.flatnonzero(a.cons_run == a.lot_run[produced])[0])
    cons_lot = a.cons_lot.copy()
    cons_lot[m] = a.n_lots - 1
    if produced < a.n_lots - 1:
        with pytest.raises(ValueError, match="creation"):
            Snapshot.build(replace(a, cons_lot=cons_lot))
    with pytest.raises(ValueError, match="shape"):
        Snapshot.build(replace(a, lot_mass_kg=a.lot_mass_kg[:-1]))


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 60), SEEDS, st.floats(0.0, 1.0))
def test_extend_equals_full_rebuild(n: int, seed: int, where: float) -> None:
    a = random_ledger(n, seed=seed)
    # cut at a run boundary: a source lot or the first output of a run
    starts = [o for o in range(1, n) if a.lot_run[o] < 0 or a.lot_run[o] != a.lot_run[o - 1]]
    if not starts:
        return
    cut = starts[int(where * (len(starts) - 1))]
    n_runs = int(np.unique(a.lot_run[:cut][a.lot_run[:cut] >= 0]).size)
    head, delta = split_arrays(a, cut, n_runs)
    grown = Snapshot.build(head).extend(delta)
    assert grown.equals(Snapshot.build(a))
    # twice, in two steps
    half = starts[len(starts) // 2]
    if half > cut:
        n2 = int(np.unique(a.lot_run[:half][a.lot_run[:half] >= 0]).size)
        step = Snapshot.build(head).extend(_tail(a, cut, n_runs, half, n2))
        assert step.equals(Snapshot.build(split_arrays(a, half, n2)[0]))
        assert step.extend(split_arrays(a, half, n2)[1]).equals(Snapshot.build(a))


def _tail(a: LedgerArrays, lot0: int, run0: int, lot1: int, run1: int) -> LedgerArrays:
    """Lots lot0..lot1-1 and runs run0..run1-1 of ``a`` as an extend delta."""
    _, rest = split_arrays(a, lot0, run0)
    keep_cons = rest.cons_run < run1
    n_l, n_r = lot1 - lot0, run1 - run0
    return replace(rest, lot_ids=rest.lot_ids[:n_l],
                   **{k: getattr(rest, k)[:n_l] for k in ("lot_mass_kg", "lot_assay", "lot_run", "lot_site",
                                                           "lot_material", "lot_stage", "lot_origin", "lot_time")},
                   **{k: getattr(rest, k)[:n_r] for k in ("run_time", "run_site", "run_loss_kg")},
                   **{k: getattr(rest, k)[keep_cons] for k in ("cons_run", "cons_lot", "cons_kg")})


def test_extend_rejects_changes_to_closed_runs() -> None:
    a = random_ledger(30, seed=4)
    cut = int(np.flatnonzero(a.lot_run < 0)[-1])
    n_runs = int(np.unique(a.lot_run[:cut][a.lot_run[:cut] >= 0]).size)
    head, delta = split_arrays(a, cut, n_runs)
    if n_runs == 0:
        return
    bad = replace(delta, cons_run=np.append(delta.cons_run, 0).astype(np.int32),
                  cons_lot=np.append(delta.cons_lot, 0).astype(np.int32), cons_kg=np.append(delta.cons_kg, 1.0))
    with pytest.raises(ValueError, match="run outside"):
        Snapshot.build(head).extend(bad)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 60), SEEDS, st.floats(0.0, 1.0))
def test_as_of_equals_rebuild_from_filtered_arrays(n: int, seed: int, where: float) -> None:
    a = random_ledger(n, seed=seed)
    t = int(a.lot_time.min() + where * (a.lot_time.max() - a.lot_time.min() + 2) - 1)
    got = Snapshot.build(a).as_of(t)
    assert got.equals(Snapshot.build(arrays_as_of(a, t)))
    assert got.n_lots == int((a.lot_time <= t).sum())


def test_memory_per_edge() -> None:
    s = Snapshot.build(synthetic_ledger(50_000, seed=3))
    assert s.n_edges > 2.5 * s.n_lots
    assert s.bytes_per_edge <= 40
    assert s.graph_nbytes + s.up_w.nbytes <= 40 * s.n_edges
    assert s.nbytes > s.graph_nbytes


def test_ids_and_lookup() -> None:
    a = synthetic_ledger(2_000, seed=1)
    s = Snapshot.build(a)
    lid = s.lot_id(123)
    assert lid.startswith("urn:epc:class:lgtin:") and s.index_of(lid) == 123
    with pytest.raises(KeyError):
        s.index_of("nope")


def test_arrow_and_parquet_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pq = pytest.importorskip("pyarrow.parquet")
    s = Snapshot.build(random_ledger(50, seed=9))
    tables = s.to_arrow()
    lots, edges = tables["lots"], tables["edges"]
    assert lots.num_rows == s.n_lots and edges.num_rows == s.n_edges
    assert lots.column("lot_id").to_pylist()[:2] == ["lot-00000", "lot-00001"]
    assert np.allclose(edges.column("kg").to_numpy(), s.up_kg)
    assert set(lots.column_names) >= {"mass_kg", "mass_fraction_Ni", "site", "country", "stage", "produced_at"}
    paths = s.write_parquet(tmp_path / "snap")
    back = pq.read_table(paths["edges"])
    assert back.column("src").to_numpy().tolist() == s.up_src.tolist()
    assert pq.read_table(paths["lots"]).num_rows == s.n_lots
    # byte-string ids from the synthetic generator export as strings
    big = Snapshot.build(synthetic_ledger(500, seed=1)).to_arrow()["lots"]
    assert big.column("lot_id").type == "string"
