"""Use case: the organisation boundary of a period aggregate (who is "us"), from the option or master data.

Why this exists: by operational control (GHG Protocol Corporate Standard, 2004, ch. 3) a report sums only the
reporting organisation's sites; suppliers' and customers' sites recorded in the ledger are context. The
reporting organisation is the one asked for, or the ledger owner declared in master data (a site flagged
``ledger_owner``, docs/ledger.md "Ledger owner"). One rule for the ESG report, recovery and Art. 8 by period.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from lichain.core.errors import NotFoundError
from lichain.storage.esg_sql import ledger_owners, site_rows

__all__ = ["Boundary", "reporting_boundary"]


@dataclass(frozen=True, slots=True)
class Boundary:
    """The reporting organisation (None: no boundary, every site), how it was chosen, and its site ids."""

    name: str | None
    chosen_by: str
    sites: frozenset[str] | None  # None: every site

    def to_json(self) -> dict[str, Any]:
        """``{name, chosen_by}``."""
        return {"name": self.name, "chosen_by": self.chosen_by}

    def holds(self, site: str) -> bool:
        """True when ``site`` is inside the boundary."""
        return self.sites is None or site in self.sites


def reporting_boundary(store: Any, organisation: str | None, *, required: bool = True) -> Boundary:
    """The boundary of ``organisation``, or of the ledger owner declared in master data.

    With no owner declared: a ledger of one organisation (or none yet) reports it; with several, ``required``
    refuses (the ESG report: Scope 1+2 must not add other organisations' sites), otherwise every site is kept
    and the result says so.

    Raises
    ------
    NotFoundError
        ``organisation`` is unknown (with a did-you-mean); several owners are declared; or none is declared
        among several organisations and ``required``.
    """
    rows = site_rows(store)
    known = sorted({r.organisation for r in rows})

    def of(org: str, how: str) -> Boundary:
        return Boundary(org, how, frozenset(r.id for r in rows if r.organisation == org))

    if organisation is not None:
        if organisation not in known:
            near = difflib.get_close_matches(organisation, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(known) or 'none'})"
            raise NotFoundError(f"unknown organisation {organisation!r}{hint}")
        return of(organisation, "--organisation")
    owners = ledger_owners(store)
    if len(owners) == 1:
        org, sites = next(iter(owners.items()))
        return of(org, f"ledger owner declared in master data (site {', '.join(sites)})")
    if len(owners) > 1:
        raise NotFoundError(f"master data declares several ledger owners ({', '.join(sorted(owners))}): pass "
                            "--organisation")
    if len(known) <= 1:  # one organisation recorded (or none yet): nothing to choose between
        return of(known[0] if known else "", "the only organisation in master data (no ledger owner declared)")
    if required:
        raise NotFoundError("no ledger owner declared in master data: mark a site of the reporting organisation "
                            "with ledger_owner (docs/ledger.md, 'Ledger owner') or pass --organisation")
    return Boundary(None, "no ledger owner declared in master data: every organisation's sites", None)
