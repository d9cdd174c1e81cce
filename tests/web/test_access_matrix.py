"""The authorization matrix: every route of the app × every role and organisation × resources of different
organisations. No read or write crosses an organisation or an access level.

The routes come from the app itself: a route without an example here (and so without an expected outcome per
caller) fails :func:`test_every_route_is_in_the_matrix`. Who may do what is written out by hand below, per
resource of the template chain (not derived from the code under test).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.web.conftest import KOREA, MATERIALS, NICKEL, USERS, Served

PUBLIC = None
EVERYONE = [*USERS, PUBLIC]
KEYED = set(USERS)
MHP, NISO4, COSO4 = "MHP-2024-0001", "NISO4-2024-0001", "COSO4-2024-0001"
# Who reads each lot in full (its history: trace, diligence, inputs) and who reads it one hop deep as a receiver.
FULL = {MHP: {"owner", "op_nickel", "aud_all", "aud_nickel"},
        NISO4: {"owner", "op_materials", "aud_all"},
        COSO4: {"owner", "op_materials", "aud_all"}}
RECEIVED = {MHP: {"op_materials"},  # shipped HPAL-ID-01 → REF-CN-01
            NISO4: {"op_korea", "cust_korea"},  # shipped REF-CN-01 → PCAM-KR-01
            COSO4: set()}
WHOLE_LEDGER = {"owner", "aud_all"}
READS_NICKEL = {"owner", "aud_all", "op_nickel", "aud_nickel"}
READS_MATERIALS = {"owner", "aud_all", "op_materials"}


def lot_document(lot_id: str, site: str, material: str) -> bytes:
    """An EPCIS 2.0 document commissioning one lot (written by lichain's own EPCIS writer)."""
    from lichain.core.model import Event, EventKind, Lot
    from lichain.io.epcis import write_epcis
    from lichain.services.record import assign_ids

    lot = Lot(lot_id, material, site, datetime(2024, 3, 1, tzinfo=UTC), 1_000_000_000, {"Ni": 390_000_000})
    return json.dumps(write_epcis(assign_ids([Event("", EventKind.LOT, lot.produced_at, lot)]))).encode()


@dataclass(frozen=True)
class Call:
    """One request and the callers allowed to make it (everyone else is refused: 401 without a key, else 403/404)."""

    method: str
    url: str
    allowed: frozenset[str | None]
    body: Any = None
    ok: tuple[int, ...] = (200, 202)  # statuses of an allowed call (the use case ran)

    def send(self, s: Served, user: str | None, n: int) -> Any:
        h = s.as_(user)
        if self.body == "lot-doc":
            site, material = (("HPAL-ID-01", "MHP") if NICKEL in self.url else ("REF-CN-01", "NISO4"))
            doc = lot_document(f"LOT-{user}-{n}", site, material)
            url = self.url.split("#")[0]
            return s.client.request(self.method, url, content=doc, headers={**h, "Content-Type": "application/ld+json"})
        if isinstance(self.body, dict):
            return s.client.request(self.method, self.url, json=self.body, headers=h)
        return s.client.request(self.method, self.url, headers=h)


def _lot_calls(path: str, level: str) -> list[Call]:
    out = []
    for lot in (MHP, NISO4, COSO4):
        who = FULL[lot] | (RECEIVED[lot] if level == "delivered" else set())
        out.append(Call("GET", path.replace("{lot_id}", lot), frozenset(who)))
    return out


def _matrix() -> dict[tuple[str, str], list[Call]]:
    every, keyed = frozenset(EVERYONE), frozenset(KEYED)
    ledger = frozenset(WHOLE_LEDGER)
    return {
        ("GET", "/health"): [Call("GET", "/health", every)],
        ("POST", "/ingest"): [Call("POST", f"/ingest#{NICKEL}", frozenset({"op_nickel"}), "lot-doc"),
                              Call("POST", f"/ingest#{MATERIALS}", frozenset({"owner", "op_materials"}), "lot-doc")],
        ("POST", "/capture"): [Call("POST", f"/capture#{NICKEL}", frozenset({"op_nickel"}), "lot-doc"),
                               Call("POST", f"/capture#{MATERIALS}", frozenset({"owner", "op_materials"}),
                                    "lot-doc")],
        ("GET", "/capture/{capture_id}"): [Call("GET", "/capture/JOB", frozenset({"owner", "aud_all", "op_nickel"}))],
        ("GET", "/lots"): [Call("GET", "/lots", keyed)],
        ("GET", "/lots/{lot_id:path}"): _lot_calls("/lots/{lot_id}", "delivered"),
        ("GET", "/runs/{run_id:path}"): [Call("GET", "/runs/RUN-REF-0001", frozenset(READS_MATERIALS))],
        ("GET", "/shipments"): [Call("GET", f"/shipments?organisation={NICKEL}", frozenset(READS_NICKEL)),
                                Call("GET", f"/shipments?organisation={KOREA}",
                                     frozenset({"owner", "aud_all", "op_korea", "cust_korea"}))],
        ("GET", "/sites"): [Call("GET", "/sites", keyed)],
        ("GET", "/materials"): [Call("GET", "/materials", keyed)],
        ("GET", "/organisations"): [Call("GET", "/organisations", keyed)],
        ("GET", "/balance"): [Call("GET", "/balance", ledger)],
        ("GET", "/verify"): [Call("GET", "/verify", ledger)],
        ("POST", "/checkpoints"): [Call("POST", "/checkpoints", frozenset({"owner"}))],
        ("POST", "/checkpoints/verify"): [Call("POST", "/checkpoints/verify", ledger,
                                               {"token": "a.b.c", "public_key": "{}"})],
        ("GET", "/trace/{lot_id:path}"): _lot_calls("/trace/{lot_id}?by=country", "full"),
        ("GET", "/footprint/{lot_id:path}"): _lot_calls("/footprint/{lot_id}", "delivered"),
        ("GET", "/recycled/{lot_id:path}"): _lot_calls("/recycled/{lot_id}", "delivered"),
        ("GET", "/diligence/{lot_id:path}"): _lot_calls("/diligence/{lot_id}", "full"),
        ("GET", "/art8"): [*_lot_calls("/art8?lot={lot_id}", "delivered"),
                           Call("GET", f"/art8?customer={KOREA}&stage=refined_salt",
                                frozenset({"owner", "aud_all", "op_korea", "cust_korea"}))],
        ("GET", "/recovery"): [Call("GET", f"/recovery?period=2024&organisation={NICKEL}", frozenset(READS_NICKEL))],
        ("GET", "/reports/esg"): [Call("GET", f"/reports/esg?period=2024&organisation={NICKEL}",
                                       frozenset(READS_NICKEL))],
        ("GET", "/claims/proposal"): [Call("GET", "/claims/proposal?site=HPAL-ID-01&period=2024&model=segregated",
                                           frozenset(READS_NICKEL))],
        # the template recycles nothing: an allowed claim reaches the claim rule and has nothing to claim (422)
        ("POST", "/claims"): [Call("POST", "/claims", frozenset({"owner", "op_materials"}),
                                   {"site": "REF-CN-01", "period": "2024", "model": "mass_balance_credit"},
                                   ok=(422,))],
        ("GET", "/exports/epcis"): [Call("GET", "/exports/epcis", ledger)],
        ("GET", "/exports/pcf/{lot_id:path}"): _lot_calls("/exports/pcf/{lot_id}?allow_incomplete=true",
                                                          "delivered"),
        ("GET", "/exports/parquet/{table}"): [Call("GET", "/exports/parquet/lots", ledger)],
        ("GET", "/events"): [Call("GET", "/events?perPage=5", ledger)],
        ("GET", "/access/users"): [Call("GET", "/access/users", frozenset({"owner"}))],
        ("GET", "/me"): [Call("GET", "/me", keyed)],
        ("GET", "/flows"): [Call("GET", "/flows?element=Ni", ledger)],
        # the template has no cell lot: an allowed caller reaches the passport use case, which refuses a lot that
        # is not a cell lot (400); public level for everyone, the authority level only for who reads MHP in full
        # the template records no certificate (status not_certified) and no process reading (404: no such line)
        ("GET", "/quality/{lot_id:path}"): _lot_calls("/quality/{lot_id}", "delivered"),
        ("GET", "/spc"): [Call("GET", "/spc?line=L1&param=pH&period=2024", ledger, ok=(404,))],
        ("GET", "/passports/{ident:path}"): [
            Call("GET", f"/passports/{MHP}?level=public", every, ok=(400,)),
            Call("GET", f"/passports/{MHP}?level=authority", frozenset(FULL[MHP]), ok=(400,)),
            Call("GET", f"/passports/{NISO4}?level=legitimate", frozenset(FULL[NISO4] | RECEIVED[NISO4]), ok=(400,))],
    }


MATRIX = _matrix()


def _operations(served: Served) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation the app serves, from its OpenAPI document (generated from the app's route list)."""
    paths = served.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(m.upper(), p): op for p, ops in paths.items() for m, op in ops.items()}


def test_every_route_is_in_the_matrix_and_states_its_rule(served_sqlite: Served) -> None:
    """A route added without an access rule or without a row here fails; no route hides from the document."""
    from lichain.web import (
        epcis_rest,
        routes_analysis,
        routes_dashboard,
        routes_exports,
        routes_ledger,
        routes_passport,
        routes_quality,
    )

    ops = _operations(served_sqlite)
    assert set(ops) == {(m, p.replace(":path", "")) for m, p in MATRIX}
    for (m, p), op in ops.items():
        assert op.get("x-access") in ("public", "ledger", "read", "write", "owner"), (m, p)
    for router in (routes_ledger.router, routes_analysis.router, routes_exports.router, epcis_rest.router,
                   routes_dashboard.router, routes_passport.router, routes_quality.router):
        assert all(isinstance(r, APIRoute) and r.include_in_schema for r in router.routes)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_matrix(served: Served, route: tuple[str, str], tmp_path: Any) -> None:
    """Each caller gets through exactly where the table says; a refused write writes nothing."""
    from lichain.storage import access_sql as acc

    if route == ("POST", "/checkpoints"):
        from lichain.io.signing import generate_key

        served.client.app.state.lichain.settings = type(served.client.app.state.lichain.settings)(  # type: ignore[attr-defined]
            checkpoint_key=generate_key(tmp_path / "keys", "t")[0])
    job = acc.create_job(served.store, acc.UserRow("op_nickel", NICKEL, "operator", (), "", None, 0), "0" * 64)
    for call in MATRIX[route]:
        call = Call(call.method, call.url.replace("JOB", job), call.allowed, call.body, call.ok)
        for n, user in enumerate(EVERYONE):
            before = served.store.counts()["events"]
            r = call.send(served, user, n)
            what = f"{call.method} {call.url} as {user}: {r.status_code} {r.text[:200]}"
            if user in call.allowed:
                assert r.status_code in call.ok, what
                assert r.status_code != 202 or r.json()["success"], what
                assert r.status_code != 422 or "nothing left to claim" in r.json()["detail"], what
            else:
                assert r.status_code == (401 if user is None else r.status_code), what
                assert r.status_code in ((401,) if user is None else (403, 404)), what
                assert r.headers["content-type"].startswith("application/problem+json"), what
                assert served.store.counts()["events"] == before, what  # nothing written


def _ids(items: list[dict[str, Any]], key: str = "id") -> set[str]:
    return {x[key] for x in items}


def test_lists_hold_only_what_the_caller_may_read(served_sqlite: Served) -> None:
    """The lists narrow to the caller's scope: lots, sites, shipments, organisations."""
    s = served_sqlite
    lots = {u: _ids(s.client.get("/lots", headers=s.as_(u)).json()["lots"]) for u in USERS}
    assert lots["op_nickel"] == {MHP, "MHP-2024-0002"}
    assert lots["aud_nickel"] == {MHP, "MHP-2024-0002"}
    assert lots["op_materials"] == {NISO4, COSO4, "NISO4-2024-0002", "COSO4-2024-0002"}
    assert lots["cust_korea"] == {NISO4}
    assert lots["op_korea"] == set()  # it made nothing; what it received is listed with ?received=true
    assert _ids(s.client.get("/lots?received=true", headers=s.as_("op_korea")).json()["lots"]) == {NISO4}
    assert _ids(s.client.get("/lots?received=true", headers=s.as_("op_materials")).json()["lots"]) == {
        MHP, "MHP-2024-0002"}
    assert len(lots["owner"]) == len(lots["aud_all"]) == 6
    sites = {u: _ids(s.client.get("/sites", headers=s.as_(u)).json()["items"]) for u in USERS}
    assert sites["cust_korea"] == set()  # a customer reads no organisation's records in full
    assert sites["op_nickel"] == {"HPAL-ID-01"}
    assert sites["aud_nickel"] == {"HPAL-ID-01"}
    assert sites["owner"] == {"HPAL-ID-01", "REF-CN-01", "PCAM-KR-01"}
    ships = s.client.get("/shipments", headers=s.as_("cust_korea")).json()
    assert ships["organisation"] == KOREA and _ids(ships["shipments"], "lot") == {NISO4}
    ships = s.client.get("/shipments", headers=s.as_("op_nickel")).json()
    assert _ids(ships["shipments"], "lot") == {MHP, "MHP-2024-0002"}
    orgs = _ids(s.client.get("/organisations", headers=s.as_("cust_korea")).json()["items"], "name")
    assert orgs == {KOREA}
    # asking for another organisation's scope is refused, not silently narrowed
    assert s.client.get(f"/lots?customer={KOREA}", headers=s.as_("op_nickel")).status_code == 403
    assert s.client.get(f"/shipments?organisation={MATERIALS}", headers=s.as_("op_nickel")).status_code == 403


def test_a_receiver_sees_the_lot_one_hop_deep(served_sqlite: Served) -> None:
    """A customer gets the lot's own fields and its shipments to the customer, not the run or its inputs."""
    s = served_sqlite
    d = s.client.get(f"/lots/{NISO4}", headers=s.as_("cust_korea")).json()
    assert set(d) == {"lot", "shipments"} and d["lot"]["id"] == NISO4
    assert [x["to_site"] for x in d["shipments"]] == ["PCAM-KR-01"]
    full = s.client.get(f"/lots/{NISO4}", headers=s.as_("op_materials")).json()
    assert full["run"]["id"] == "RUN-REF-0001" and full["inputs"]


def test_a_lot_out_of_scope_reads_as_unknown_without_hints(served_sqlite: Served) -> None:
    """Another organisation's lot answers exactly like a lot that does not exist: no existence, no close ids."""
    s = served_sqlite
    other = s.client.get(f"/trace/{COSO4}", headers=s.as_("op_nickel"))
    missing = s.client.get("/trace/COSO4-2024-0009", headers=s.as_("op_nickel"))
    assert other.status_code == missing.status_code == 404
    assert "COSO4-2024-0001" not in missing.text and "did you mean" not in missing.text
    assert other.json()["detail"] == f"unknown lot {COSO4!r}"
    hinted = s.client.get("/trace/COSO4-2024-0009", headers=s.as_("owner")).json()["detail"]
    assert "did you mean" in hinted  # a whole-ledger key gets the closest ids, as the CLI gives


def test_revoked_and_forged_keys_are_refused(served_sqlite: Served) -> None:
    """A revoked user's key, a key with a wrong secret and a malformed one all get 401."""
    from lichain.storage import access_sql as acc

    s = served_sqlite
    good = s.as_("op_nickel")
    assert s.client.get("/lots", headers=good).status_code == 200
    token = good["Authorization"].removeprefix("Bearer ")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "lck_nothing", "garbage"):
        r = s.client.get("/lots", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert s.client.get("/lots", headers={"X-API-Key": token}).status_code == 200
    acc.revoke_user(s.store, "op_nickel")
    assert s.client.get("/lots", headers=good).status_code == 401
