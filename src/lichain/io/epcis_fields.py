"""Field readers for EPCIS 2.0 JSON-LD: each reads one kind of value and reports a located problem when it can't.

Why this exists: the event reader (:mod:`lichain.io.epcis_read`) and the master-data reader
(:mod:`lichain.io.epcis_master`) read the same kinds of values — times, CBV terms, lot identifiers, masses,
lichain's namespaced extensions — with the same rules, and every refusal must carry a JSON pointer (RFC 6901)
into the document. Readers return ``None`` (or an empty value) after recording a problem, so a document is
checked whole in one pass.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from lichain.core.codec import parse_time
from lichain.core.errors import Problem
from lichain.core.model import Activity, Electricity, Fuel, Lot, Origin, Reagent
from lichain.core.quantities import fraction_to_ppb, kg_to_mg, parse_decimal, parse_fraction, parse_mass_kg
from lichain.io.epcis_hash import normalise_cbv, normalise_epc
from lichain.io.epcis_vocab import (
    BIZ_STEPS,
    DISPOSITIONS,
    ERROR_REASONS,
    LICHAIN_NS,
    MASS_UOMS,
    REC20,
    SOURCE_DEST_TYPES,
    URI,
    from_uri,
)

__all__ = ["DL_LOT", "LOT_KEYS", "Ext", "FieldReader", "canonical", "esc"]

Ext = dict[str, tuple[Any, str]]  # lichain local name → (value, JSON pointer)

_CBV = "https://ref.gs1.org/cbv/"
_VOCAB = {"bizStep": ("BizStep-", BIZ_STEPS), "disposition": ("Disp-", DISPOSITIONS),
          "SDT": ("SDT-", SOURCE_DEST_TYPES), "ER": ("ER-", ERROR_REASONS)}  # fmt: skip
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\Z", re.ASCII)
_DL = "https://id.gs1.org/"
#: A canonical GS1 Digital Link URI of a lot (GTIN + batch/lot).
DL_LOT = re.compile(r"https://id\.gs1\.org/01/\d{14}/10/[^/]+\Z")
_DL_GTIN = re.compile(r"https://id\.gs1\.org/01/\d{14}\Z")
#: Lot master data keys (``lichain:<key>`` at the top of an ILMD, plain inside ``lichain:lots``).
LOT_KEYS = frozenset({"material", "massKg", "assay", "origin", "quality", "assayMethod", "assayLab", "activity",
                      "producedAt"})  # fmt: skip


def esc(key: str) -> str:
    """A member name as a JSON pointer token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def canonical(value: str) -> str:
    """GS1 URIs in their canonical Digital Link form; other URIs and plain strings unchanged."""
    return normalise_epc(value) if URI.match(value) else value


class FieldReader:
    """Problems of one document, the namespace prefixes in force, and the value readers."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.problems: list[Problem] = []
        self.prefixes: dict[str, str] = {}
        self.ours: frozenset[str] = frozenset()
        self.undeclared_reported = False

    def add(self, ptr: str, message: str) -> None:
        self.problems.append(Problem(f"{self.src}#{ptr}", message))

    def bind(self, obj: dict[str, Any]) -> None:
        for prefix, value in obj.items():
            iri = value.get("@id") if isinstance(value, dict) else value
            if isinstance(iri, str) and not prefix.startswith("@") and ":" not in prefix:
                self.prefixes[prefix] = iri
        self.ours = frozenset(p for p, iri in self.prefixes.items() if iri == LICHAIN_NS)

    def local(self, key: str) -> str | None:
        """The local name of a key in lichain's namespace, else None."""
        if key.startswith(LICHAIN_NS):
            return key[len(LICHAIN_NS) :]
        prefix, sep, rest = key.partition(":")
        return rest if sep and prefix in self.ours else None

    def ext(self, obj: dict[str, Any], ptr: str) -> Ext:
        out: Ext = {}
        for k, v in obj.items():
            name = self.local(k)
            if name is not None:
                out[name] = (v, f"{ptr}/{esc(k)}")
            elif k.startswith("lichain:") and not self.undeclared_reported:
                self.undeclared_reported = True
                self.add(f"{ptr}/{esc(k)}", f"prefix 'lichain' is not declared in @context (add "
                                             f"{{\"lichain\": \"{LICHAIN_NS}\"}}); its fields are not read")
        return out

    def unknown(self, ext: Ext, allowed: frozenset[str], what: str) -> None:
        for name, (_, p) in ext.items():
            if name not in allowed:
                self.add(p, f"unknown lichain field {name!r} in {what} (known: {', '.join(sorted(allowed)) or 'none'})")

    def time(self, value: Any, ptr: str, what: str) -> datetime | None:
        if value is None:
            self.add(ptr, f"missing {what}")
            return None
        if not isinstance(value, str) or not _TS.match(value):
            self.add(ptr, f"{what} {value!r} is not an ISO 8601 date-time with offset "
                          "(e.g. 2024-05-01T08:00:00.000+08:00)")
            return None
        try:
            return parse_time(value)
        except ValueError as exc:
            self.add(ptr, f"{what} {value!r} is not a valid date-time: {exc}")
            return None

    def text(self, value: Any, ptr: str, what: str, *, empty: bool = True) -> str | None:
        if isinstance(value, str) and (empty or value):
            return value
        self.add(ptr, f"{what} must be a{' non-empty' if not empty else ''} string, got {value!r}")
        return None

    def dec(self, value: Any, ptr: str, what: str) -> Decimal | None:
        d = parse_decimal(value)
        if isinstance(d, str):
            self.add(ptr, f"{what}: {d}")
            return None
        return d

    def kg(self, value: Any, ptr: str, what: str) -> int | None:
        """An exact kg value (string or number) → mg; zero is allowed (declared losses)."""
        d = self.dec(value, ptr, what)
        return None if d is None else kg_to_mg(d)

    def cbv(self, value: Any, vocabulary: str, ptr: str) -> str | None:
        """A CBV value in its short form, or a private-vocabulary URI; None (and a problem) otherwise."""
        if not isinstance(value, str) or not value.strip():
            self.add(ptr, f"{vocabulary} must be a CBV 2.0 term or a URI, got {value!r}")
            return None
        prefix, terms = _VOCAB[vocabulary]
        full = normalise_cbv(value, vocabulary)
        if full.startswith(_CBV + prefix) and full[len(_CBV) + len(prefix) :] in terms:
            return full[len(_CBV) + len(prefix) :]
        if full.startswith((_CBV, "urn:epcglobal:")) or not URI.match(full):
            self.add(ptr, f"{value!r} is not a CBV 2.0 {vocabulary} value (nor a private-vocabulary URI)")
            return None
        return full

    def location(self, ev: dict[str, Any], name: str, ptr: str) -> str | None:
        loc = ev.get(name)
        if loc is None:
            return None
        if not isinstance(loc, dict) or not isinstance(loc.get("id"), str) or not loc["id"].strip():
            self.add(f"{ptr}/{name}", f"{name} must be an object with an 'id' URI")
            return None
        return from_uri(loc["id"].strip(), "site")

    def site_of(self, ev: dict[str, Any], ptr: str) -> str | None:
        site = self.location(ev, "bizLocation", ptr) or self.location(ev, "readPoint", ptr)
        if site is None and "bizLocation" not in ev and "readPoint" not in ev:
            self.add(ptr, "no bizLocation or readPoint: the ledger needs the site where this happened")
        return site

    def no_epcs(self, ev: dict[str, Any], name: str, ptr: str) -> None:
        v = ev.get(name)
        if v:
            self.add(f"{ptr}/{name}", f"{name} lists serialised items, which carry no mass: they cannot enter the "
                                      "ledger's kg balance silently; send lot quantities in kg instead")

    def lot_id(self, value: Any, ptr: str) -> str | None:
        """The ledger id of a lot named by an epcClass (canonical Digital Link for GS1 lots)."""
        if not isinstance(value, str) or not value.strip():
            self.add(ptr, f"epcClass must be a URI naming a lot, got {value!r}")
            return None
        raw = value.strip()
        local = from_uri(raw, "lot")
        if local != raw:
            return local
        s = normalise_epc(raw)
        if s.startswith(_DL):
            if DL_LOT.match(s):
                return s
            if _DL_GTIN.match(s):
                self.add(ptr, f"class-level quantity: {raw} names a product class (GTIN without lot), not a lot; "
                              "a kg balance needs lot-level ids (urn:epc:class:lgtin:… or …/01/<GTIN>/10/<lot>)")
            elif "/21/" in s or "/235/" in s:
                self.add(ptr, f"{raw} is a serialised item, not a lot; a quantity needs a lot (class) id")
            else:
                self.add(ptr, f"{raw} is a GS1 key that does not name a lot (GTIN + lot, AI 01 + AI 10)")
            return None
        if raw.startswith("urn:epc:"):
            self.add(ptr, f"{raw} is not a well-formed EPC class URI naming a lot "
                          "(urn:epc:class:lgtin:<company prefix>.<item ref>.<lot>)")
            return None
        if not URI.match(s):
            self.add(ptr, f"epcClass {raw!r} is not a URI")
            return None
        return s

    def mass(self, q: dict[str, Any], ptr: str) -> int | None:
        if "quantity" not in q:
            self.add(ptr, "quantity element without quantity")
            return None
        uom = q.get("uom")
        if uom is None:
            self.add(ptr, "quantity without uom counts instances (EPCIS 2.0 QuantityElement), it is not a mass: the "
                          f"ledger balances kilograms; give uom KGM (or {', '.join(sorted(MASS_UOMS - {'KGM'}))})")
            return None
        if not isinstance(uom, str) or not REC20.match(uom):
            self.add(f"{ptr}/uom", f"uom {uom!r} is not a UN/ECE Recommendation 20 code")
            return None
        if uom not in MASS_UOMS:
            self.add(f"{ptr}/uom", f"uom {uom} is not a mass unit; the ledger balances kilograms "
                                   f"(mass units: {', '.join(sorted(MASS_UOMS))})")
            return None
        value = q["quantity"]
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.add(f"{ptr}/quantity", f"quantity must be a JSON number, got {value!r}")
            return None
        kg = parse_mass_kg(value, uom)
        if isinstance(kg, str):
            self.add(f"{ptr}/quantity", kg)
            return None
        return kg_to_mg(kg)

    def quantities(self, ev: dict[str, Any], name: str, ptr: str) -> list[tuple[str, int, str]]:
        items = ev.get(name)
        if items is None:
            return []
        if not isinstance(items, list):
            self.add(f"{ptr}/{name}", f"{name} must be a list")
            return []
        out: list[tuple[str, int, str]] = []
        for k, q in enumerate(items):
            qp = f"{ptr}/{name}/{k}"
            if not isinstance(q, dict):
                self.add(qp, "a quantity element must be an object {epcClass, quantity, uom}")
                continue
            for key in q.keys() - {"epcClass", "quantity", "uom"}:
                self.add(f"{qp}/{esc(key)}", f"unknown member {key!r} of a quantity element "
                                              "(EPCIS 2.0 allows epcClass, quantity, uom)")
            lot = self.lot_id(q.get("epcClass"), f"{qp}/epcClass")
            mg = self.mass(q, qp)
            if lot is not None and mg is not None:
                out.append((lot, mg, qp))
        return out

    def activity(self, value: Any, ptr: str) -> Activity | None:
        if not isinstance(value, dict):
            self.add(ptr, "activity must be an object")
            return None
        n = len(self.problems)
        for key in value.keys() - {"electricity", "fuels", "reagents", "waterM3", "processKgCo2e", "readings"}:
            self.add(f"{ptr}/{esc(key)}", f"unknown activity field {key!r}")
        els, fuels, reagents = [], [], []
        for k, e in enumerate(self.items(value, "electricity", ptr)):
            p = f"{ptr}/electricity/{k}"
            kwh = self.dec(e.get("kwh"), f"{p}/kwh", "kwh")
            source = self.text(e.get("source", "grid"), f"{p}/source", "source")
            inst, fk = e.get("instrument"), e.get("factorKey")
            if kwh is not None and source is not None:
                els.append(Electricity(kwh, source, self.opt(inst, f"{p}/instrument"), self.opt(fk, f"{p}/factorKey")))
        for k, f in enumerate(self.items(value, "fuels", ptr)):
            p = f"{ptr}/fuels/{k}"
            kind, mj = self.text(f.get("kind"), f"{p}/kind", "kind"), self.dec(f.get("mj"), f"{p}/mj", "mj")
            if kind is not None and mj is not None:
                fuels.append(Fuel(kind, mj))
        for k, r in enumerate(self.items(value, "reagents", ptr)):
            p = f"{ptr}/reagents/{k}"
            name, kg = self.text(r.get("name"), f"{p}/name", "name"), self.dec(r.get("kg"), f"{p}/kg", "kg")
            if name is not None and kg is not None:
                reagents.append(Reagent(name, kg, self.opt(r.get("factorKey"), f"{p}/factorKey")))
        water = self.dec(value["waterM3"], f"{ptr}/waterM3", "waterM3") if "waterM3" in value else None
        co2 = (self.dec(value["processKgCo2e"], f"{ptr}/processKgCo2e", "processKgCo2e")
               if "processKgCo2e" in value else None)  # fmt: skip
        readings = self.str_map(value.get("readings", {}), f"{ptr}/readings", "readings")
        if len(self.problems) > n:
            return None
        return Activity(tuple(els), tuple(fuels), tuple(reagents), water, co2, tuple(readings.items()))

    def items(self, obj: dict[str, Any], name: str, ptr: str) -> list[dict[str, Any]]:
        v = obj.get(name, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            self.add(f"{ptr}/{name}", f"{name} must be a list of objects")
            return []
        return v

    def opt(self, value: Any, ptr: str) -> str | None:
        return None if value is None else self.text(value, ptr, ptr.rpartition("/")[2])

    def str_map(self, value: Any, ptr: str, what: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.add(ptr, f"{what} must be an object")
            return {}
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, str):
                out[k] = v
            elif isinstance(v, int | Decimal) and not isinstance(v, bool):
                out[k] = str(v)
            else:
                self.add(f"{ptr}/{esc(k)}", f"{what} values must be strings or numbers, got {v!r}")
        return out

    def lot(self, lot_id: str, mg: int, md: Ext, site: str | None, default_time: datetime | None,
            ptr: str) -> Lot | None:
        n = len(self.problems)
        material = None
        if "material" in md:
            v, p = md["material"]
            m = self.text(v, p, "material", empty=False)
            material = canonical(m) if m is not None else None
        elif DL_LOT.match(lot_id):
            material = lot_id.rsplit("/10/", 1)[0]  # the lot's GTIN is its product class
        else:
            self.add(ptr, f"lot {lot_id}: no material (give lichain:material)")
        if "massKg" in md:
            v, p = md["massKg"]
            kg = parse_mass_kg(v, "KGM")
            if isinstance(kg, str):
                self.add(p, f"massKg: {kg}")
            elif kg_to_mg(kg) != mg:
                self.add(p, f"lot {lot_id}: massKg {v} disagrees with its quantity ({mg} mg)")
        assay: dict[str, int] = {}
        if "assay" in md:
            v, p = md["assay"]
            if not isinstance(v, dict):
                self.add(p, "assay must be an object {element: mass fraction}")
            else:
                for e, f in v.items():
                    frac = parse_fraction(f)
                    if isinstance(frac, str):
                        self.add(f"{p}/{esc(e)}", f"assay {e}: {frac}")
                    else:
                        assay[e] = fraction_to_ppb(frac)
        origin = Origin.VIRGIN.value
        if "origin" in md:
            origin = self.text(md["origin"][0], md["origin"][1], "origin") or origin
        quality = self.str_map(md["quality"][0], md["quality"][1], "quality") if "quality" in md else {}
        method = self.text(md["assayMethod"][0], md["assayMethod"][1], "assayMethod") if "assayMethod" in md else None
        lab = self.text(md["assayLab"][0], md["assayLab"][1], "assayLab") if "assayLab" in md else None
        activity = self.activity(*md["activity"]) if "activity" in md else None
        produced = self.time(*md["producedAt"], "producedAt") if "producedAt" in md else default_time
        if "site" in md:
            site = self.text(md["site"][0], md["site"][1], "site", empty=False)
        if len(self.problems) > n or material is None or site is None or produced is None:
            return None
        return Lot(lot_id, material, site, produced, mg, assay, origin, quality, method, lab, activity)
