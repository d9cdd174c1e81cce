"""The web dashboard: static pages over the REST API, served by the same application.

Why this exists: a producer's ESG, compliance and quality teams, its customers and auditors look at flows, lots
and figures in a browser. The pages hold no figures of their own: every number is fetched from the REST API (so
the API's role checks decide what a person sees, and the page only leaves out what it was refused). Chart drawing
uses Apache ECharts 5.6.0 (Apache-2.0, ``static/vendor``, licence and notice beside it), shipped with the
package: nothing is loaded from another origin (the Content-Security-Policy says so).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["CSP", "STATIC", "mount_dashboard"]

#: The dashboard's files (``index.html``, ``app.js``, ``app.css``, ``vendor/``).
STATIC = Path(str(files("lichain.dashboard") / "static"))

#: Only this origin: scripts, styles, data and images (ECharts draws SVG inline).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def mount_dashboard(app: FastAPI, prefix: str = "/dashboard") -> None:
    """Serve the dashboard at ``prefix/`` (and redirect ``/`` there) with its static files under ``prefix/static``."""
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    @app.get(prefix + "/", include_in_schema=False)
    def dashboard_index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=headers)

    @app.get(prefix, include_in_schema=False)
    def dashboard_redirect() -> RedirectResponse:
        return RedirectResponse(prefix + "/")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(prefix + "/")

    app.mount(prefix + "/static", StaticFiles(directory=STATIC), name="dashboard-static")
