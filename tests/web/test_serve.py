"""``lichain serve`` and ``lichain migrate`` from the command line: a real uvicorn on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LICHAIN = str(Path(sys.executable).with_name("lichain"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_on_loopback_with_keys(tmp_path: Path) -> None:
    """The served ledger answers /health without a key, /lots with one, and refuses /lots without."""
    db = str(tmp_path / "l.db")
    env = {**os.environ, "LICHAIN_CACHE": str(tmp_path / "cache")}
    env.pop("LICHAIN_DB", None)
    add = subprocess.run([LICHAIN, "access", "users", "add", "ana", "--organisation", "Example Nickel", "--role",
                          "operator", "--db", db, "--json"], env=env, capture_output=True, text=True, check=True)
    token = json.loads(add.stdout)["api_key"]
    port = _port()
    server = subprocess.Popen([LICHAIN, "serve", "--db", db, "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"{base}/lots").status_code == 401
        r = httpx.get(f"{base}/lots", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["total"] == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_no_migrate_refuses_an_old_schema_and_migrate_brings_it_up(tmp_path: Path) -> None:
    """`serve --no-migrate` on a database without the schema exits 2; `migrate` creates it."""
    db = str(tmp_path / "new.db")
    r = subprocess.run([LICHAIN, "serve", "--db", db, "--no-migrate", "--port", str(_port())], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "lichain init" in r.stderr + r.stdout
    r = subprocess.run([LICHAIN, "migrate", "--db", db], capture_output=True, text=True, timeout=60)
    from lichain.storage.sql import SCHEMA_REVISION

    assert r.returncode == 0 and f"revision {SCHEMA_REVISION}" in r.stdout
