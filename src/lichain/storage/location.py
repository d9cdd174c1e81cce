"""Where the ledger is and which schema it must have: the URL rule and the newest schema revision.

Kept apart from :mod:`lichain.storage.sql` so that the read path of ``lichain show`` on SQLite
(:mod:`lichain.storage.sqlite_read`) finds and checks the ledger without importing SQLAlchemy.
"""

from __future__ import annotations

import os

__all__ = ["DEFAULT_URL", "SCHEMA_REVISION", "resolve_url"]

DEFAULT_URL = "sqlite:///lichain.db"
#: The newest Alembic revision (a test checks it against the migration scripts).
SCHEMA_REVISION = "0012"


def resolve_url(url: str | None = None) -> str:
    """``--db`` value, else ``LICHAIN_DB``, else ``./lichain.db``; a bare path means a SQLite file."""
    url = url or os.environ.get("LICHAIN_DB") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url
