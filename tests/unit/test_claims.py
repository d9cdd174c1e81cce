"""Custody-claim rules without a database: exact recycled splits, transfers, and each write-time check."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from lichain.core.claims import ClaimChecker, boundary_flows, input_recycled, load_lots, recycled_split
from lichain.core.codec import body_from_json, body_to_json, canonical_payload
from lichain.core.errors import Problem
from lichain.core.model import Allocation, Consumption, CustodyClaim, EventKind
from lichain.core.ports import BoundaryRun, ClaimLot, ClaimRecord, CustodyView, LotAllocation
from lichain.core.validate import LocatedEvent
from tests.support.chain_text import event

T = datetime(2026, 1, 1, tzinfo=UTC)
Y1 = datetime(2027, 1, 1, tzinfo=UTC)
KG = 1_000_000  # mg per kg
S = 10**9


def lot(lot_id: str, origin: str = "virgin", kg: str = "100", ni: str = "0.5", run_site: str | None = None,
        inputs: Sequence[tuple[str, str]] = (), allocations: Sequence[LotAllocation] = ()) -> ClaimLot:
    """A lot with Ni only; masses in kg as decimal strings, converted exactly."""
    return ClaimLot(lot_id, int(Fraction(kg) * KG), {"Ni": int(Fraction(ni) * S)}, origin, "X", T, run_site, False,
                    tuple(allocations), tuple(Consumption(i, int(Fraction(m) * KG)) for i, m in inputs))


def test_reset_lot_is_wholly_its_class() -> None:
    lots = {"CAM": lot("CAM", run_site="C"),
            "SCRAP": lot("SCRAP", "pre_consumer", "20", run_site="CELL", inputs=[("CAM", "20")])}
    assert recycled_split(lots, "SCRAP", "Ni") == (1, 0)
    assert recycled_split(lots, "CAM", "Ni") == (0, 0)


def test_mixed_black_mass_split_is_exact() -> None:
    # Ni: scrap 20 kg × 0.5 = 10 kg pre-consumer, modules 50 kg × 0.1 = 5 kg post-consumer → 2/3, 1/3
    lots = {"CAM": lot("CAM", run_site="C"),
            "SCRAP": lot("SCRAP", "pre_consumer", "20", run_site="CELL", inputs=[("CAM", "20")]),
            "EOL": lot("EOL", "post_consumer", "50", "0.1"),
            "BM": lot("BM", "post_consumer", "30", run_site="REC", inputs=[("SCRAP", "20"), ("EOL", "50")])}
    assert recycled_split(lots, "BM", "Ni") == (Fraction(2, 3), Fraction(1, 3))
    assert recycled_split(lots, "EOL", "Ni") == (0, 1)  # a commissioned recycled lot is a reset point


def test_virgin_input_to_a_recycled_lot_counts_zero() -> None:
    # recovered salt from 15 kg Ni of black mass (2/3 pre) and 5 kg Ni of virgin salt: 10/20 pre, 5/20 post
    lots = {"CAM": lot("CAM", run_site="C"),
            "SCRAP": lot("SCRAP", "pre_consumer", "20", run_site="CELL", inputs=[("CAM", "20")]),
            "EOL": lot("EOL", "post_consumer", "50", "0.1"),
            "BM": lot("BM", "post_consumer", "30", run_site="REC", inputs=[("SCRAP", "20"), ("EOL", "50")]),
            "V": lot("V", "virgin", "25", "0.2"),
            "RS": lot("RS", "post_consumer", "80", "0.25", run_site="REC", inputs=[("BM", "30"), ("V", "25")])}
    assert recycled_split(lots, "RS", "Ni") == (Fraction(1, 2), Fraction(1, 4))
    pre, post = input_recycled(lots, "RS", 40 * KG, "Ni", "PC")  # 40 kg × 0.25 = 10 kg Ni
    assert (pre, post) == (5 * KG * S, 25 * KG * S // 10)


def test_unknown_ancestry_proves_nothing() -> None:
    lots = {"BM": lot("BM", "pre_consumer", "30", run_site="REC", inputs=[("GONE", "10")]),
            "BM2": lot("BM2", "pre_consumer", "30", run_site="REC")}
    assert recycled_split(lots, "BM", "Ni") == (0, 0)
    assert recycled_split(lots, "BM2", "Ni") == (0, 0)
    assert recycled_split(lots, "NOPE", "Ni") == (0, 0)


def test_transfers_are_prorated_and_a_site_never_receives_its_own() -> None:
    allocs = [LotAllocation("ev-a", "A", "controlled_blending", "Ni", 10 * KG, 4 * KG),
              LotAllocation("ev-b", "B", "mass_balance_credit", "Ni", 1 * KG, 0)]
    lots = {"P": lot("P", allocations=allocs)}
    # 25 of 100 kg consumed at B: a quarter of A's allocation; B's own allocation does not come back
    assert input_recycled(lots, "P", 25 * KG, "Ni", "B") == (25 * KG * S // 10, 1 * KG * S)
    assert input_recycled(lots, "P", 25 * KG, "Ni", "C") == (11 * KG * S // 4, 1 * KG * S)
    assert input_recycled(lots, "P", 25 * KG, "Ni", "C", models=frozenset({"controlled_blending"})) == \
        (25 * KG * S // 10, 1 * KG * S)
    assert input_recycled(lots, "P", 25 * KG, "Ni", "C", skip=frozenset({"ev-a", "ev-b"})) == (0, 0)


def test_load_lots_follows_the_declared_recycled_ancestry_only() -> None:
    store = {"RS": lot("RS", "post_consumer", run_site="REC", inputs=[("BM", "1")]),
             "BM": lot("BM", "pre_consumer", run_site="REC", inputs=[("CAM", "1")]),
             "CAM": lot("CAM", run_site="C", inputs=[("PCAM", "1")]), "PCAM": lot("PCAM")}
    asked: list[list[str]] = []

    def fetch(ids: list[str]) -> dict[str, ClaimLot]:
        asked.append(sorted(ids))
        return {i: store[i] for i in ids if i in store}

    got = load_lots(fetch, ["RS"])
    assert set(got) == {"RS", "BM", "CAM"} and asked == [["RS"], ["BM"], ["CAM"]]


def test_claim_codec_round_trip() -> None:
    c = CustodyClaim("C-1", "PC", T, Y1, "mass_balance_rolling_average",
                     (Allocation("L1", "Ni", 1_234_567, 0), Allocation("L1", "Co", 0, 1)), {"Ni": (20_000_000, 0)})
    d = body_to_json(c)
    assert d["allocations"][0] == {"lot": "L1", "element": "Ni", "pre_consumer_kg": "1.234567", "post_consumer_kg": "0"}
    assert d["rolling_average"] == {"Ni": {"pre_consumer": "0.02", "post_consumer": "0"}}
    assert body_from_json(EventKind.CUSTODY_CLAIM, d) == c
    assert canonical_payload(body_from_json(EventKind.CUSTODY_CLAIM, d)) == canonical_payload(c)


# --- the checker against a fixed view ----------------------------------------------------------------------------
@dataclass
class View:
    """A fixed :class:`CustodyView`: boundary B has one run R (20 kg recovered salt + 80 kg virgin → O1)."""

    lots: dict[str, ClaimLot] = field(default_factory=dict)
    runs: list[tuple[str, BoundaryRun]] = field(default_factory=list)
    claims: dict[str, list[ClaimRecord]] = field(default_factory=dict)
    dependents: dict[str, list[str]] = field(default_factory=dict)

    def boundary_runs(self, site: str, start: datetime, end: datetime) -> Sequence[BoundaryRun]:
        return [r for s, r in self.runs if s == site and start <= r.started_at < end]

    def claim_lots(self, ids: Iterable[str]) -> dict[str, ClaimLot]:
        return {i: self.lots[i] for i in ids if i in self.lots}

    def site_claims(self, site: str) -> Sequence[ClaimRecord]:
        return self.claims.get(site, [])

    def claim_ids(self, ids: Iterable[str]) -> set[str]:
        have = {r.id for rs in self.claims.values() for r in rs}
        return {i for i in ids if i in have}

    def claim_dependents(self, event_id: str) -> list[str]:
        return self.dependents.get(event_id, [])


def view(o1_allocations: Sequence[LotAllocation] = ()) -> View:
    # Ni in: recovered salt RS 20 kg × 0.5 = 10 kg post-consumer (commissioned: a reset point), virgin 40 kg → O1 50 kg
    v = View(lots={"RS": lot("RS", "post_consumer", "20"), "V": lot("V", kg="80"),
                   "O1": lot("O1", run_site="B", allocations=o1_allocations)})
    v.runs.append(("B", BoundaryRun("R", "ev-R", datetime(2026, 3, 1, tzinfo=UTC),
                                    (Consumption("RS", 20 * KG), Consumption("V", 80 * KG)), ("O1",))))
    return v


def check(v: object, *claims: CustodyClaim, known: Iterable[str] = ("B",)) -> list[Problem]:
    located = [LocatedEvent(f"doc:{i}", event(c, T)) for i, c in enumerate(claims)]
    problems: list[Problem] = []
    ck = ClaimChecker(v, located)
    for le in located:
        assert isinstance(le.event.body, CustodyClaim)
        ck.check(le.location, le.event.body, le.event.event_id, lambda loc, m: problems.append(Problem(loc, m)),
                 lambda s: s in set(known), set())
    return problems


def claim(model: str, *allocs: tuple[str, str, int, int], cid: str = "C", site: str = "B",
          start: datetime = T, end: datetime = Y1, ra: dict[str, tuple[int, int]] | None = None) -> CustodyClaim:
    return CustodyClaim(cid, site, start, end, model, tuple(Allocation(*a) for a in allocs), ra or {})


def messages(ps: list[Problem]) -> str:
    return " | ".join(f"{p.location}: {p.message}" for p in ps)


def test_the_fixed_view_is_a_custody_view() -> None:
    assert isinstance(view(), CustodyView)
    f = boundary_flows(view().runs[0][1:], view().lots, "B")
    assert f.total == {"Ni": 50 * KG * S} and f.rec == {("Ni", "post_consumer"): 10 * KG * S}


@pytest.mark.parametrize("model", ["mass_balance_credit", "controlled_blending"])
def test_claim_up_to_the_recycled_input_is_accepted(model: str) -> None:
    assert check(view(), claim(model, ("O1", "Ni", 0, 10 * KG))) == []


@pytest.mark.parametrize(("c", "where", "what"), [
    (claim("mass_balance_credit", ("O1", "Ni", 0, 10 * KG + 1)), "doc:0", "over-claims post_consumer Ni"),
    (claim("mass_balance_credit", ("O1", "Ni", 1, 0)), "doc:0", "over-claims pre_consumer Ni"),
    (claim("controlled_blending", ("O1", "Ni", 0, 10 * KG + 1)), "doc:0/allocations/0", "known proportion"),
    (claim("segregated", ("O1", "Ni", 0, 1)), "doc:0/allocations/0", "mixes inputs not declared recycled"),
    (claim("mass_balance_credit", ("V", "Ni", 0, 1)), "doc:0/allocations/0", "not a live output of a run at B"),
    (claim("mass_balance_credit", ("GHOST", "Ni", 0, 1)), "doc:0/allocations/0", "unknown lot GHOST"),
    (claim("mass_balance_credit", ("O1", "Co", 0, 1)), "doc:0/allocations/0", "exceeds its Co mass"),
    (claim("mass_balance_credit", ("O1", "Ni", -1, 0)), "doc:0/allocations/0", "must be ≥ 0"),
    (claim("mass_balance_credit", ("O1", "Ni", 0, 1), ("O1", "Ni", 0, 1)), "doc:0/allocations/1", "twice"),
    (claim("mass_balance_credit", site="ELSEWHERE"), "doc:0", "unknown site"),
    (claim("book_and_claim"), "doc:0", "model must be one of"),
    (claim("mass_balance_credit", end=T), "doc:0", "period_end must be after"),
    (claim("mass_balance_credit", cid=""), "doc:0", "claim id is empty"),
    (claim("mass_balance_rolling_average", ("O1", "Ni", 0, 10 * KG)), "doc:0", "states its fraction"),
    (claim("mass_balance_credit", ra={"Ni": (0, 1)}), "doc:0", "rolling_average fractions belong"),
    (claim("mass_balance_rolling_average", ("O1", "Ni", 0, 10 * KG), ra={"Ni": (0, 210_000_000)}),
     "doc:0", "exceeds the period's recycled input share"),
    (claim("mass_balance_rolling_average", ("O1", "Ni", 0, 10 * KG), ra={"Ni": (0, 100_000_000)}),
     "doc:0/allocations/0", "must be the stated fraction"),
])
def test_each_rule_refuses_with_its_location(c: CustodyClaim, where: str, what: str) -> None:
    ps = check(view(), c)
    assert any(p.location == where and what in p.message for p in ps), messages(ps)


def test_rolling_average_at_the_period_share_is_accepted() -> None:
    # period share: 10 of 50 kg Ni post-consumer = 0.2; O1 holds 50 kg Ni → exactly 10 kg
    assert check(view(), claim("mass_balance_rolling_average", ("O1", "Ni", 0, 10 * KG),
                               ra={"Ni": (0, 200_000_000)})) == []


def test_budget_is_shared_by_the_claims_of_one_period() -> None:
    v = view()
    v.claims["B"] = [ClaimRecord("OLD", "ev-old", T, Y1, "mass_balance_credit", {"Ni": (0, 6 * KG)})]
    ps = check(v, claim("mass_balance_credit", ("O1", "Ni", 0, 4 * KG + 1)))
    assert any("over-claims post_consumer Ni" in p.message for p in ps), messages(ps)
    # two claims in one document share it too
    ps = check(view(), claim("mass_balance_credit", ("O1", "Ni", 0, 6 * KG), cid="A"),
               claim("mass_balance_credit", ("O1", "Ni", 0, 5 * KG), cid="B2"))
    assert [p.location for p in ps] == ["doc:1"] and "over-claims" in ps[0].message


def test_allocations_to_a_lot_never_exceed_its_element_mass() -> None:
    v = view([LotAllocation("ev-x", "B", "mass_balance_credit", "Ni", 45 * KG, 0)])
    ps = check(v, claim("mass_balance_credit", ("O1", "Ni", 0, 5 * KG + 1)))
    assert any("exceeds its Ni mass" in p.message for p in ps), messages(ps)


def test_periods_of_one_site_are_identical_or_disjoint() -> None:
    v = view()
    v.claims["B"] = [ClaimRecord("Q1", "ev-q1", T, datetime(2026, 4, 1, tzinfo=UTC), "mass_balance_credit", {})]
    ps = check(v, claim("mass_balance_credit"))
    assert any("overlaps claim Q1" in p.message for p in ps), messages(ps)
    v.claims["B"] = [ClaimRecord("Y25", "ev-y", datetime(2025, 1, 1, tzinfo=UTC), T, "mass_balance_credit", {})]
    assert check(v, claim("mass_balance_credit")) == []


def test_claim_ids_are_used_once() -> None:
    v = view()
    v.claims["B"] = [ClaimRecord("C", "ev-c", datetime(2025, 1, 1, tzinfo=UTC), T, "mass_balance_credit", {})]
    assert any("already recorded" in p.message for p in check(v, claim("mass_balance_credit")))


def test_retraction_of_what_a_claim_counts_is_refused() -> None:
    v = view()
    v.dependents["ev-stored"] = ["claim K of site B counts the inputs of this run"]
    c = claim("mass_balance_credit", ("O1", "Ni", 0, 1 * KG))
    located = [LocatedEvent("doc:0", event(c, T))]
    ck = ClaimChecker(v, located)
    ps: list[Problem] = []
    ck.check("doc:0", c, located[0].event.event_id, lambda loc, m: ps.append(Problem(loc, m)), lambda s: True, set())
    ck.check_retraction("doc:1", "ev-R", lambda loc, m: ps.append(Problem(loc, m)))  # counted by this document
    ck.check_retraction("doc:2", "ev-stored", lambda loc, m: ps.append(Problem(loc, m)))
    assert [p.location for p in ps] == ["doc:1", "doc:2"], messages(ps)


def test_a_view_without_claim_support_refuses_claims() -> None:
    ps = check(object(), claim("mass_balance_credit"))
    assert any("cannot check custody claims" in p.message for p in ps)
