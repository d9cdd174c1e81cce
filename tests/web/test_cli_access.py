"""``lichain access``: users and keys managed from the command line; keys work against the API once, hashed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lichain.entrypoints.cli import app

runner = CliRunner()


def _json(args: list[str]) -> object:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_users_and_keys_from_the_cli(tmp_path: Path) -> None:
    """Add (key printed once), list (never the secret), authenticate, revoke: then the key is refused."""
    import sqlalchemy as sa

    from lichain.web.app import create_app

    db = str(tmp_path / "l.db")
    added = _json(["access", "users", "add", "ana", "--organisation", "Example Nickel", "--role", "operator",
                   "--db", db])
    assert isinstance(added, dict)
    token = added["api_key"]
    assert token.startswith("lck_") and added["user"]["role"] == "operator"
    secret = token.split("_", 2)[2]
    with sa.create_engine(f"sqlite:///{db}").connect() as c:
        stored = c.execute(sa.text("SELECT secret_sha256 FROM access_keys")).scalar_one()
        chain = c.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    assert stored == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored
    assert chain == 0  # configuration, not a ledger fact: the chain did not move
    listed = runner.invoke(app, ["access", "keys", "list", "--db", db])
    assert listed.exit_code == 0 and secret not in listed.output
    client = TestClient(create_app(db))
    assert client.get("/lots", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    key_id = token.split("_")[1]
    assert _json(["access", "keys", "revoke", key_id, "--db", db])["revoked_at"]  # type: ignore[index]
    assert client.get("/lots", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    second = _json(["access", "keys", "create", "ana", "--db", db])["api_key"]  # type: ignore[index]
    assert client.get("/lots", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    runner.invoke(app, ["access", "users", "revoke", "ana", "--db", db])
    assert client.get("/lots", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    users = _json(["access", "users", "list", "--db", db])
    assert isinstance(users, list) and users[0]["revoked_at"] and users[0]["keys"] == 0


def test_refusals_exit_1(tmp_path: Path) -> None:
    """An unknown role, a grant for a non-auditor and a duplicate id are refused with exit 1."""
    db = str(tmp_path / "l.db")
    base = ["access", "users", "add", "bo", "--organisation", "X", "--db", db]
    assert runner.invoke(app, [*base, "--role", "admin"]).exit_code == 1
    assert runner.invoke(app, [*base, "--role", "operator", "--grant", "*"]).exit_code == 1
    assert runner.invoke(app, [*base, "--role", "auditor", "--grant", "*"]).exit_code == 0
    assert runner.invoke(app, [*base, "--role", "auditor"]).exit_code == 1
