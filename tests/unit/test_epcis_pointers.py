"""Every field of a canonical lot, run and shipment maps to a member of its EPCIS form (tests/data corpus checks
the refusals themselves): the demo chain's events are written by the EPCIS writer, and for each leaf of each
event's canonical JSON the mapped pointer must name a member of the written event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lichain.core.codec import body_to_json
from lichain.core.model import Lot, Run, Shipment
from lichain.demo import generate
from lichain.io.epcis_fields import esc
from lichain.io.epcis_pointers import document_pointer
from lichain.io.epcis_write import render_event
from lichain.services.record import assign_ids


def _leaves(x: Any, ptr: str = "") -> Iterator[str]:
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, f"{ptr}/{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, f"{ptr}/{i}")
    elif x is not None:
        yield ptr


def _resolves(doc: Any, pointer: str) -> bool:
    node = doc
    for t in pointer.split("/")[1:]:
        t = t.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and t in node:
            node = node[t]
        elif isinstance(node, list) and t.isdigit() and int(t) < len(node):
            node = node[int(t)]
        else:
            return False
    return True


def test_every_canonical_field_of_lots_runs_and_shipments_has_its_place_in_epcis() -> None:
    chain = generate(lots=400, seed=3)
    events = [ev for b in chain.batches() for ev in assign_ids(b)]
    kinds = {Lot: 0, Run: 0, Shipment: 0}
    checked = 0
    for ev in events:
        if type(ev.body) not in kinds:
            continue
        kinds[type(ev.body)] += 1
        written = render_event(ev)
        for leaf in _leaves(body_to_json(ev.body)):
            pointer = document_pointer(ev.body, leaf)
            assert pointer, (type(ev.body).__name__, leaf)
            assert _resolves(written, pointer), (type(ev.body).__name__, leaf, pointer)
            checked += 1
    assert min(kinds.values()) > 10 and checked > 5_000


def test_fields_without_a_place_point_at_the_event() -> None:
    run = next(ev.body for b in generate(lots=100, seed=1).batches() for ev in b if isinstance(ev.body, Run))
    assert document_pointer(run, "") == ""
    assert document_pointer(run, "/no_such_field") == ""
    assert document_pointer(run, "/inputs/0/lot") == "/inputQuantityList/0/epcClass"
    out = run.outputs[0]
    assert document_pointer(run, "/outputs/0/assay/Ni") == f"/ilmd/lichain:lots/{esc(out.id)}/assay/Ni"
    assert "/" not in esc(out.id) and out.id.count("/") > 3  # a Digital Link id escaped as one token
