"""Key management: keys recorded in the ledger, rotated and revoked; JWKS with lifecycle; checkpoints respect it."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lichain.core.errors import LichainError
from lichain.core.keys import thumbprint
from lichain.core.model import KeyStatement
from lichain.io.signing import load_keyset, load_private_key
from lichain.services.checkpoint import make_checkpoint, verify_against
from lichain.services.exchange import stored_events
from lichain.services.ingest import ingest_events
from lichain.services.keys import generate, key_registry, ledger_jwks, list_keys, revoke, rotate
from lichain.storage.sql import SqlStore
from tests.support.chain_text import parse_chain

T0 = datetime(2027, 1, 1, tzinfo=UTC)
BASE = "site M1 mine ID Acme\nsite R1 refinery CN Acme\nmaterial ORE ore\nlot L1 ORE @M1 2026-01-01 1000kg Ni=0.01"


def _ledger(store: SqlStore) -> SqlStore:
    assert ingest_events(parse_chain(BASE), store).ok
    return store


def test_generate_records_the_key_and_keeps_the_private_key_private(store: SqlStore, tmp_path: Path) -> None:
    ch = generate(_ledger(store), tmp_path, organisation="Acme", now=T0)
    assert ch.recorded and ch.events_written == 1
    assert stat.S_IMODE(Path(ch.private_key or "").stat().st_mode) == 0o600
    key = load_private_key(Path(ch.private_key or ""))
    assert ch.kid == key.kid == thumbprint(ch.jwk["x"] if ch.jwk else "")
    (info,) = list_keys(store).keys
    assert (info.kid, info.organisation, info.status, info.active_from) == (key.kid, "Acme", "active",
                                                                           "2027-01-01T00:00:00Z")
    # the statement is a hash-chained event, and no private material is in it
    (body,) = [e.body for e in stored_events(store) if isinstance(e.body, KeyStatement)]
    assert isinstance(body, KeyStatement) and body.kid == key.kid and "PRIVATE" not in json.dumps(str(body))


def test_unknown_organisation_is_refused_and_nothing_is_written(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(LichainError, match=r"unknown organisation .Acmee.*Acme"):
        generate(_ledger(store), tmp_path, organisation="Acmee", now=T0)
    assert list_keys(store).keys == () and not list(tmp_path.glob("*.pem"))


def test_rotation_retires_the_old_key_and_revocation_is_final(store: SqlStore, tmp_path: Path) -> None:
    old = generate(_ledger(store), tmp_path, organisation="Acme", now=T0)
    t1 = T0 + timedelta(days=30)
    new = rotate(store, Path(old.private_key or ""), tmp_path, "second", now=t1)
    assert new.retired == old.kid and new.kid != old.kid
    reg = key_registry(store)
    assert (reg[old.kid].status, reg[old.kid].retired_at, reg[old.kid].successor) == ("retired", t1, new.kid)
    with pytest.raises(LichainError, match="only an active key is rotated"):
        rotate(store, Path(old.private_key or ""), tmp_path, "third", now=t1 + timedelta(days=1))
    assert not (tmp_path / "third.key.pem").exists()  # a refused rotation leaves no key file behind
    t2 = t1 + timedelta(days=10)
    revoke(store, new.kid, "compromised", at=t2)
    with pytest.raises(LichainError, match="already revoked"):
        revoke(store, str(tmp_path / "second.pub.pem"), "compromised", at=t2)
    jw = {k["kid"]: k for k in ledger_jwks(store)["keys"]}
    assert jw[old.kid]["exp"] == int(t1.timestamp()) and "revoked" not in jw[old.kid]
    assert jw[new.kid]["revoked"] == {"revoked_at": int(t2.timestamp()), "reason": "compromised"}
    assert jw[new.kid]["iat"] == int(t1.timestamp())


def test_a_forged_key_statement_is_refused_at_its_field(store: SqlStore, tmp_path: Path) -> None:
    ch = generate(_ledger(store), tmp_path, organisation="Acme", now=T0)
    from lichain.core.model import Event, EventKind
    from lichain.core.validate import LocatedEvent

    x = (ch.jwk or {})["x"]
    bad = KeyStatement("not-the-thumbprint", "Acme", x, "active", T0)
    r = ingest_events([LocatedEvent("doc#/0", Event("urn:uuid:1", EventKind.SIGNING_KEY, T0, bad))], store)
    assert not r.ok and r.problems[0].location == "doc#/0/kid"


def test_checkpoints_respect_rotation_and_revocation(store: SqlStore, tmp_path: Path) -> None:
    old = generate(_ledger(store), tmp_path, organisation="Acme", now=T0)
    before = make_checkpoint(store, Path(old.private_key or ""), now=T0 + timedelta(days=1))
    t1 = T0 + timedelta(days=30)
    new = rotate(store, Path(old.private_key or ""), tmp_path, "second", now=t1)
    with pytest.raises(LichainError, match="retired"):
        make_checkpoint(store, Path(old.private_key or ""), now=t1 + timedelta(days=1))
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(ledger_jwks(store)))
    assert verify_against(store, before.token, jwks_file).ok  # signed before the rotation: still what it was
    after = make_checkpoint(store, Path(new.private_key or ""), now=t1 + timedelta(days=2))
    assert verify_against(store, after.token, jwks_file).ok
    revoke(store, new.kid, "compromised", at=t1 + timedelta(days=1))  # compromise found late: back-dated
    jwks_file.write_text(json.dumps(ledger_jwks(store)))
    r = verify_against(store, after.token, jwks_file)
    assert not r.ok and "revoked" in (r.reason or "")
    # the JWKS alone (a verifier without the ledger's key history) carries the revocation too
    states = load_keyset(jwks_file).states
    assert states[new.kid].revoked_at == t1 + timedelta(days=1)


def test_key_history_travels_with_the_ledger_export(store: SqlStore, tmp_path: Path) -> None:
    import io

    from lichain.services.exchange import export_epcis
    from lichain.services.record import ingest_file
    from lichain.storage.sql import open_store

    old = generate(_ledger(store), tmp_path, organisation="Acme", now=T0)
    rotate(store, Path(old.private_key or ""), tmp_path, "second", now=T0 + timedelta(days=3))
    buf = io.StringIO()
    export_epcis(store, buf)
    doc = tmp_path / "ledger.jsonld"
    doc.write_text(buf.getvalue())
    assert '"lichain:SigningKey"' in buf.getvalue()
    copy = open_store(f"sqlite:///{tmp_path / 'copy.db'}", create=True)
    assert ingest_file(copy, doc).ok
    assert key_registry(copy) == key_registry(store) and copy.head() == store.head()
