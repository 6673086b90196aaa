"""CURVE keypairs in a state directory, and public keys given as text or files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import zmq.auth

from elektraweb.wire import KeyPair, ensure_keypair, load_keypair, load_public_key


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_a_private_keypair_and_later_uses_load_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    keypair = ensure_keypair(state)
    assert mode(state / "curve.key_secret") == 0o600
    assert mode(state / "curve.key") == 0o600
    assert mode(state) == 0o700
    assert ensure_keypair(state) == keypair
    assert len(keypair.public) == 40
    assert keypair.secret not in (state / "curve.key").read_text()


def test_key_files_are_zeromq_certificates(tmp_path: Path) -> None:
    keypair = ensure_keypair(tmp_path, "elektrad")
    public, secret = zmq.auth.load_certificate(tmp_path / "elektrad.key_secret")
    assert (public.decode(), secret.decode() if secret else None) == (
        keypair.public,
        keypair.secret,
    )
    public_only, _ = zmq.auth.load_certificate(tmp_path / "elektrad.key")
    assert public_only.decode() == keypair.public


def test_repr_never_shows_the_secret() -> None:
    keypair = KeyPair.generate()
    assert keypair.secret not in repr(keypair)


def test_public_key_from_text_certificate_or_bare_file(tmp_path: Path) -> None:
    keypair = ensure_keypair(tmp_path)
    bare = tmp_path / "clusterd.pub"
    bare.write_text(keypair.public + "\n")
    assert load_public_key(keypair.public) == keypair.public
    assert load_public_key(f"  {keypair.public}\n") == keypair.public
    assert load_public_key(str(tmp_path / "curve.key")) == keypair.public
    assert load_public_key(tmp_path / "curve.key_secret") == keypair.public
    assert load_public_key(bare) == keypair.public


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("not-a-key", "neither a z85 CURVE public key nor a readable key file"),
        ("~" * 40, "is not a CURVE public key"),
    ],
)
def test_bad_public_key_is_refused_with_the_reason(given: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        load_public_key(given)


def test_file_without_a_key_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.key"
    junk.write_text("hello\n")
    with pytest.raises(ValueError, match=r"junk\.key: no CURVE public key"):
        load_public_key(junk)


def test_tampered_secret_file_is_refused(tmp_path: Path) -> None:
    ensure_keypair(tmp_path)
    other = KeyPair.generate()
    secret_file = tmp_path / "curve.key_secret"
    text = secret_file.read_text()
    public_line = next(line for line in text.splitlines() if "public-key" in line)
    secret_file.write_text(text.replace(public_line, f'    public-key = "{other.public}"'))
    with pytest.raises(ValueError, match="does not match"):
        load_keypair(secret_file)
