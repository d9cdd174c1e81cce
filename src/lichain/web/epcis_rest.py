"""The EPCIS 2.0 REST binding: capture jobs (``POST /capture``) and the event query (``GET /events``).

Why this exists: an ordinary EPCIS client talks to an EPCIS repository through GS1's REST binding (EPCIS 2.0
§12); lichain answers it with what it already has. Capture takes a document exactly as ``POST /ingest`` does
(all or nothing, located problems, ``captureErrorBehaviour`` rollback) and answers ``202 Accepted`` with the
job's ``Location``; the job is kept (table ``capture_jobs``) so any worker answers ``GET /capture/{id}``.
``GET /events`` filters the events of the ledger's EPCIS export (the writer ``lichain export epcis`` uses, so
events come back in the standard's shapes) by the common query parameters, a page at a time
(``perPage``, ``nextPageToken``, and a ``Link: <…>; rel="next"`` header).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from lichain.entrypoints.present import jsonable
from lichain.storage import access_sql as acc
from lichain.web.access import Principal
from lichain.web.documents import kind_of, take_document
from lichain.web.problems import Refusal
from lichain.web.routes_exports import epcis_document
from lichain.web.routes_ledger import access
from lichain.web.service import MAX_PAGE, Service, body_of, conditional, guard, service

__all__ = ["QUERY_PARAMETERS", "match_events", "router"]

router = APIRouter()
#: The query parameters ``GET /events`` understands (any other is refused, as EPCIS's QueryParameterException).
QUERY_PARAMETERS = ("eventType", "GE_eventTime", "LT_eventTime", "MATCH_epcClass", "EQ_bizStep", "perPage",
                    "nextPageToken")
_QUANTITY_LISTS = ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList")


def _job_view(j: acc.JobRow) -> dict[str, Any]:
    result = json.loads(j.result) if j.result else None
    return {"captureID": j.id, "createdAt": j.created_at, "finishedAt": j.finished_at,
            "running": j.status == "running", "success": j.status == "succeeded",
            "captureErrorBehaviour": "rollback",
            "errors": [] if result is None else result["problems"], "result": result}


@router.post("/capture", status_code=202, openapi_extra=access("write"),
             responses={202: {"description": "capture job created; see Location"}})
async def capture(request: Request, p: Principal = guard("write"), svc: Service = Depends(service)) -> Response:
    """Capture an EPCIS 2.0 document (all or nothing); follow ``Location`` for the job's outcome (a document the
    ledger's rules refuse is a failed job with located ``errors``; one holding another organisation's records
    is refused with 403)."""
    if kind_of(request.headers.get("content-type", ""), None) != "epcis":
        raise Refusal(415, "send an EPCIS 2.0 document as application/ld+json or application/json")
    data = await body_of(request, svc)
    from starlette.concurrency import run_in_threadpool

    o = await run_in_threadpool(take_document, svc, p, data, "epcis", "capture.jsonld")
    if o.status == 403:  # not the caller's to record: refused outright, as any route refuses a caller
        raise Refusal(403, "the document holds records of another organisation; nothing was written",
                      o.result.problems)
    job = acc.get_job(svc.store, o.job or "")
    if job is None:
        raise Refusal(500, "the capture job was not recorded")
    return JSONResponse(_job_view(job), status_code=202, headers={"Location": f"/capture/{job.id}"})


@router.get("/capture/{capture_id}", openapi_extra=access("read"))
def capture_job(capture_id: str, p: Principal = guard("read"), svc: Service = Depends(service)) -> Any:
    """A capture job: running, succeeded or failed, with the located problems (``errors``)."""
    j = acc.get_job(svc.store, capture_id)
    if j is None or not (p.whole_ledger or j.organisation == p.organisation):
        raise Refusal(404, f"unknown capture job {capture_id!r}")
    return _job_view(j)


def _time(text: str, name: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refusal(400, f"{name}={text!r}: expected an ISO 8601 time with offset") from None
    if t.tzinfo is None:
        raise Refusal(400, f"{name}={text!r}: the time needs a UTC offset")
    return t


def _epc_match(pattern: str, value: str) -> bool:
    return value.startswith(pattern[:-1]) if pattern.endswith("*") else value == pattern


def match_events(events: list[dict[str, Any]], *, event_types: list[str], ge: datetime | None,
                 lt: datetime | None, epc_classes: list[str], biz_steps: list[str]) -> list[dict[str, Any]]:
    """The events that pass every given filter (a list parameter matches any of its values)."""
    steps = {s if ":" in s else f"https://ref.gs1.org/cbv/BizStep-{s}" for s in biz_steps}
    out = []
    for ev in events:
        if event_types and ev.get("type") not in event_types:
            continue
        if ge is not None or lt is not None:
            t = datetime.fromisoformat(str(ev.get("eventTime", "")).replace("Z", "+00:00"))
            if (ge is not None and t < ge) or (lt is not None and t >= lt):
                continue
        if steps:
            step = str(ev.get("bizStep", ""))
            full = step if ":" in step else f"https://ref.gs1.org/cbv/BizStep-{step}"
            if full not in steps:
                continue
        if epc_classes:
            classes = [str(q.get("epcClass", "")) for lst in _QUANTITY_LISTS for q in ev.get(lst, []) or []]
            if not any(_epc_match(pat, c) for pat in epc_classes for c in classes):
                continue
        out.append(ev)
    return out


def _values(raw: list[str] | None) -> list[str]:
    return [v.strip() for x in raw or [] for v in x.split("|") if v.strip()]


@router.get("/events", openapi_extra=access("ledger"))
def events(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service),
           eventType: Annotated[list[str] | None, Query()] = None,
           GE_eventTime: str | None = None, LT_eventTime: str | None = None,
           MATCH_epcClass: Annotated[list[str] | None, Query()] = None,
           EQ_bizStep: Annotated[list[str] | None, Query()] = None,
           perPage: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 30,
           nextPageToken: str | None = None) -> Response:
    """EPCIS 2.0 event query (SimpleEventQuery's common parameters), one page of an EPCISQueryDocument."""
    unknown = sorted(set(request.query_params) - set(QUERY_PARAMETERS))
    if unknown:
        raise Refusal(400, f"unknown query parameter {unknown[0]!r}: lichain understands "
                           + ", ".join(QUERY_PARAMETERS))
    ge = None if GE_eventTime is None else _time(GE_eventTime, "GE_eventTime")
    lt = None if LT_eventTime is None else _time(LT_eventTime, "LT_eventTime")
    start = 0
    if nextPageToken is not None:
        try:
            start = int(json.loads(base64.urlsafe_b64decode(nextPageToken.encode() + b"==="))["o"])
        except (ValueError, KeyError, TypeError):
            raise Refusal(400, "nextPageToken is not one this service issued") from None

    def compute() -> Response:
        head = svc.head()
        doc = svc.memo("epcis-parsed", head, lambda: json.loads(epcis_document(svc, head)))
        hits = match_events(doc["epcisBody"]["eventList"], event_types=_values(eventType), ge=ge, lt=lt,
                            epc_classes=_values(MATCH_epcClass), biz_steps=_values(EQ_bizStep))
        page = hits[start:start + perPage]
        body = {"@context": doc.get("@context"), "type": "EPCISQueryDocument", "schemaVersion": "2.0",
                "creationDate": doc.get("creationDate"),
                "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                               "resultsBody": {"eventList": page}}}}
        headers = {}
        if start + perPage < len(hits):
            token = base64.urlsafe_b64encode(json.dumps({"o": start + perPage}).encode()).decode().rstrip("=")
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
            headers["Link"] = f'<{request.url.path}?{urlencode([*params, ("nextPageToken", token)])}>; rel="next"'
        return JSONResponse(jsonable(body), headers=headers, media_type="application/ld+json")

    return conditional(request, svc, p, compute)
