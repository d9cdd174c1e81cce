"""Emission factors: the shipped library, and the resolver that lets recorded overrides replace a default.

A footprint is only as good as its factors, and only auditable if every number used can be named: its key,
value, unit, basis (lifecycle or combustion; generation or consumption), source and library version. Each row
names its public publications by citation id (column ``citation``, ids of :data:`lichain.core.citations.CITATIONS`)
and, when derived, its arithmetic (column ``derivation``); ``source`` stays the internal audit note (where the
figure was read, how sure it is) and is never written into a customer document (:meth:`Factor.public_json`). The
library ships inside the package (``lichain/data/emission-factors.csv``, read with :mod:`importlib.resources`,
never from the network or a shared folder). A user replaces any factor for a site and a period by recording a
:class:`~lichain.core.model.FactorOverride` event; results then replay from the ledger alone.

Precedence for one key (DESIGN §4: "a user can override any factor per site and period"):

1. an override for this site and a period containing the time,
2. an override for this site, without a period,
3. an override for every site, for a period containing the time,
4. an override for every site and every time,
5. the library default;

among overrides of equal rank the one recorded last wins. An override whose unit does not match the library's
unit for the same key (per kWh versus per MJ, say) is never applied; :attr:`FactorResolver.problems` lists it.
Resolution failures are values (:class:`FactorProblem`), not exceptions (DESIGN §6.4). Keys match exactly, or
else case-insensitively (grid regions arrive as ``CN-EAST`` or ``CN-East``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from lichain.core.citations import CITATIONS, Citation, cite, parse_ids
from lichain.core.model import FactorOverride, Site

__all__ = [
    "DEFAULT_FACTORS_FILE",
    "Factor",
    "FactorLibrary",
    "FactorProblem",
    "FactorResolver",
    "default_library",
    "grid_keys",
    "per_element",
    "per_unit",
]

#: The shipped factor table, relative to the ``lichain`` package.
DEFAULT_FACTORS_FILE = "data/emission-factors.csv"


def per_unit(unit: str) -> str:
    """Normalised denominator of a factor unit: ``"kg CO2e/t·km"`` → ``"t-km"``, ``"kg CO2/kWh"`` → ``"kwh"``."""
    _, _, den = unit.partition("/")
    den = den.strip().casefold().replace(" ", "").replace("·", "-").replace("³", "3")
    return {"tkm": "t-km", "t.km": "t-km", "tonne-km": "t-km", "tonne.km": "t-km"}.get(den, den)


def per_element(unit: str) -> str | None:
    """The element a factor is per kg of (``"kg CO2e/kg Ni"`` → ``"Ni"``), or None for any other unit.

    A factor per kg of contained element applies to a lot through its assay (kg of element = kg of lot × mass
    fraction); it never applies to a mass of product directly.
    """
    from lichain.core.limits import ELEMENT_SYMBOLS

    _, _, den = unit.partition("/")
    parts = den.split()
    if len(parts) == 2 and parts[0].casefold() == "kg" and parts[1] in ELEMENT_SYMBOLS:
        return parts[1]
    return None


def _is_emission_unit(unit: str) -> bool:
    return unit.casefold().replace(" ", "").startswith("kgco2")


@dataclass(frozen=True, slots=True)
class Factor:
    """One emission (or conversion) factor: ``value`` [``unit``], with its range, basis, source and version."""

    key: str
    value: Decimal
    unit: str
    low: Decimal | None = None
    high: Decimal | None = None
    basis: str = ""
    source: str = ""
    version: str = ""
    year: str = ""
    description: str = ""
    citation_ids: tuple[str, ...] = ()
    derivation: str = ""

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The public publications this factor rests on (empty: no public source, e.g. a user override)."""
        return cite(self.citation_ids)

    @property
    def per(self) -> str:
        """Normalised denominator of :attr:`unit` (``kwh``, ``mj``, ``kg``, ``m3``, ``t-km`` …)."""
        return per_unit(self.unit)

    @property
    def element(self) -> str | None:
        """The element the factor is per kg of (``kg CO2e/kg Ni`` → ``"Ni"``), else None (:func:`per_element`)."""
        return per_element(self.unit)

    @property
    def is_emission(self) -> bool:
        """True when the numerator is kg CO2e (or kg CO2): a factor that turns an amount into emissions."""
        return _is_emission_unit(self.unit)

    def to_json(self) -> dict[str, object]:
        """Plain dict for ``--json`` output (numbers as JSON numbers; their text round-trips exactly)."""
        return {
            "key": self.key, "value": float(self.value), "unit": self.unit,
            "low": None if self.low is None else float(self.low),
            "high": None if self.high is None else float(self.high),
            "basis": self.basis, "year": self.year or None, "description": self.description,
            "source": self.source, "version": self.version, **self._public_refs(),
        }

    def _public_refs(self) -> dict[str, object]:
        return {"citations": [c.to_json() for c in self.citations],
                "derivation": f"derived: {self.derivation}" if self.derivation else None}

    def public_source(self) -> str:
        """The factor's sources as a customer may read them: its citations, ``"; "``-separated."""
        if self.version == "override":
            return "site-specific value recorded in the ledger by its owner"
        return "; ".join(str(c) for c in self.citations) or "no public source (placeholder value)"

    def public_json(self) -> dict[str, object]:
        """As :meth:`to_json` with ``source`` = :meth:`public_source`, not the internal note: for customer documents."""
        return {**self.to_json(), "source": self.public_source()}


@dataclass(frozen=True, slots=True)
class FactorProblem:
    """Why a factor could not be used as asked.

    ``kind`` is ``"missing"`` (nothing fits: the datum counts zero and the total is incomplete), ``"fallback"``
    (a less specific factor was used, e.g. the world grid average) or ``"unit"`` (an override or factor with the
    wrong unit was ignored). ``keys`` are the keys tried, most specific first.
    """

    kind: str
    keys: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def _dec(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


class FactorLibrary:
    """An immutable, versioned set of factors keyed by ``family:name[:variant]`` (e.g. ``grid:CN-EAST``)."""

    def __init__(self, factors: Iterable[Factor], version: str = "") -> None:
        self._factors = tuple(factors)
        self._by_key: dict[str, Factor] = {}
        self._by_fold: dict[str, Factor] = {}
        for f in self._factors:
            fold = f.key.casefold()
            if fold in self._by_fold:
                raise ValueError(f"duplicate factor key {f.key!r}")
            self._by_key[f.key] = f
            self._by_fold[fold] = f
        versions = sorted({f.version for f in self._factors if f.version})
        self.version = version or ",".join(versions)

    @classmethod
    def from_csv(cls, text: str, version: str = "") -> FactorLibrary:
        """Parse the CSV layout of ``emission-factors.csv`` (header ``key,value,unit,low,high,basis,…``)."""
        rows = csv.DictReader(io.StringIO(text))
        out = []
        for n, r in enumerate(rows, 2):
            try:
                value = Decimal(r["value"])
                low, high = _dec(r.get("low")), _dec(r.get("high"))
            except (InvalidOperation, KeyError, TypeError) as exc:
                raise ValueError(f"emission-factors.csv line {n}: bad number ({exc})") from exc
            ids = parse_ids(r.get("citation") or "")
            unknown = [i for i in ids if i not in CITATIONS]
            if unknown:
                raise ValueError(f"emission-factors.csv line {n}: unknown citation id {unknown[0]!r}")
            out.append(Factor(
                key=r["key"].strip(), value=value, unit=r["unit"].strip(), low=low, high=high,
                basis=(r.get("basis") or "").strip(), source=(r.get("source") or "").strip(),
                version=(r.get("version") or version).strip(), year=(r.get("year") or "").strip(),
                description=(r.get("description") or "").strip(), citation_ids=ids,
                derivation=(r.get("derivation") or "").strip(),
            ))
        return cls(out, version)

    def get(self, key: str) -> Factor | None:
        """The factor named ``key`` (exact match first, then case-insensitive), or None."""
        return self._by_key.get(key) or self._by_fold.get(key.casefold())

    def __getitem__(self, key: str) -> Factor:
        f = self.get(key)
        if f is None:
            from lichain.core.errors import NotFoundError

            raise NotFoundError(f"no emission factor {key!r}")
        return f

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[Factor]:
        return iter(self._factors)

    def __len__(self) -> int:
        return len(self._factors)

    def list(self, prefix: str | None = None) -> tuple[Factor, ...]:
        """Factors in file order; with ``prefix``, only keys starting with it (case-insensitive)."""
        if not prefix:
            return self._factors
        p = prefix.casefold()
        return tuple(f for f in self._factors if f.key.casefold().startswith(p))


@cache
def default_library() -> FactorLibrary:
    """The factor library shipped with lichain (read once per process)."""
    text = resources.files("lichain").joinpath(DEFAULT_FACTORS_FILE).read_text(encoding="utf-8")
    return FactorLibrary.from_csv(text)


def grid_keys(site: Site) -> tuple[str, ...]:
    """Grid factor keys for a site, most specific first: ``grid:<region>``, ``grid:<country>``, ``grid:world``."""
    keys = [f"grid:{site.grid_region}"] if site.grid_region else []
    if site.country:
        keys.append(f"grid:{site.country}")
    keys.append("grid:world")
    return tuple(dict.fromkeys(keys))


def _applies(o: FactorOverride, site: str | None, time: datetime | None) -> bool:
    if o.site is not None and o.site != site:
        return False
    if o.valid_from is None and o.valid_to is None:
        return True
    if time is None:
        return False
    return (o.valid_from is None or o.valid_from <= time) and (o.valid_to is None or time < o.valid_to)


def _rank(o: FactorOverride) -> tuple[bool, bool]:
    return (o.site is not None, o.valid_from is not None or o.valid_to is not None)


class FactorResolver:
    """Resolves factor keys for a site and a time: recorded overrides first, then the library.

    ``overrides`` are in recorded order (the ledger's event order); later ones win among equals.
    """

    def __init__(self, library: FactorLibrary | None = None, overrides: Sequence[FactorOverride] = ()) -> None:
        self.library = library if library is not None else default_library()
        self.overrides = tuple(overrides)
        self._by_fold: dict[str, list[tuple[int, FactorOverride]]] = {}
        problems = []
        for i, o in enumerate(self.overrides):
            base = self.library.get(o.key)
            if base is not None and per_unit(o.unit) != base.per:
                problems.append(FactorProblem(
                    "unit", (o.key,),
                    f"override of {o.key} in {o.unit!r} ignored: the factor is per {base.unit.partition('/')[2]} "
                    f"({base.unit})"))
                continue
            self._by_fold.setdefault(o.key.casefold(), []).append((i, o))
        self.problems: tuple[FactorProblem, ...] = tuple(problems)

    def boundaries(self) -> tuple[datetime, ...]:
        """Sorted distinct period bounds of the overrides: resolution is constant between two of them."""
        ts = {t for o in self.overrides for t in (o.valid_from, o.valid_to) if t is not None}
        return tuple(sorted(ts))

    def _override(self, key: str, site: str | None, time: datetime | None) -> tuple[int, FactorOverride] | None:
        cands = [(i, o) for i, o in self._by_fold.get(key.casefold(), ()) if _applies(o, site, time)]
        return max(cands, key=lambda c: (_rank(c[1]), c[0])) if cands else None

    def _from_override(self, o: FactorOverride) -> Factor:
        base = self.library.get(o.key)
        scope = [f"site {o.site}"] if o.site else []
        if o.valid_from or o.valid_to:
            scope.append(f"{o.valid_from.isoformat() if o.valid_from else '…'} to "
                         f"{o.valid_to.isoformat() if o.valid_to else '…'}")
        where = f" ({', '.join(scope)})" if scope else ""
        return Factor(
            key=base.key if base else o.key, value=o.value, unit=o.unit,
            basis=base.basis if base else "", source=f"ledger override{where}: {o.source}",
            version="override", description=base.description if base else "",
        )

    def resolve(self, key: str, *, site: str | None = None, time: datetime | None = None) -> Factor | FactorProblem:
        """The factor for ``key`` at ``site`` (a site id) and ``time``, or a ``missing`` problem."""
        return self.resolve_first((key,), site=site, time=time)

    def resolve_first(
        self, keys: Sequence[str], *, site: str | None = None, time: datetime | None = None
    ) -> Factor | FactorProblem:
        """The first of ``keys`` (most specific first) that resolves; a site-specific override of any of them wins.

        A site-specific override is the user's statement about that site, so it beats a default of a more
        specific key (e.g. an override of ``grid:CN`` for site R1 applies although ``grid:CN-EAST`` exists).
        """
        site_hits = []
        for pos, k in enumerate(keys):
            hit = self._override(k, site, time)
            if hit is not None and hit[1].site is not None:
                site_hits.append((pos, hit))
        if site_hits:
            return self._from_override(min(site_hits, key=lambda h: h[0])[1][1])
        for k in keys:
            hit = self._override(k, site, time)
            if hit is not None:
                return self._from_override(hit[1])
            f = self.library.get(k)
            if f is not None:
                return f
        where = f" at site {site}" if site else ""
        return FactorProblem("missing", tuple(keys), f"no emission factor for {' / '.join(keys)}{where}")

    def grid(self, site: Site, time: datetime | None = None) -> Factor | FactorProblem:
        """Grid-mix factor of a site's supply region (:func:`grid_keys` order)."""
        return self.resolve_first(grid_keys(site), site=site.id, time=time)
