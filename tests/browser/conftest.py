"""The dashboard served for real: the demo chain on SQLite, the app under uvicorn on a loopback port, and the
system Chromium driven by Playwright. Screenshots of every page go to ``build/screenshots`` (or
``LICHAIN_SCREENSHOTS``).

Chromium is a system package (Debian ``chromium``; ``scripts/test.sh`` installs it when missing): these tests
fail, never skip, without it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lichain.storage.sql import SqlStore, open_store

OWNER_ORG = "Demo Integrated Battery Materials Group"
CUSTOMER_ORG = "Demo Cell Hungary Kft."
SHOTS = Path(os.environ.get("LICHAIN_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "build" / "screenshots")


def chromium_path() -> str:
    """The system Chromium (Debian's package), or a failure saying how to install it."""
    path = os.environ.get("LICHAIN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is not installed: `apt-get install -y chromium` (scripts/test.sh does it as root)")
    return path


@dataclass
class Site:
    """The served dashboard: base URL, the store behind it and one API key per user."""

    url: str
    store: SqlStore
    keys: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from lichain.services.demo import run_demo
    from lichain.storage import access_sql as acc
    from lichain.web.app import create_app

    tmp = tmp_path_factory.mktemp("dash")
    os.environ["LICHAIN_CACHE"] = str(tmp / "cache")
    store = open_store(str(tmp / "ledger.db"), create=True)
    assert run_demo(store, lots=1000).ok
    keys = {}
    for user, org, role in (("esg", OWNER_ORG, "owner"), ("cells", CUSTOMER_ORG, "customer")):
        acc.add_user(store, user, org, role, ())
        keys[user] = acc.new_key(store, user)[1]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", store, keys)
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True,
                              args=["--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                                    "--disable-background-networking", "--no-first-run"])
        yield b
        b.close()


@dataclass
class Tab:
    """A browser tab and the console errors and uncaught page errors it logged."""

    page: Any
    errors: list[str]


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Tab]:
    """A fresh tab (1440×900, a laptop screen) recording console errors and uncaught page errors."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    yield Tab(pg, errors)
    ctx.close()


def sign_in(page: Any, site: Site, user: str) -> None:
    """Open the dashboard and sign in with ``user``'s key."""
    page.goto(site.url + "/")
    page.wait_for_selector("#api-key")
    page.fill("#api-key", site.keys[user])
    page.click("#login-form button")
    page.wait_for_selector("[data-testid=who]:not(:empty)")


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot of the current page in :data:`SHOTS`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
