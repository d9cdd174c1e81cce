"""Regenerate tests/data/bad_input/: hostile and broken documents, each with the location and reason of its refusal.

Run: .venv/bin/python -m tests.data.bad_input.make_corpus  (the files and manifest.json are committed; the tests
only read them). Every document breaks one thing on top of a valid base: EPCIS documents are checked against a
ledger holding tests/data/bad/ledger/base.jsonld; workbooks (XLSX) and CSV folders are the template's own valid
example chain with one change. ``location`` is what follows the document's path in the problem's location
(``#/json/pointer``, ``:line:column``, ``#sheet!cell``, or ``/file.csv:row:column`` inside a CSV folder); ``reason``
is a phrase the problem's message must contain.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent
BASE = json.loads((OUT.parent / "bad" / "ledger" / "base.jsonld").read_text(encoding="utf-8"))
GTIN = "https://id.gs1.org/01/09521234000013/10/"
EV = "#/epcisBody/eventList/0"
MD = "#/epcisHeader/epcisMasterData/vocabularyList"
manifest: list[dict[str, str]] = []


def _add(name: str, kind: str, location: str, reason: str) -> None:
    manifest.append({"document": name, "kind": kind, "location": location, "reason": reason})


def _lot(**ilmd: Any) -> dict[str, Any]:
    ev = copy.deepcopy(BASE["epcisBody"]["eventList"][0])
    ev.pop("eventID")
    ev["quantityList"][0]["epcClass"] = GTIN + "NEW1"
    ev["ilmd"].update(ilmd)
    return ev


def _doc(*events: dict[str, Any], header: bool = False) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d["epcisBody"]["eventList"] = list(events)
    if not header:
        d.pop("epcisHeader")
    return d


def epcis(name: str, doc: Any, location: str, reason: str, *, raw: bytes | None = None) -> None:
    path = OUT / "epcis" / f"{name}.jsonld"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw if raw is not None else json.dumps(doc, indent=1).encode("utf-8", "surrogatepass"))
    _add(f"epcis/{name}.jsonld", "epcis", location, reason)


def _with_event(d: dict[str, Any], **members: Any) -> dict[str, Any]:
    """The document with its first event's members replaced (values of the wrong JSON type)."""
    d = copy.deepcopy(d)
    d["epcisBody"]["eventList"][0].update(members)
    return d


def _site(**attrs: str) -> dict[str, Any]:
    d = _doc(header=True)
    vl = d["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    d["epcisHeader"]["epcisMasterData"]["vocabularyList"] = [vl[0]]
    el = copy.deepcopy(vl[0]["vocabularyElementList"][0])
    el["id"] = attrs.pop("id", "urn:epc:id:sgln:9521234.00009.0")
    el["attributes"] = [a for a in el["attributes"] if a["id"] not in ("lichain:eventID", "lichain:eventTime")]
    keys = {"name": "urn:epcglobal:cbv:mda#name", "country": "urn:epcglobal:cbv:mda#countryCode",
            "kind": "lichain:kind", "organisation": "lichain:organisation"}
    for k, v in attrs.items():
        for a in el["attributes"]:
            if a["id"] == keys[k]:
                a["attribute"] = v
    vl[0]["vocabularyElementList"] = [el]
    return d


def _material(**attrs: str) -> dict[str, Any]:
    d = _doc(header=True)
    vl = d["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    d["epcisHeader"]["epcisMasterData"]["vocabularyList"] = [vl[1]]
    el = copy.deepcopy(vl[1]["vocabularyElementList"][1])
    el["id"] = "https://lichain.dev/id/material/" + attrs.pop("code", "NEWMAT")
    el["attributes"] = [a for a in el["attributes"] if a["id"] not in ("lichain:eventID", "lichain:eventTime")]
    for k, v in attrs.items():
        for a in el["attributes"]:
            if a["id"] == f"lichain:{k}":
                a["attribute"] = v
    vl[1]["vocabularyElementList"] = [el]
    return d


def make_epcis() -> None:
    q = f"{EV}/quantityList/0/quantity"
    for i, (value, reason) in enumerate([
        (1e22, "exceeds the largest mass"), (9.3e12, "exceeds the largest mass"), ("1e99999", "must be a JSON number"),
        (-5, "must be > 0"), (0, "must be > 0"), ("abc", "must be a JSON number"), (1e-9, "below the 1 mg resolution"),
        (9223372036855, "exceeds the largest mass"), (1e-30, "below the 1 mg resolution"), (1e300, "exceeds the"),
    ]):
        ev = _lot(**{"lichain:massKg": str(value)})
        ev["quantityList"][0]["quantity"] = value
        epcis(f"mass-{i}", _doc(ev), q, reason)
    for sym in ("Qq", "Xy", "Ab", "Zz", "Uu", "Jj", "Ee", "Jq", "Qa", "Xx", "Yy", "Aa", "Bx", "Mm"):
        epcis(f"element-{sym}", _doc(_lot(**{"lichain:assay": {sym: "0.1"}})), f"{EV}/ilmd/lichain:assay/{sym}",
              "is not an element symbol")
    for i, f in enumerate(["1.5", "-0.1", "abc", "1e5", "NaN", "2", "-1e-9", "1.0000001"]):
        epcis(f"fraction-{i}", _doc(_lot(**{"lichain:assay": {"Ni": f}})), f"{EV}/ilmd/lichain:assay/Ni",
              "")
    epcis("fractions-over-one", _doc(_lot(**{"lichain:assay": {"Ni": "0.7", "Co": "0.6"}})), EV, "sum to 1.3")
    for year in ("2099", "9999", "2030", "2050", "2100", "3000"):
        ev = _lot(**{"lichain:producedAt": f"{year}-01-01T00:00:00Z"})
        ev["eventTime"] = f"{year}-01-01T00:00:00Z"
        epcis(f"future-{year}", _doc(ev), EV, "is in the future")
    for year in ("1800", "1066", "1899", "0001"):
        ev = _lot(**{"lichain:producedAt": f"{year}-01-01T00:00:00Z"})
        ev["eventTime"] = f"{year}-01-01T00:00:00Z"
        epcis(f"ancient-{year}", _doc(ev), EV, "is before 1900")
    for i, t in enumerate(["not a date", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z"]):
        ev = _lot()
        ev["eventTime"] = t
        epcis(f"bad-time-{i}", _doc(ev), f"{EV}/eventTime", "")
    cls = f"{EV}/quantityList/0/epcClass"
    for name, lot_id, loc, reason in [
        ("nul", "lot\u0000nul", cls, "not a URI"),
        ("long-id", "urn:x:" + "L" * 10_000, cls, "the limit is 300"),
        ("gs1-1m", GTIN + "A" * 1_000_000, cls, "the limit is 300"),
        ("gs1-21", GTIN + "A" * 21, cls, "GS1 allows 1 to 20"),
        ("gs1-cset", GTIN + "LOT%7E1", cls, "outside GS1 character set 82"),
        ("gs1-hash", GTIN + "LOT%231", cls, "outside GS1 character set 82"),
        ("bell", "urn:x:lot\u0007", cls, "control character U+0007"),
        ("tab", "urn:x:lot\tA", cls, "is not a URI"),
        ("soh", "urn:x:lot\u0001", cls, "control character U+0001"),
        ("us", "urn:x:lo\u001ft", cls, "is not a URI"),
        ("nel", "urn:x:lo\u0085t", cls, "is not a URI"),
        ("c1-csi", "urn:x:lot\u009b", cls, "control character U+009B"),
        ("gs1-at", GTIN + "LOT%401", cls, "outside GS1 character set 82"),
        ("gs1-dollar", GTIN + "LOT%241", cls, "outside GS1 character set 82"),
        ("gs1-caret", GTIN + "LOT%5E1", cls, "outside GS1 character set 82"),
        ("gs1-pipe", GTIN + "LOT%7C1", cls, "outside GS1 character set 82"),
        ("surrogate", "urn:x:lot\ud800", EV, "lone surrogate"),
        ("del", "urn:x:lot\u007f", cls, "control character U+007F"),
        ("right-to-left-override", "urn:x:lot\u202e1gpj", cls,
         "invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("zero-width-space", "urn:x:lot\u200b1", cls, "invisible format character U+200B"),
        ("byte-order-mark", "urn:x:\ufefflot1", cls, "invisible format character U+FEFF"),
    ]:
        ev = _lot()
        ev["quantityList"][0]["epcClass"] = lot_id
        epcis(f"lot-id-{name}", _doc(ev), loc, reason)
    site_md = f"{MD}/0/vocabularyElementList/0"
    for name, attrs, reason in [
        ("surrogate-name", {"name": "Mine \udc00"}, "lone surrogate"),
        ("nul-name", {"name": "Mine\u0000"}, "control character U+0000"),
        ("long-name", {"name": "N" * 5000}, "the limit is 300"),
        ("huge-name", {"name": "N" * 200_000}, "the limit is 300"),
        ("bad-country", {"country": "XX1"}, "ISO 3166-1 alpha-2"),
        ("bad-kind", {"kind": "palace"}, "kind must be one of"),
        ("nul-organisation", {"organisation": "Org\u0000"}, "control character U+0000"),
        ("long-organisation", {"organisation": "O" * 400}, "the limit is 300"),
        ("long-id", {"id": "urn:x:" + "S" * 300}, "the limit is 200"),
        ("escape-organisation", {"organisation": "Org\u001b[31m"}, "control character U+001B"),
    ]:
        epcis(f"site-{name}", _site(**attrs), site_md, reason)
    mat_md = f"{MD}/0/vocabularyElementList/0"
    for name, attrs, reason in [
        ("bad-stage", {"stage": "gas"}, "stage must be one of"),
        ("bad-formula", {"formula": "Qx2"}, "Qx"),
        ("long-code", {"code": "M" * 150}, "the limit is 100"),
        ("nul-name", {"name": "salt\u0000"}, "control character U+0000"),
        ("long-formula", {"formula": "Ni" * 150}, "the limit is 200"),
    ]:
        epcis(f"material-{name}", _material(**attrs), mat_md, reason)
    # JSON itself
    ok = json.dumps(_doc(_lot())).encode()
    for name, raw, loc, reason in [
        ("syntax-trailing-comma", b'{"type": "EPCISDocument",}', ":1:26", "invalid JSON"),
        ("syntax-unclosed", b'{"type": "EPCISDocument"', ":1:25", "invalid JSON"),
        ("syntax-single-quotes", b"{'type': 'EPCISDocument'}", ":1:2", "invalid JSON"),
        ("nan", ok.replace(b'"quantity": 1000', b'"quantity": NaN'), ":1:", "NaN is not a JSON number"),
        ("infinity", ok.replace(b'"quantity": 1000', b'"quantity": Infinity'), ":1:", "Infinity is not a JSON"),
        ("minus-infinity", ok.replace(b'"quantity": 1000', b'"quantity": -Infinity'), ":1:",
         "-Infinity is not a JSON"),
        ("long-integer", ok.replace(b'"quantity": 1000', b'"quantity": ' + b"1" * 5000), ":1:",
         "integer of 5,000 digits"),
        ("deep-nesting", b"[" * 5000 + b"]" * 5000, ":1:65", "nested deeper than 64"),
        ("nesting-100", b'{"a":' * 100 + b"1" + b"}" * 100, ":1:", "nested deeper than 64"),
        ("empty", b"", ":1:1", "invalid JSON"),
        ("latin1", ok.replace(b'"ORE"', '"ÖRE"'.encode("latin-1")), "", "not UTF-8"),
        ("byte-ff", b"\xff" + ok, "", "not UTF-8"),
        ("garbage-after", ok + b" {}", ":1:", "invalid JSON"),
        ("missing-colon", b'{"type" "EPCISDocument"}', ":1:9", "invalid JSON"),
        ("extra-bracket", b'{"type": "EPCISDocument"}}', ":1:26", "invalid JSON"),
        ("raw-newline-in-string", b'{"type": "EPCIS\nDocument"}', ":1:16", "invalid JSON"),
        ("unquoted-key", b"{type: 1}", ":1:2", "invalid JSON"),
        ("comment", b'// EPCIS\n{"type": "EPCISDocument"}', ":1:1", "invalid JSON"),
        ("leading-zero", b'{"a": 01}', ":1:8", "invalid JSON"),
        ("hex-number", b'{"a": 0x10}', ":1:8", "invalid JSON"),
        ("bare-number", b"1", "#", "expected a JSON object"),
    ]:
        epcis(f"json-{name}", None, loc, reason, raw=raw)
    for name, change, loc, reason in [
        ("not-an-object", lambda d: [d], "#", "expected a JSON object"),
        ("null", lambda d: None, "#", "expected a JSON object"),
        ("wrong-type", lambda d: {**d, "type": "Document"}, "#/type", "not an EPCIS 2.0 document"),
        ("schema-1-2", lambda d: {**d, "schemaVersion": "1.2"}, "#/schemaVersion", "EPCIS 2.x"),
        ("no-context", lambda d: {k: v for k, v in d.items() if k != "@context"}, "#/@context", "missing @context"),
        ("no-body", lambda d: {k: v for k, v in d.items() if k != "epcisBody"}, "#/epcisBody", "missing epcisBody"),
        ("eventlist-object", lambda d: {**d, "epcisBody": {"eventList": {}}}, "#/epcisBody/eventList",
         "missing event list"),
        ("event-not-object", lambda d: {**d, "epcisBody": {"eventList": [7]}}, EV, "must be a JSON object"),
        ("event-type-array", lambda d: _with_event(d, type=["ObjectEvent"]), f"{EV}/type",
         "the event type must be a string, got an array"),
        ("event-type-object", lambda d: _with_event(d, type={"a": 1}), f"{EV}/type",
         "the event type must be a string, got an object"),
        ("quantity-list-number", lambda d: _with_event(d, quantityList=7), f"{EV}/quantityList",
         "quantityList must be a list"),
        ("quantity-list-object", lambda d: _with_event(d, quantityList={"epcClass": "x"}),
         f"{EV}/quantityList", "quantityList must be a list"),
        ("creation-date", lambda d: {**d, "creationDate": "yesterday"}, "#/creationDate", ""),
    ]:
        epcis(f"doc-{name}", change(_doc(_lot())), loc, reason)
    for name, mutate, loc, reason in [
        ("no-uom", lambda e: e["quantityList"][0].pop("uom"), f"{EV}/quantityList/0", ""),
        ("litres", lambda e: e["quantityList"][0].update(uom="LTR"), f"{EV}/quantityList/0/uom", "mass unit"),
        ("aggregation", lambda e: e.update(type="AggregationEvent"), f"{EV}/type", "not supported"),
        ("unknown-type", lambda e: e.update(type="FooEvent"), f"{EV}/type", "unknown event type"),
        ("bad-bizstep", lambda e: e.update(bizStep="teleporting"), f"{EV}/bizStep", ""),
        ("bad-tz", lambda e: e.update(eventTimeZoneOffset="+25:00"), f"{EV}/eventTimeZoneOffset", ""),
        ("unknown-material", lambda e: e["ilmd"].update({"lichain:material": "UNOBTAINIUM"}), EV,
         "unknown material"),
        ("unknown-site", lambda e: e.update(readPoint={"id": "urn:epc:id:sgln:9521234.00077.0"},
                                            bizLocation={"id": "urn:epc:id:sgln:9521234.00077.0"}), EV,
         "unknown site"),
        ("existing-lot", lambda e: e["quantityList"][0].update(epcClass=GTIN + "ORE1"), EV, "already exists"),
        ("bad-origin", lambda e: e["ilmd"].update({"lichain:origin": "recycled-ish"}), EV, "origin must be one of"),
        ("long-assay-method", lambda e: e["ilmd"].update({"lichain:assayMethod": "m" * 400}),
         f"{EV}/ilmd/lichain:assayMethod", "the limit is 300"),
        ("nul-assay-lab", lambda e: e["ilmd"].update({"lichain:assayLab": "lab\u0000"}), f"{EV}/ilmd/lichain:assayLab",
         "control character U+0000"),
    ]:
        ev = _lot()
        mutate(ev)
        epcis(f"event-{name}", _doc(ev), loc, reason)


# --- tabular ----------------------------------------------------------------------------------------------------
def _template_rows() -> dict[str, list[list[Any]]]:
    import tempfile

    from openpyxl import load_workbook

    from lichain.io.tabular_write import write_template

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.xlsx"
        write_template(p)
        wb = load_workbook(p)
        return {ws.title: [[c.value for c in r] for r in ws.iter_rows()] for ws in wb.worksheets
                if ws.title != "README"}


def _col(rows: list[list[Any]], name: str) -> int:
    return rows[0].index(name)


def _write_csv(folder: Path, tables: dict[str, list[list[Any]]], encoding: str = "utf-8") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", encoding=encoding, newline="", errors="surrogatepass") as fp:
            csv.writer(fp).writerows([["" if v is None else v for v in r] for r in rows])


def _set(tables: dict[str, list[list[Any]]], sheet: str, row: int, col: str, value: Any) -> None:
    tables[sheet][row - 1][_col(tables[sheet], col)] = value


def make_csv() -> None:
    base = _template_rows()
    cases: list[tuple[str, Any, str, str]] = [
        ("mass-huge", ("lots", 2, "mass", "1e22"), "/lots.csv:2:mass", "exceeds the largest mass"),
        ("mass-text", ("lots", 2, "mass", "ten"), "/lots.csv:2:mass", "expected a number"),
        ("mass-negative", ("lots", 2, "mass", "-3"), "/lots.csv:2:mass", "must be > 0"),
        ("date-2099", ("lots", 2, "produced_at", "2099-01-01T00:00:00Z"), "/lots.csv:2", "is in the future"),
        ("date-bad", ("lots", 2, "produced_at", "soon"), "/lots.csv:2:produced_at", ""),
        ("lot-id-nul", ("lots", 2, "id", "L\u0000X"), "/lots.csv:2", "control character U+0000"),
        ("lot-id-long", ("lots", 2, "id", "L" * 400), "/lots.csv:2", "the limit is 300"),
        ("site-country", ("sites", 2, "country", "Germany"), "/sites.csv:2", "ISO 3166-1 alpha-2"),
        ("site-name-long", ("sites", 2, "name", "N" * 5000), "/sites.csv:2", "the limit is 300"),
        ("fraction-over-one", ("lots", 2, "Ni", "1.7"), "/lots.csv:2:Ni", "mass fraction 1.7 is > 1"),
        ("stage-bad", ("materials", 2, "stage", "vapour"), "/materials.csv:2", "stage must be one of"),
        ("run-input-over", ("run_inputs", 2, "mass", "999999"), "/runs.csv:2:id/inputs/0", "over-consumption"),
    ]
    for name, (sheet, row, col, value), loc, reason in cases:
        t = copy.deepcopy(base)
        _set(t, sheet, row, col, value)
        _write_csv(OUT / "csv" / name, t)
        _add(f"csv/{name}", "csv", loc, reason)
    # encodings and shapes
    t = copy.deepcopy(base)
    _set(t, "sites", 2, "name", "Mine Ölfeld")
    _write_csv(OUT / "csv" / "latin1", t, encoding="latin-1")
    _add("csv/latin1", "csv", "/sites.csv", "not UTF-8 text")
    _write_csv(OUT / "csv" / "utf16-no-bom", base, encoding="utf-16-le")
    _add("csv/utf16-no-bom", "csv", "/lots.csv", "looks like UTF-16 without a byte-order mark")
    _write_csv(OUT / "csv" / "byte-ff", base)
    p = OUT / "csv" / "byte-ff" / "materials.csv"
    p.write_bytes(p.read_bytes().replace(b"\n", b"\xff\n", 2))
    _add("csv/byte-ff", "csv", "/materials.csv", "byte 0xFF")
    t = copy.deepcopy(base)
    t["lots"][1] = [*t["lots"][1], "stray"]
    _write_csv(OUT / "csv" / "extra-cell", t)
    _add("csv/extra-cell", "csv", f"/lots.csv:2:column {len(t['lots'][0]) + 1}", "beyond the")
    t = copy.deepcopy(base)
    t["lots"] = [[v for i, v in enumerate(r) if i != _col(base["lots"], "mass_unit")] for r in t["lots"]]
    _write_csv(OUT / "csv" / "no-mass-unit", t)
    _add("csv/no-mass-unit", "csv", "/lots.csv:1", "missing the required column mass_unit")
    _write_csv(OUT / "csv" / "unknown-sheet", base)
    (OUT / "csv" / "unknown-sheet" / "stuff.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    _add("csv/unknown-sheet", "csv", "/stuff.csv", "unknown sheet file")


def make_xlsx() -> None:
    from openpyxl import Workbook

    base = _template_rows()

    def save(name: str, tables: dict[str, list[list[Any]]], loc: str, reason: str) -> None:
        wb = Workbook()
        wb.remove(wb.active)
        for sheet, rows in tables.items():
            ws = wb.create_sheet(sheet)
            for r in rows:
                ws.append(list(r))
        path = OUT / "xlsx" / f"{name}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        _add(f"xlsx/{name}.xlsx", "xlsx", loc, reason)

    lots, mass = base["lots"][0], base["lots"][0].index("mass")
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for name, (sheet, row, col, value), loc, reason in [
        ("formula-no-value", ("lots", 2, "mass", "=B2*1000"), f"#lots!{letter[mass]}2", "has no saved value"),
        ("formula-reagent", ("runs", 2, "water_m3", "=SUM(A1:A3)"), "#runs!", "has no saved value"),
        ("mass-huge", ("lots", 2, "mass", 1e22), f"#lots!{letter[mass]}2", "exceeds the largest mass"),
        ("mass-text", ("lots", 2, "mass", "lots"), f"#lots!{letter[mass]}2", "expected a number"),
        ("date-9999", ("lots", 2, "produced_at", "9999-12-31T00:00:00Z"), "#lots!A2", "is in the future"),
        ("lot-id-long", ("lots", 2, "id", "L" * 500), "#lots!A2", "the limit is 300"),
        ("unit-litres", ("lots", 2, "mass_unit", "LTR"), f"#lots!{letter[mass + 1]}2", "mass unit"),
        ("country-name", ("sites", 2, "country", "Deutschland"), "#sites!A2", "ISO 3166-1 alpha-2"),
        ("origin-bad", ("run_outputs", 2, "origin", "reused"), "#runs!", "origin must be one of"),
        ("shipment-over", ("shipments", 2, "mass", 10_000_000), "#shipments!A2", "exceeds what is at its origin"),
    ]:
        t = copy.deepcopy(base)
        _set(t, sheet, row, col, value)
        save(name, t, loc, reason)
    t = copy.deepcopy(base)
    t["lots"][1] = [*t["lots"][1], None, "stray"]
    save("extra-cell", t, f"#lots!{letter[len(lots) + 1]}2", "beyond the")
    t = copy.deepcopy(base)
    t["lots"][0] = [*t["lots"][0], "assay:Xy"]
    t["lots"][1] = [*t["lots"][1], 0.1]
    save("element-header", t, "#lots!", "Xy")


def main() -> None:
    """Write every document and manifest.json."""
    make_epcis()
    make_csv()
    make_xlsx()
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(manifest)} documents")


if __name__ == "__main__":
    main()
