"""Signed documents: a PCF in the JWS envelope verifies, a tampered one does not, a wrong figure is located, the
key's lifecycle is honoured, and a verifier with only `cryptography` (no lichain) checks it as docs/signing.md shows."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lichain.core.errors import LichainError
from lichain.io.envelope import sign_document
from lichain.io.signing import load_private_key
from lichain.services.demo import run_demo
from lichain.services.documents import sign_from_ledger, verify_document
from lichain.services.keys import generate, ledger_jwks, revoke
from lichain.services.pcf_doc import PCF_DOC, pcf_document
from lichain.storage.sql import SqlStore, open_store

ROOT = Path(__file__).resolve().parents[2]
CAM = "https://id.gs1.org/01/09520001000904/10/L00000001"
NOW = datetime(2027, 12, 31, tzinfo=UTC)  # the suite's ledger clock (conftest)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqlStore, Path]:
    d = tmp_path_factory.mktemp("signed")
    store = open_store(f"sqlite:///{d / 'l.db'}", create=True)
    assert run_demo(store, lots=300, seed=7).ok
    generate(store, d / "keys", organisation="Demo Integrated Battery Materials Group", now=NOW - timedelta(days=9))
    return store, d


def _signed_pcf(store: SqlStore, d: Path) -> Path:
    payload, _ = pcf_document(store, CAM)
    f = d / "pcf.jws"
    f.write_text(sign_from_ledger(store, payload, d / "keys" / "lichain.key.pem", PCF_DOC, CAM))
    return f


def _claims(token: str) -> dict:  # type: ignore[type-arg]
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))  # type: ignore[no-any-return]


def test_signed_pcf_verifies_and_every_figure_is_recomputed(ledger: tuple[SqlStore, Path]) -> None:
    store, d = ledger
    c = verify_document(_signed_pcf(store, d), store=store)
    assert c.ok and c.signature_ok and c.key_ok and c.recomputed and c.mismatches == ()
    assert c.issuer == "Demo Integrated Battery Materials Group" and c.subject == CAM and c.key_status == "active"
    assert c.figures_checked >= 30  # every leaf of the payload: stage values, ratings, texts with figures
    jwks = d / "jwks.json"
    jwks.write_text(json.dumps(ledger_jwks(store)))
    customer = verify_document(_signed_pcf(store, d), jwks=jwks)  # a customer: no ledger, the published JWKS
    assert customer.ok and not customer.recomputed and "no ledger" in (customer.recompute_note or "")


def test_a_tampered_document_fails_its_signature(ledger: tuple[SqlStore, Path]) -> None:
    store, d = ledger
    f = _signed_pcf(store, d)
    h, _p, s = f.read_text().strip().split(".")
    claims = _claims(f.read_text())
    claims["doc"]["pcfValues"]["sharesPerStage"]["absPcfValue"]["stageValue"] *= 0.9
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    bad = d / "tampered.jws"
    bad.write_text(f"{h}.{p2}.{s}")
    c = verify_document(bad, store=store)
    assert not c.ok and not c.signature_ok and "does not verify" in (c.reason or "")


def test_a_correctly_signed_wrong_figure_is_located(ledger: tuple[SqlStore, Path]) -> None:
    store, d = ledger
    payload, _ = pcf_document(store, CAM)
    true = payload["pcfValues"]["sharesPerStage"]["absPcfValue"]["stageValue"]
    payload["pcfValues"]["sharesPerStage"]["absPcfValue"]["stageValue"] = true - 1.0
    key = load_private_key(d / "keys" / "lichain.key.pem")
    f = d / "wrong.jws"
    f.write_text(sign_document(payload, key, PCF_DOC, issuer="Demo Integrated Battery Materials Group", subject=CAM))
    c = verify_document(f, store=store)
    assert c.signature_ok and c.key_ok and c.recomputed and not c.ok
    (m,) = c.mismatches
    assert m.path == "/pcfValues/sharesPerStage/absPcfValue/stageValue"
    assert (m.stated, m.recomputed) == (true - 1.0, true)


def test_documents_signed_after_revocation_fail_and_before_pass(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'l.db'}", create=True)
    from lichain.services.ingest import ingest_events
    from tests.support.chain_text import parse_chain

    assert ingest_events(parse_chain("site M1 mine ID Acme"), store).ok
    t0 = NOW - timedelta(days=100)
    ch = generate(store, tmp_path, organisation="Acme", now=t0)
    key = load_private_key(Path(ch.private_key or ""))
    early = tmp_path / "early.jws"
    late = tmp_path / "late.jws"
    early.write_text(sign_document({"n": 1}, key, "test", issuer="Acme", now=t0 + timedelta(days=10)))
    late.write_text(sign_document({"n": 2}, key, "test", issuer="Acme", now=t0 + timedelta(days=50)))
    assert verify_document(late, store=store).ok
    revoke(store, ch.kid, "compromised", at=t0 + timedelta(days=40))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(ledger_jwks(store)))
    for kw in ({"store": store}, {"jwks": jwks}):
        assert verify_document(early, **kw).ok
        c = verify_document(late, **kw)
        assert c.signature_ok and not c.key_ok and c.key_status == "revoked" and "revoked" in (c.reason or "")
    with pytest.raises(LichainError, match="revoked"):
        sign_from_ledger(store, {"n": 3}, Path(ch.private_key or ""), "test")


def _snippet() -> str:
    text = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
    part = text.split("## Verifying without lichain", 1)[1]
    m = re.search(r"```python\n(.*?)```", part, re.S)
    assert m is not None
    return m.group(1)


def test_the_documented_snippet_verifies_without_lichain(ledger: tuple[SqlStore, Path]) -> None:
    store, d = ledger
    f = _signed_pcf(store, d)
    jwks = d / "jwks-doc.json"
    jwks.write_text(json.dumps(ledger_jwks(store)))
    script = d / "snippet.py"
    script.write_text("import sys\nsys.modules['lichain'] = None  # importing lichain now fails\n" + _snippet())
    r = subprocess.run([sys.executable, str(script), str(f), str(jwks)], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    abs_pcf = _claims(f.read_text())["doc"]["pcfValues"]["sharesPerStage"]["absPcfValue"]["stageValue"]
    assert r.stdout.split()[-1] == repr(abs_pcf) and PCF_DOC in r.stdout
    h, p, s = f.read_text().strip().split(".")
    bad = d / "bad-doc.jws"
    bad.write_text(f"{h}.{p}.{s[:-4]}AAAA")
    r = subprocess.run([sys.executable, str(script), str(bad), str(jwks)], capture_output=True, text=True, check=False)
    assert r.returncode != 0 and "InvalidSignature" in r.stderr
