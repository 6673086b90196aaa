"""elektrad's configuration: where it listens, who may talk to it, where it keeps its state."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from elektraweb.instance.elektra_notify import check_notify_endpoint
from elektraweb.kdb.search import DEFAULT_SEARCH_LIMITS, SearchLimits
from elektraweb.wire.keys import load_public_key

DEFAULT_HOST = "*"  # every interface: only allowed CURVE keys get in (docs/protocol.md §1)
DEFAULT_REQUEST_PORT = 33333
DEFAULT_EVENT_PORT = 33335
DEFAULT_STATE_DIR = Path("/var/lib/elektrad")

_ENDPOINT = re.compile(r"tcp://(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\s]+):(?P<port>\d{1,5})")


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the option and value."""


@dataclass(frozen=True)
class Config:
    """Everything elektrad needs to start. Build it with :meth:`Config.build` from raw options."""

    listen: str
    events: str
    state_dir: Path
    allowed_keys: tuple[str, ...]
    kdb_root: Path | None = None
    elektra_notify: str | None = None  # libelektra's feed (instance/elektra_notify.py)
    mount_dirs: tuple[Path, ...] = ()  # real paths; none: remote mounting is off
    search: SearchLimits = DEFAULT_SEARCH_LIMITS

    @classmethod
    def build(
        cls,
        *,
        listen: str | None = None,
        events: str | None = None,
        state_dir: str | Path | None = None,
        allow_keys: Iterable[str] = (),
        mount_dirs: Iterable[str | Path] = (),
        environ: Mapping[str, str] | None = None,
        elektra_notify: str | None = None,
        elektra_notify_remote: bool = False,
        search: SearchLimits | None = None,
    ) -> Config:
        """Resolve defaults and validate: endpoints, state dir, and the allowed client keys.

        ``allow_keys`` holds Z85 public keys or names of files listing them; ``mount_dirs``
        the directories whose files remote mounts may reach.
        """
        env = os.environ if environ is None else environ
        kdb_root = Path(env["KDB_ROOT"]) if env.get("KDB_ROOT") else None
        default_listen = f"tcp://{DEFAULT_HOST}:{DEFAULT_REQUEST_PORT}"
        listen = check_endpoint(listen or default_listen, "--listen")
        if events is None:
            events = derived_event_endpoint(listen)
        else:
            events = check_endpoint(events, "--events")
        if events == listen and not listen.endswith(":0"):
            raise ConfigError(f"--events {events} must differ from --listen {listen}")
        return cls(
            listen=listen,
            events=events,
            state_dir=Path(state_dir) if state_dir else default_state_dir(env),
            allowed_keys=read_allowed_keys(allow_keys),
            kdb_root=kdb_root,
            elektra_notify=_notify_endpoint(elektra_notify, elektra_notify_remote),
            mount_dirs=read_mount_dirs(mount_dirs),
            search=search or DEFAULT_SEARCH_LIMITS,
        )


def _notify_endpoint(endpoint: str | None, remote: bool) -> str | None:
    if endpoint is None:
        if remote:
            raise ConfigError("--elektra-notify-remote needs --elektra-notify")
        return None
    try:
        return check_notify_endpoint(endpoint, remote=remote)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def default_state_dir(environ: Mapping[str, str]) -> Path:
    """``$KDB_ROOT/elektrad`` when KDB_ROOT relocates the KDB, else ``/var/lib/elektrad``."""
    root = environ.get("KDB_ROOT")
    return Path(root) / "elektrad" if root else DEFAULT_STATE_DIR


def check_endpoint(endpoint: str, option: str) -> str:
    """Accept ``tcp://HOST:PORT`` (a bare ``HOST:PORT`` gets the ``tcp://``)."""
    candidate = endpoint if "://" in endpoint else f"tcp://{endpoint}"
    match = _ENDPOINT.fullmatch(candidate)
    if match is None or not 0 <= int(match["port"]) < 65536:
        raise ConfigError(f"{option} {endpoint!r} is not an endpoint like tcp://127.0.0.1:33333")
    return candidate


def derived_event_endpoint(listen: str) -> str:
    """The event endpoint beside a request endpoint: same host, port + 2 (33333 → 33335);
    port 0 (any free port) stays 0."""
    match = _ENDPOINT.fullmatch(listen)
    assert match is not None, listen
    port = int(match["port"])
    if port:
        port += DEFAULT_EVENT_PORT - DEFAULT_REQUEST_PORT
    if port >= 65536:
        raise ConfigError(f"--listen {listen} leaves no port for events: give --events")
    return f"tcp://{match['host']}:{port}"


def announced_events(requests: str, events: str) -> dict[str, str | int]:
    """Where clients find the event socket, as ``version`` reports it (docs/protocol.md §4):
    ``{"port"}`` when it listens on every interface or on the address of the request socket
    (clients then use the host they reach requests on), else ``{"host", "port"}``.

    ``requests`` and ``events`` are the endpoints as bound (ports resolved)."""
    request_host = _bound(requests)[0]
    host, port = _bound(events)
    if host in _EVERY_INTERFACE or host == request_host:
        return {"port": port}
    return {"host": host, "port": port}


_EVERY_INTERFACE = frozenset({"*", "0.0.0.0", "[::]"})


def _bound(endpoint: str) -> tuple[str, int]:
    match = _ENDPOINT.fullmatch(endpoint)
    if match is None:
        raise ValueError(f"{endpoint!r} is no tcp://HOST:PORT endpoint")
    return match["host"], int(match["port"])


def read_mount_dirs(folders: Iterable[str | Path]) -> tuple[Path, ...]:
    """Each ``--mount-dir`` as its real path (symlinks and ``..`` resolved), which must be an
    existing directory other than ``/``."""
    resolved: list[Path] = []
    for folder in folders:
        real = Path(os.path.realpath(folder))
        if not real.is_dir():
            raise ConfigError(f"--mount-dir {folder}: no such directory")
        if real == Path("/"):
            raise ConfigError(f"--mount-dir {folder}: / would allow every file on the host")
        resolved.append(real)
    return tuple(dict.fromkeys(resolved))


def read_allowed_keys(sources: Iterable[str]) -> tuple[str, ...]:
    """Z85 public keys from ``sources``: each a key itself or a file holding one (the output
    of ``clusterd --show-key`` or clusterd's ``curve.key`` certificate)."""
    keys: list[str] = []
    for source in sources:
        try:
            keys.append(load_public_key(source))
        except ValueError as error:
            raise ConfigError(f"--allow-key: {error}") from None
    return tuple(dict.fromkeys(keys))
