"""``lichain passport`` on a demo ledger: every level and format, signed output that verifies, a new version
linked to the previous one after a cell maker's correction, and refusals with their exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lichain.core.passport_version import digest_matches
from lichain.entrypoints.cli import app
from lichain.io.signing import load_public_key, verify_jws

runner = CliRunner()
BATTERY = "KR-OCHANG-CELLS-BAT-000001"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("passport") / "l.db")
    r = runner.invoke(app, ["demo", "--db", path, "--lots", "300"])
    assert r.exit_code == 0, r.output
    return path


def _json(args: list[str], code: int = 0) -> dict[str, object]:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == code, r.output
    out: dict[str, object] = json.loads(r.stdout)
    return out


def test_levels_formats_signing_and_versions(db: str, tmp_path: Path) -> None:
    pub = _json(["passport", BATTERY, "--db", db])
    auth = _json(["passport", BATTERY, "--level", "authority", "--db", db])
    assert pub["level"] == "public" and pub["withheld"] and not auth["withheld"]
    assert "batteryStatus" not in pub["aspects"]["GeneralProductInformation"]  # type: ignore[index]
    assert auth["aspects"]["GeneralProductInformation"]["batteryStatus"] == "Original"  # type: ignore[index]
    aas = _json(["passport", BATTERY, "--format", "aas", "--db", db])
    assert set(aas["aspects"]) == {"Nameplate", "TechnicalData", "CarbonFootprint", "MaterialComposition",  # type: ignore[arg-type]
                                   "Circularity"}
    # a key the ledger does not record signs nothing; the cell maker's recorded key does
    stray = json.loads(runner.invoke(app, ["keys", "generate", "--out", str(tmp_path / "s"), "--no-record",
                                           "--json"]).stdout)
    out = tmp_path / "p.jws"
    r = runner.invoke(app, ["passport", BATTERY, "--sign", stray["private_key"], "--out", str(out), "--db", db])
    assert r.exit_code == 1 and not out.exists(), r.output
    keys = _json(["keys", "generate", "--out", str(tmp_path / "k"), "--db", db, "--organisation",
                  "Demo Cell Korea Co., Ltd.", "--json"])
    r = runner.invoke(app, ["passport", BATTERY, "--sign", str(keys["private_key"]), "--out", str(out), "--db", db])
    assert r.exit_code == 0, r.output
    header, claims = verify_jws(out.read_text(encoding="utf-8"), load_public_key(Path(str(keys["public_key"]))))
    doc = claims["doc"]
    assert doc["digest"] == pub["digest"] and digest_matches(doc)
    assert (claims["doc_type"], claims["iss"], header["typ"]) == ("lichain-battery-passport",
                                                                  "Demo Cell Korea Co., Ltd.", "lichain-doc+jwt")
    # verify-doc on the issuer's ledger recomputes every figure: all agree; a re-signed altered figure is named
    check = _json(["verify-doc", str(out), "--db", db, "--json"])
    assert check["ok"] and check["recomputed"] and check["figures_checked"] > 50 and not check["mismatches"]
    from lichain.io.envelope import sign_document
    from lichain.io.signing import load_private_key

    cf = doc["aspects"]["CarbonFootprint"]
    member = next(k for k, v in cf.items() if isinstance(v, int | float) and not isinstance(v, bool))
    forged = json.loads(json.dumps(doc))
    forged["aspects"]["CarbonFootprint"][member] = cf[member] * 0.5
    bad = tmp_path / "forged.jws"
    bad.write_text(sign_document(forged, load_private_key(Path(str(keys["private_key"]))), claims["doc_type"],
                                 issuer=claims["iss"], subject=claims["sub"], ledger=claims["ledger"]),
                   encoding="utf-8")
    check = _json(["verify-doc", str(bad), "--db", db, "--json"], 1)
    assert not check["ok"] and check["signature_ok"]
    assert f"/aspects/CarbonFootprint/{member}" in [m["path"] for m in check["mismatches"]]
    same = _json(["passport", BATTERY, "--previous", str(out), "--db", db])
    assert same["version"] == 1 and same["digest"] == pub["digest"]
    assert _json(["passport", BATTERY, "--level", "authority", "--previous", str(out), "--db", db], 1)


def test_refusals(db: str) -> None:
    r = runner.invoke(app, ["passport", "NO-SUCH-BATTERY", "--db", db])
    assert r.exit_code == 1 and "unknown lot" in r.output
    cam = json.loads(runner.invoke(app, ["lots", "--stage", "cam", "--db", db, "--json"]).stdout)[0]["id"]
    r = runner.invoke(app, ["passport", cam, "--db", db])
    assert r.exit_code == 1 and "cam lot" in r.output
    r = runner.invoke(app, ["passport", BATTERY, "--level", "everyone", "--db", db])
    assert r.exit_code == 1 and "level" in r.output
