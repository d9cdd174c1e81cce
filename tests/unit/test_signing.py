"""JWS EdDSA signatures verify with an independent check, and any changed byte fails."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lichain.io.signing import (
    SignatureError,
    generate_key,
    jwk,
    jwks,
    load_private_key,
    load_public_key,
    sign_jws,
    verify_jws,
)


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_keys_are_written_private_and_never_overwritten(tmp_path: Path) -> None:
    priv, pub = generate_key(tmp_path, "k")
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in priv.read_bytes() and b"PUBLIC KEY" in pub.read_bytes()
    with pytest.raises(SignatureError):
        generate_key(tmp_path, "k")


def test_rfc8037_test_vector_public_key_and_thumbprint() -> None:
    # RFC 8037 Appendix A.1-A.3: the Ed25519 public key and its RFC 7638 thumbprint
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(_unb64(x))
    assert jwk(key)["x"] == x
    assert jwk(key)["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_signature_vector_verifies() -> None:
    # RFC 8037 Appendix A.4: JWS of "Example of Ed25519 signing" with header {"alg":"EdDSA"}
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(_unb64(x))
    token = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
             "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
    h, p, s = token.split(".")
    key.verify(_unb64(s), f"{h}.{p}".encode())  # the independent check accepts RFC's vector
    with pytest.raises(SignatureError):  # our verifier wants a JSON object payload, which the RFC's is not
        verify_jws(token, [key])


def test_sign_and_verify_independently(tmp_path: Path) -> None:
    priv, pub = generate_key(tmp_path)
    key = load_private_key(priv)
    token = sign_jws({"seq": 7, "chain_hash": "ab" * 32}, key)
    header, payload = verify_jws(token, load_public_key(pub))
    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"} and payload["seq"] == 7
    h, p, s = token.split(".")
    spki = serialization.load_pem_public_key(pub.read_bytes())
    assert isinstance(spki, Ed25519PublicKey)
    spki.verify(_unb64(s), f"{h}.{p}".encode("ascii"))  # no lichain code in this check
    assert json.loads(_unb64(p)) == {"chain_hash": "ab" * 32, "seq": 7}
    jwks_file = tmp_path / "keys.json"
    jwks_file.write_text(json.dumps(jwks([key.public])), encoding="utf-8")
    assert verify_jws(token, load_public_key(jwks_file))[1]["seq"] == 7


def test_every_changed_byte_fails(tmp_path: Path) -> None:
    priv, pub = generate_key(tmp_path)
    token = sign_jws({"seq": 7}, load_private_key(priv))
    keys = load_public_key(pub)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, c in enumerate(token):
        if c == ".":
            continue
        bad = token[:i] + alphabet[(alphabet.index(c) + 1) % 64] + token[i + 1:]
        try:
            verify_jws(bad, keys)
        except SignatureError:
            continue
        # base64url's last character may carry unused bits: then the decoded bytes are unchanged
        assert [_unb64(x) for x in bad.split(".")] == [_unb64(x) for x in token.split(".")]


def test_another_key_does_not_verify(tmp_path: Path) -> None:
    a, _ = generate_key(tmp_path, "a")
    _, b_pub = generate_key(tmp_path, "b")
    with pytest.raises(SignatureError):
        verify_jws(sign_jws({"seq": 1}, load_private_key(a)), load_public_key(b_pub))
