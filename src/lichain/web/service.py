"""What every route of the REST API shares: the open ledger, the caller, its rule, bodies, pages and ETags.

Why this exists: routes stay thin (parse, check, call a use case, present), so authentication, the access rule,
the per-lot scope check, bounded request bodies and conditional GETs are written once, here. An ETag names the
chain head the answer was computed at (with the caller and the request): while the ledger does not move, a
client's ``If-None-Match`` gets ``304 Not Modified`` without the use case running again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from lichain.core.errors import NotFoundError
from lichain.storage.access_sql import LotParties, authenticate, lot_parties
from lichain.storage.sql import SqlStore
from lichain.web.access import AccessKind, Level, Principal, allows, lot_level, principal_of
from lichain.web.problems import Refusal

__all__ = ["MAX_PAGE", "Service", "Settings", "body_of", "caller", "conditional", "guard", "lot_for", "rendered",
           "service"]

#: The largest page any list returns.
MAX_PAGE = 1000


@dataclass(frozen=True)
class Settings:
    """Limits and keys of one service: request body cap [bytes], the checkpoint signing key (PEM path), whether a
    worker warms its analysis caches before it serves, whether it writes documents in a writer process
    (:mod:`lichain.web.writer`) and how much lower that process's scheduling priority is than the worker's
    (its nice increment, 0..19)."""

    max_body_bytes: int = 16 * 1024 * 1024
    checkpoint_key: Path | None = None
    warm_up: bool = False  # load the snapshot and footprint before serving
    write_process: bool = False  # documents are checked and written in a process of the worker's own
    writer_nice: int = 10  # reads are answered first when the cores are busy; writes take what is left


@dataclass
class Service:
    """The ledger a service answers for, its settings, and per-process caches keyed by chain head."""

    store: SqlStore
    settings: Settings = field(default_factory=Settings)
    cache: dict[str, tuple[str, Any]] = field(default_factory=dict)
    writer: Any = None  # the worker's :class:`lichain.web.writer.Writer`, when documents are written apart

    def head(self) -> str:
        """The chain head hash now."""
        return self.store.head()[1]

    def memo(self, name: str, head: str, compute: Any) -> Any:
        """``compute()`` once per chain head (the last value of ``name`` is kept)."""
        got = self.cache.get(name)
        if got is not None and got[0] == head:
            return got[1]
        value = compute()
        self.cache[name] = (head, value)
        return value


def warm(svc: Service) -> None:
    """Bring this worker's snapshot and whole-ledger footprint to the chain head (from the shared cache folder when
    it is there, extended when the head moved since), answer one lot's trace and footprint (loading the compiled
    kernels and the edge weights), then settle the heap (:func:`lichain.core.gcpause.
    settle_heap`), so that neither a worker's first reads nor its collector's full passes wait for them."""
    from lichain.core.errors import LichainError
    from lichain.core.gcpause import settle_heap
    from lichain.services import footprint, snapshot

    try:
        if svc.store.head()[0]:
            footprint.ledger_footprint(svc.store)
            snapshot.make_room(svc.store)  # extensions then append in place
            footprint.make_room(svc.store)
            snap = snapshot.load_snapshot(svc.store).snapshot
            if snap.n_lots:  # one lot's answers load the compiled kernels a first read would otherwise wait for
                from lichain.services.trace import trace_lot

                last = snap.lot_id(snap.n_lots - 1)
                trace_lot(svc.store, last)
                footprint.lot_footprint(svc.store, last)
    except LichainError:  # reads compute what they need on demand, and report the problem themselves
        pass
    settle_heap(collect=True)


# The dependencies below are ``async``: FastAPI runs a plain ``def`` dependency on a thread of its pool, one hop
# per dependency per request, and under load each hop waited for the worker's interpreter lock behind other
# requests' work. They are cheap (the key check is one indexed read), so they run on the event loop.
async def service(request: Request) -> Service:
    """The app's service."""
    svc: Service = request.app.state.lichain
    return svc


async def caller(request: Request, svc: Service = Depends(service)) -> Principal:
    """The principal of the request: the user of its API key (``Authorization: Bearer`` or ``X-API-Key``), the
    public when it has none; a key that is malformed, unknown or revoked is refused with 401."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else request.headers.get("x-api-key", "").strip()
    if not token:
        return principal_of(None)
    user = authenticate(svc.store, token)
    if user is None:
        raise Refusal(401, "the API key is not valid (malformed, unknown or revoked)",
                      headers={"WWW-Authenticate": 'Bearer realm="lichain"'})
    return principal_of(user)


def guard(kind: AccessKind) -> Any:
    """A dependency enforcing the route rule ``kind`` and giving the route its principal."""

    async def check(p: Principal = Depends(caller)) -> Principal:
        if allows(kind, p):
            return p
        if p.role == "public":
            raise Refusal(401, "this route needs an API key", headers={"WWW-Authenticate": 'Bearer realm="lichain"'})
        raise Refusal(403, f"a {p.role} key may not use this route (rule: {kind})")

    check.__name__ = f"guard_{kind}"
    return Depends(check)


def lot_for(svc: Service, p: Principal, lot_id: str, need: Level = "full") -> LotParties:
    """The lot's parties when ``p`` may read it at level ``need``; a lot out of scope is not found (no hints)."""
    from lichain.services.query import canonical_lot_id

    parties = lot_parties(svc.store, (lot_id, canonical_lot_id(lot_id)))
    level = lot_level(p, parties)
    if parties is None or level is None:
        if p.whole_ledger:
            from lichain.services.lists import unknown_lot

            raise unknown_lot(svc.store, lot_id)
        raise NotFoundError(f"unknown lot {lot_id!r}")
    if need == "full" and level != "full":
        raise Refusal(403, f"lot {parties.id} was shipped to {p.receiver}: a receiver reads its own facts (lot, "
                           "footprint, recycled content, PCF), not its history")
    return parties


async def body_of(request: Request, svc: Service) -> bytes:
    """The request body, refused with 413 past the size limit (counted as it streams)."""
    limit = svc.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"the body is {int(declared):,} bytes; the limit is {limit:,}")
    parts, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise Refusal(413, f"the body is over the limit of {limit:,} bytes")
        parts.append(chunk)
    return b"".join(parts)


_RENDERED: dict[tuple[Any, ...], tuple[Any, bytes]] = {}


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def rendered(key: tuple[Any, ...], result: Any) -> Response:
    """``result`` (a frozen result object) as a JSON response, its bytes kept for ``key`` while the use case
    returns that very object again (use cases that cache their answers per chain head return the same one).

    The bytes are encoded from the dataclasses in C (``msgspec``, 5–8× faster than walking them into dicts and
    ``json.dumps``: 1.2 → 0.16 ms for a CAM lot's trace at 1 M lots); they parse to what
    :func:`lichain.entrypoints.present.jsonable` gives (tested on every result type this serves)."""
    got = _RENDERED.get(key)
    if got is None or got[0] is not result:
        body = _ENCODER.encode(result)
        if len(_RENDERED) > 4096:
            _RENDERED.clear()
        got = _RENDERED[key] = (result, body)
    return Response(content=got[1], media_type="application/json")


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or tag in tags


def conditional(request: Request, svc: Service, p: Principal, compute: Any) -> Response:
    """A JSON answer with an ETag keyed by chain head, caller and request; 304 when ``If-None-Match`` has it.

    ``compute()`` returns JSON-ready data or a :class:`Response` (sent as is, with the ETag added).
    """
    with svc.store.reading():  # one read transaction for the head and the answer
        head = svc.head()
        key = "|".join([head, p.role, p.user or "", ",".join(sorted(p.orgs)), request.url.path,
                        str(request.url.query)])
        tag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
        if _matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
        data = compute()
    if isinstance(data, Response):
        data.headers.update(headers)
        return data
    return JSONResponse(data, headers=headers)
