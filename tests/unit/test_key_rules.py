"""Rules of signing-key statements and the fold of a key's history (pure functions of lichain.core.keys)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lichain.core.keys import key_problems, key_states, thumbprint, unusable_reason
from lichain.core.model import KeyStatement

T = datetime(2027, 1, 1, tzinfo=UTC)


def _x() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                 serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_thumbprint_is_rfc7638() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of its example Ed25519 key
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert thumbprint(x) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    assert thumbprint(x) == base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def test_each_rule_is_a_located_problem() -> None:
    x = _x()
    assert key_problems(KeyStatement(thumbprint(x), "Acme", x, "active", T)) == []
    cases = {
        "/x": KeyStatement("k", "Acme", "not-a-key", "active", T),
        "/kid": KeyStatement("k", "Acme", x, "active", T),
        "/status": KeyStatement(thumbprint(x), "Acme", x, "paused", T),
        "/organisation": KeyStatement(thumbprint(x), " ", x, "active", T),
        "/reason": KeyStatement(thumbprint(x), "Acme", x, "revoked", T, "lost it"),
        "/successor": KeyStatement(thumbprint(x), "Acme", x, "active", T, None, "other"),
    }
    for where, k in cases.items():
        assert [p for p, _ in key_problems(k)] == [where], where


def test_revocation_is_final_and_the_earliest_times_hold() -> None:
    x = _x()
    kid = thumbprint(x)
    st = key_states([KeyStatement(kid, "Acme", x, "active", T),
                     KeyStatement(kid, "Acme", x, "revoked", T + timedelta(days=20), "compromised"),
                     KeyStatement(kid, "Acme", x, "revoked", T + timedelta(days=30), "unspecified"),
                     KeyStatement(kid, "Acme", x, "active", T + timedelta(days=40))])[kid]
    assert (st.status, st.active_from, st.revoked_at, st.reason) == ("revoked", T, T + timedelta(days=20),
                                                                     "compromised")
    assert unusable_reason(st, T + timedelta(days=19)) is None
    assert "revoked" in (unusable_reason(st, T + timedelta(days=20)) or "")
    assert "before key" in (unusable_reason(st, T - timedelta(seconds=1)) or "")
    assert "revoked" in (unusable_reason(st, T + timedelta(days=41)) or "")  # a later 'active' does not revive it
