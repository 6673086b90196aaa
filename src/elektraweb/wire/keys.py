"""CURVE identities: keypairs kept in a state directory, public keys as z85 text.

Key files use ZeroMQ's certificate format (as czmq's zcert and pyzmq's zmq.auth write it):
`NAME.key` holds the public key, `NAME.key_secret` both keys; both are created mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
import zmq.utils.z85

_Z85_KEY_CHARS = 40
_CERT_LINE = re.compile(r'^\s*(public|secret)-key\s*=\s*"([^"]{40})"\s*$', re.MULTILINE)


def _check_z85_key(text: str) -> str:
    if len(text) != _Z85_KEY_CHARS:
        raise ValueError(f"a CURVE key is {_Z85_KEY_CHARS} z85 characters, got {len(text)}")
    try:
        decoded = zmq.utils.z85.decode(text)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{text!r} is not z85 text ({error})") from None
    if len(decoded) != 32:
        raise ValueError(f"{text!r} does not decode to a 32-byte CURVE key")
    return text


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A CURVE keypair as z85 text; `public` is what peers pin and allow."""

    public: str
    secret: str = field(repr=False)

    @classmethod
    def generate(cls) -> KeyPair:
        public, secret = zmq.curve_keypair()
        return cls(public.decode("ascii"), secret.decode("ascii"))

    @classmethod
    def from_secret(cls, secret: str) -> KeyPair:
        _check_z85_key(secret)
        return cls(zmq.curve_public(secret.encode("ascii")).decode("ascii"), secret)

    def configure_server(self, socket: zmq.Socket[Any]) -> None:
        """Make `socket` a CURVE server with this identity (before bind)."""
        socket.curve_secretkey = self.secret.encode("ascii")
        socket.curve_publickey = self.public.encode("ascii")
        socket.curve_server = True

    def configure_client(self, socket: zmq.Socket[Any], server_key: str) -> None:
        """Make `socket` a CURVE client that only talks to `server_key` (before connect)."""
        socket.curve_secretkey = self.secret.encode("ascii")
        socket.curve_publickey = self.public.encode("ascii")
        socket.curve_serverkey = _check_z85_key(server_key).encode("ascii")


def _certificate(keypair: KeyPair, *, with_secret: bool) -> str:
    lines = [
        "#   ****  CURVE certificate, written by elektra-web  ****",
        "#   ZeroMQ certificate format (ZPL); keep the _secret file private.",
        "metadata",
        "curve",
        f'    public-key = "{keypair.public}"',
    ]
    if with_secret:
        lines.append(f'    secret-key = "{keypair.secret}"')
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write `path` with mode 0600, atomically; without `replace`, never over an existing file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if another process created it first
    finally:
        Path(temporary).unlink(missing_ok=True)


def ensure_keypair(state_dir: str | os.PathLike[str], name: str = "curve") -> KeyPair:
    """Load the keypair `NAME.key_secret` in `state_dir`, creating it (and the dir) first if needed.

    Safe against two processes starting at once: both end up with the same keypair.
    """
    directory = Path(state_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret_file = directory / f"{name}.key_secret"
    if not secret_file.exists():
        generated = KeyPair.generate()
        # Another process may have won the race; then its keypair is the one.
        with contextlib.suppress(FileExistsError):
            _write_private(secret_file, _certificate(generated, with_secret=True), replace=False)
    keypair = load_keypair(secret_file)
    public_file = directory / f"{name}.key"
    wanted = _certificate(keypair, with_secret=False)
    if not public_file.exists() or public_file.read_text(encoding="ascii") != wanted:
        _write_private(public_file, wanted, replace=True)
    return keypair


def write_public_key(path: str | os.PathLike[str], public_key: str) -> None:
    """Keep another daemon's public key in `path` (mode 0600, atomically) as a certificate
    `load_public_key` reads; refuses (FileExistsError) to replace an existing file."""
    pinned = KeyPair(_check_z85_key(public_key), "")
    _write_private(Path(path), _certificate(pinned, with_secret=False), replace=False)


def load_keypair(secret_file: str | os.PathLike[str]) -> KeyPair:
    """Read a keypair from a `.key_secret` certificate file."""
    text = Path(secret_file).read_text(encoding="ascii")
    keys = dict(_CERT_LINE.findall(text))
    if "secret" not in keys:
        raise ValueError(f"{os.fspath(secret_file)}: no secret-key line")
    keypair = KeyPair.from_secret(keys["secret"])
    if keys.get("public", keypair.public) != keypair.public:
        raise ValueError(f"{os.fspath(secret_file)}: public-key does not match secret-key")
    return keypair


def load_public_key(key_or_file: str | os.PathLike[str]) -> str:
    """A z85 public key given as the key itself or as a file holding it.

    The file may be a ZeroMQ certificate (`public-key = "..."`) or contain just the key.
    """
    if isinstance(key_or_file, str) and len(key_or_file.strip()) == _Z85_KEY_CHARS:
        candidate = key_or_file.strip()
        if not Path(candidate).exists():
            try:
                return _check_z85_key(candidate)
            except ValueError as error:
                raise ValueError(f"{candidate!r} is not a CURVE public key: {error}") from None
    path = Path(key_or_file)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{os.fspath(key_or_file)!r} is neither a z85 CURVE public key nor a readable key"
            f" file ({error})"
        ) from None
    keys = dict(_CERT_LINE.findall(text))
    candidate = keys.get("public", text.strip())
    try:
        return _check_z85_key(candidate)
    except ValueError as error:
        raise ValueError(f"{path}: no CURVE public key in it ({error})") from None
