"""Database URLs as they may be shown: the password never leaves the process in a message, JSON or report.

A ``--db`` URL may carry a password (``postgresql+psycopg://user:secret@host/db`` or ``?password=secret``).
Every message, JSON output and report that names the database goes through :func:`redact_url`, and error
texts that might quote the URL (driver messages) through :func:`scrub`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy.engine import make_url

__all__ = ["MASK", "redact_url", "scrub"]

MASK = "***"
_SECRET_KEYS = ("password", "passwd", "sslpassword")
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*):(?P<pw>[^@/?#]*)@")
_QUERY = re.compile(r"(?P<key>(?:^|[?&;\s])(?:" + "|".join(_SECRET_KEYS) + r")=)(?P<pw>[^&;\s]*)", re.I)


def redact_url(url: str) -> str:
    """``url`` with its password (userinfo or query parameter) replaced by ``***``; other parts unchanged."""
    try:
        u = make_url(url)
        shown = u.render_as_string(hide_password=True)
        if any(k in u.query for k in _SECRET_KEYS):
            shown = u.update_query_dict({k: MASK for k in _SECRET_KEYS if k in u.query}).render_as_string(
                hide_password=True)
    except Exception:  # not parseable (bad port, unknown form): mask by pattern
        shown = url
    shown = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", shown)
    return _QUERY.sub(lambda m: f"{m['key']}{MASK}", shown)


def _secrets(url: str) -> set[str]:
    found = {m["pw"] for m in _USERINFO.finditer(url)} | {m["pw"] for m in _QUERY.finditer(url)}
    try:
        u = make_url(url)
        found |= {u.password or ""} | {str(u.query.get(k) or "") for k in _SECRET_KEYS}
    except Exception:  # the patterns above found what there is
        pass
    found |= {unquote(s) for s in found}
    return {s for s in found if s and s != MASK}


def scrub(text: str, url: str) -> str:
    """``text`` (e.g. a driver's error message) with ``url`` redacted and any password in it masked."""
    text = text.replace(url, redact_url(url))
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
