"""Fixtures of the REST API tests: the template's example chain served on SQLite and PostgreSQL, with one key
per role and organisation.

The template's chain has three organisations: Example Nickel (mine HPAL-ID-01, lots MHP-2024-0001/0002),
Example Materials (refinery REF-CN-01, the sulfate lots) and Example Cathode Korea (precursor plant PCAM-KR-01,
which received NISO4-2024-0001 and made nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lichain.storage import access_sql as acc
from lichain.storage.sql import SqlStore

NICKEL, MATERIALS, KOREA = "Example Nickel", "Example Materials", "Example Cathode Korea"
#: user id → (organisation, role, auditor grants)
USERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "owner": (MATERIALS, "owner", ()),
    "op_nickel": (NICKEL, "operator", ()),
    "op_materials": (MATERIALS, "operator", ()),
    "op_korea": (KOREA, "operator", ()),
    "aud_all": ("Example Audit", "auditor", ("*",)),
    "aud_nickel": ("Example Audit", "auditor", (NICKEL,)),
    "cust_korea": (KOREA, "customer", ()),
}


@dataclass
class Served:
    """A test client on a served ledger, the store behind it, and an ``Authorization`` header per user."""

    client: TestClient
    store: SqlStore
    keys: dict[str, dict[str, str]]
    template: Path

    def as_(self, user: str | None) -> dict[str, str]:
        """Headers of ``user`` (None: the public, no key)."""
        return {} if user is None else self.keys[user]


def serve_store(store: SqlStore, tmp_path: Path, *, max_body: int = 16 * 1024 * 1024,
                write_process: bool = False) -> Served:
    """The template chain ingested into ``store``, the users created, and the app on it."""
    from lichain.io.tabular import write_template
    from lichain.services.record import ingest_file
    from lichain.web.app import create_app
    from lichain.web.service import Settings

    template = tmp_path / "template.xlsx"
    write_template(template)
    assert ingest_file(store, template).ok
    keys = {}
    for user, (org, role, grants) in USERS.items():
        acc.add_user(store, user, org, role, grants)
        keys[user] = {"Authorization": f"Bearer {acc.new_key(store, user)[1]}"}
    app = create_app(store, Settings(max_body_bytes=max_body, write_process=write_process))
    return Served(TestClient(app), store, keys, template)


@pytest.fixture
def served(store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The served template chain on each backend."""
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    yield serve_store(store, tmp_path)


@pytest.fixture
def served_sqlite(sqlite_store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The served template chain on SQLite only (for tests not about the backend)."""
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    yield serve_store(sqlite_store, tmp_path)
