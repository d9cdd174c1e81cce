"""`lichain keys`, `export pcf --sign`, `verify-doc`, `export package` and `import package` from the command line,
with their exit codes: a producer rotates and revokes keys, a customer imports a package."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lichain.entrypoints.cli import app

runner = CliRunner()
PRODUCER = "Demo Integrated Battery Materials Group"


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args, catch_exceptions=False)
    assert r.exit_code == 0, (args, r.output)
    return r.stdout


def test_keys_documents_and_packages_on_the_command_line(tmp_path: Path) -> None:
    db, cust = str(tmp_path / "p.db"), str(tmp_path / "c.db")
    _ok(["demo", "--lots", "300", "--seed", "7", "--db", db])
    gen = json.loads(_ok(["keys", "generate", "--out", str(tmp_path / "k"), "--db", db, "--json"]))
    assert gen["organisation"] == PRODUCER and gen["recorded"] and gen["events_written"] == 1
    key = gen["private_key"]
    ships = json.loads(_ok(["shipments", "--customer", "Demo Cell Korea Co., Ltd.", "--limit", "0", "--db", db,
                            "--json"]))["shipments"]
    cam = next(s for s in ships if s["material"].startswith("CAM") and s["direction"] == "received")
    pcf = tmp_path / "pcf.jws"
    _ok(["export", "pcf", cam["lot"], "--sign", key, "--out", str(pcf), "--db", db])
    check = json.loads(_ok(["verify-doc", str(pcf), "--db", db, "--json"]))
    assert check["ok"] and check["recomputed"] and check["subject"] == cam["lot"]
    jwks = tmp_path / "jwks.json"
    _ok(["keys", "jwks", "--out", str(jwks), "--db", db])
    _ok(["export", "package", cam["id"], "--out", str(tmp_path / "pkg"), "--sign", key, "--db", db])
    _ok(["verify-doc", str(tmp_path / "pkg"), "--jwks", str(jwks)])
    # a customer's ledger that has not declared its receiving site (the import itself: test_package_federation.py)
    _ok(["init", "--db", cust])
    r = runner.invoke(app, ["import", "package", str(tmp_path / "pkg"), "--jwks", str(jwks), "--db", cust, "--json"])
    assert r.exit_code == 1 and "unknown site 'KR-OCHANG-CELLS'" in r.stdout  # located refusal, nothing written
    assert json.loads(r.stdout)["events_written"] == 0
    # a rotated key no longer signs; a revoked one fails documents signed after its revocation
    rot = json.loads(_ok(["keys", "rotate", "--key", key, "--out", str(tmp_path / "k"), "--name", "k2", "--db", db,
                          "--json"]))
    assert rot["retired"] == gen["kid"]
    r = runner.invoke(app, ["export", "pcf", cam["lot"], "--sign", key, "--out", str(tmp_path / "x.jws"), "--db", db])
    assert r.exit_code == 1 and "retired" in r.output
    # a key id is a base64url thumbprint and may begin with "-": "--" ends the options before it
    _ok(["keys", "revoke", "--reason", "compromised", "--db", db, "--", rot["kid"]])
    listed = json.loads(_ok(["keys", "list", "--db", db, "--json"]))["keys"]
    assert [k["status"] for k in listed] == ["retired", "revoked"]
    r = runner.invoke(app, ["keys", "revoke", "--db", db, "--", rot["kid"]])
    assert r.exit_code == 1 and "already revoked" in r.output
    tampered = tmp_path / "t.jws"
    h, p, s = pcf.read_text().strip().split(".")
    tampered.write_text(f"{h}.{p}.{s[::-1]}")
    r = runner.invoke(app, ["verify-doc", str(tampered), "--db", db])
    assert r.exit_code == 1 and "does not verify" in r.output
