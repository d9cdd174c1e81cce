"""Signed checkpoints anchor the chain head: truncation and rewrites are found, honest growth passes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from lichain.core.codec import GENESIS, chain_hash, record_hash
from lichain.io.signing import generate_key
from lichain.services.checkpoint import make_checkpoint, verify_against
from lichain.services.ingest import ingest_events
from lichain.services.verify import verify_chain
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore
from tests.support.chain_text import parse_chain

BASE = """
site M1 mine ID
site R1 refinery CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
""" + "\n".join(f"lot L{k} ORE @R1 2026-01-{k + 1:02d} 1000kg Ni=0.01" for k in range(14))
MORE = "\n".join(f"run R{k} refining @R1 2026-02-01..2026-02-02 in L{k}:400kg out O{k}:NSO:20kg:Ni=0.2"
                 for k in range(5))


def _signed(store: SqlStore, tmp_path: Path) -> tuple[str, Path]:
    assert ingest_events(parse_chain(BASE), store).ok
    priv, pub = generate_key(tmp_path)
    cp = make_checkpoint(store, priv)
    assert cp.payload.seq == store.head()[0] == 18
    return cp.token, pub


def test_honest_extension_passes(store: SqlStore, tmp_path: Path) -> None:
    token, pub = _signed(store, tmp_path)
    assert ingest_events(parse_chain(MORE, "more"), store).ok
    r = verify_against(store, token, pub)
    assert r.ok and r.extends_checkpoint and r.events_since == 5


def test_truncation_is_detected(store: SqlStore, tmp_path: Path) -> None:
    token, pub = _signed(store, tmp_path)
    with store.engine.begin() as conn:  # delete the last 10 events and their projection rows
        cut = store.head()[0] - 10
        conn.execute(sa.delete(s.lots).where(s.lots.c.event_seq > cut))
        conn.execute(sa.delete(s.events).where(s.events.c.seq > cut))
    assert verify_chain(store).ok  # what remains is a consistent, shorter chain
    r = verify_against(store, token, pub)
    assert not r.ok and r.signature_ok and "truncated" in r.reason


def test_rewrite_from_a_point_is_detected(store: SqlStore, tmp_path: Path) -> None:
    token, pub = _signed(store, tmp_path)
    with store.engine.begin() as conn:  # edit one payload and recompute every later hash of both chains
        rows = conn.execute(sa.select(s.events).order_by(s.events.c.seq)).all()
        prev = rec = GENESIS
        for r in rows:
            payload = r.payload.replace("1000", "1001") if r.seq == 10 else r.payload
            h = chain_hash(prev, r.event_id, r.kind, r.time, payload)
            rec = record_hash(rec, h, r.recorded_at, r.source)
            conn.execute(sa.update(s.events).where(s.events.c.seq == r.seq)
                         .values(payload=payload, prev_hash=prev, chain_hash=h, record_hash=rec))
            prev = h
    assert verify_chain(store).ok  # the rewritten chain is self-consistent
    r = verify_against(store, token, pub)
    assert not r.ok and r.signature_ok and "rewritten" in r.reason


def test_a_tampered_checkpoint_fails_its_signature(store: SqlStore, tmp_path: Path) -> None:
    token, pub = _signed(store, tmp_path)
    h, p, sig = token.split(".")
    import base64
    import json

    body = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    body["seq"] = 3
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    r = verify_against(store, f"{h}.{forged}.{sig}", pub)
    assert not r.ok and not r.signature_ok and "does not verify" in r.reason
