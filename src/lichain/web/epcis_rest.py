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

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from lichain.entrypoints.present import jsonable
from lichain.storage import access_sql as acc
from lichain.web.access import Principal
from lichain.web.documents import kind_of
from lichain.web.problems import Refusal
from lichain.web.routes_ledger import access
from lichain.web.service import MAX_PAGE, Service, body_of, conditional, guard, service
from lichain.web.writer import take

__all__ = ["router"]

router = APIRouter()


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
    o = await take(svc.writer, svc.store, p, data, "epcis", "capture.jsonld")
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


@router.get("/events", openapi_extra=access("ledger"))
def events(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service),
           eventType: Annotated[list[str] | None, Query()] = None,
           GE_eventTime: str | None = None, LT_eventTime: str | None = None,
           MATCH_epcClass: Annotated[list[str] | None, Query()] = None,
           EQ_bizStep: Annotated[list[str] | None, Query()] = None,
           perPage: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 30,
           nextPageToken: str | None = None) -> Response:
    """EPCIS 2.0 event query (SimpleEventQuery's common parameters), one page of an EPCISQueryDocument, by the
    ledger's query service (:func:`lichain.services.epcis_query.query_events`, also ``lichain events``): events
    kept verbatim come back as received; ``MATCH_epc``, ``MATCH_anyEPCClass`` and ``EQ_action`` are understood
    too."""
    from lichain.services.epcis_query import EventQuery, query_events

    q = EventQuery.from_params({k: request.query_params.getlist(k) for k in request.query_params})

    def compute() -> Response:
        page = query_events(svc.store, q)
        headers = {}
        if page.next_page_token is not None:
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
            headers["Link"] = (f'<{request.url.path}?{urlencode([*params, ("nextPageToken", page.next_page_token)])}>'
                               '; rel="next"')
        from datetime import UTC

        return JSONResponse(jsonable(page.document(datetime.now(UTC))), headers=headers,
                            media_type="application/ld+json")

    return conditional(request, svc, p, compute)
