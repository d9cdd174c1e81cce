"""``lichain events``: the ledger's EPCIS events, filtered with the EPCIS 2.0 query parameters, a page at a time.

Kept in its own module so the main CLI wires it in with one line; the use case is
:func:`lichain.services.epcis_query.query_events` (the same query the REST binding's ``GET /events`` answers),
this module only presents it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["events", "register"]

_Many = Annotated[list[str] | None, typer.Option(help="Repeat the option for several values (any of them).")]


def _summary(ev: dict[str, Any]) -> str:
    """What an event is about: its EPCs and classes, counted."""
    epcs = sum(len(ev.get(m) or []) for m in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"))
    classes = sum(len(ev.get(m) or []) for m in ("quantityList", "childQuantityList", "inputQuantityList",
                                                 "outputQuantityList"))  # fmt: skip
    parts = [f"{epcs} EPCs" if epcs else "", f"{classes} quantities" if classes else ""]
    if "errorDeclaration" in ev:
        parts.append("error declaration")
    return ", ".join(p for p in parts if p) or "-"


def events(
    db: Db = None, json_: Json = False,
    event_type: Annotated[list[str] | None, typer.Option("--event-type", help=(
        "Only events of this type: ObjectEvent, AggregationEvent, TransformationEvent, TransactionEvent, "
        "AssociationEvent (or lichain:CustodyClaim, lichain:SupplierPcf, lichain:SiteRisk); repeatable."))] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="TIME", help=(
        "Only events at or after this time (GE_eventTime), ISO 8601 with offset."))] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="TIME", help=(
        "Only events before this time (LT_eventTime), ISO 8601 with offset."))] = None,
    epc_class: Annotated[list[str] | None, typer.Option("--epc-class", help=(
        "Only events whose quantity lists name this lot or class (MATCH_anyEPCClass; a GTIN matches all its "
        "lots); repeatable."))] = None,
    epc: Annotated[list[str] | None, typer.Option("--epc", help=(
        "Only events whose epcList or childEPCs name this EPC (MATCH_epc); repeatable."))] = None,
    biz_step: Annotated[list[str] | None, typer.Option("--biz-step", help=(
        "Only events with this business step (EQ_bizStep), e.g. shipping; repeatable."))] = None,
    action: Annotated[list[str] | None, typer.Option("--action", help=(
        "Only events with this action (EQ_action): ADD, OBSERVE or DELETE; repeatable."))] = None,
    per_page: Annotated[int, typer.Option("--per-page", help="Events per page (perPage, 1 to 1,000).")] = 30,
    page_token: Annotated[str | None, typer.Option("--page-token", help=(
        "The next page of the same query (nextPageToken of the previous page)."))] = None,
) -> None:
    """List the ledger's EPCIS events in ledger order, filtered as an EPCIS 2.0 query; events that the lot graph
    does not model (kept verbatim) are listed too, as received.

    Example: lichain events --event-type ObjectEvent --biz-step shipping --json
    """
    from lichain.core.errors import ChoiceError
    from lichain.entrypoints.console import emit, fail, out, store_for
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.epcis_query import query_events

    params: dict[str, list[str]] = {}
    for name, values in (("eventType", event_type), ("MATCH_anyEPCClass", epc_class), ("MATCH_epc", epc),
                         ("EQ_bizStep", biz_step), ("EQ_action", action), ("GE_eventTime", [since] if since else None),
                         ("LT_eventTime", [until] if until else None), ("nextPageToken", [page_token] if page_token
                                                                         else None)):  # fmt: skip
        if values:
            params[name] = list(values)
    params["perPage"] = [str(per_page)]
    try:
        page = query_events(store_for(db), params)
    except ChoiceError as exc:
        fail(str(exc))
    if json_:
        emit(page)
        return
    rows = [[str(ev.get("eventTime", "")), str(ev.get("type", "")), str(ev.get("bizStep", "-")),
             str(ev.get("action", "-")), _summary(ev), str(ev.get("eventID", "-"))] for ev in page.events]  # fmt: skip
    print_table(out, [Col("event time"), Col("type"), Col("bizStep"), Col("action"), Col("about"), Col("eventID")],
                rows)
    if page.next_page_token:
        out.print(f"more: --page-token {page.next_page_token}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``events`` to ``app``."""
    app.command("events")(events)
