"""clusterd's settings: one dataclass, filled by the command line or by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elektraweb.cluster.api.login_throttle import ThrottleSettings
from elektraweb.cluster.events.hub import DEFAULT_QUEUE_LIMIT
from elektraweb.cluster.http.connections import ConnectionSettings
from elektraweb.cluster.store import database_url
from elektraweb.kdb.search import DEFAULT_SEARCH_LIMITS, SearchLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 33334
ADMIN_PASSWORD_ENV = "CLUSTERD_ADMIN_PASSWORD"
DATABASE_FILE = "clusterd.sqlite3"
AUDIT_VALUE_LIMIT = 64 * 1024


def default_static_dir() -> Path:
    """The web client shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "web" / "static"


@dataclass(frozen=True)
class Config:
    """Everything clusterd needs to start; defaults are safe for a single machine."""

    state_dir: Path
    database_url: str | None = None
    """Where the registry, users, sessions, tokens, cluster state and audit log live: a
    ``postgresql://USER:PASSWORD@HOST:PORT/NAME`` URL (any number of clusterd replicas may
    share it) or ``sqlite:///PATH``; None: the SQLite file `database_path` in the state dir."""
    http_host: str = DEFAULT_HOST
    http_port: int = DEFAULT_PORT
    admin_password: str | None = None
    """Password of the first `admin` user; only used when the user table is empty. When None,
    the environment variable CLUSTERD_ADMIN_PASSWORD is used, else one is generated."""
    allowed_origins: tuple[str, ...] = ()
    """Origins (``https://host:port``) besides clusterd's own that may send cookie-authenticated
    writes and open WebSockets, e.g. the public address of a reverse proxy."""
    session_seconds: int = 12 * 3600
    instance_timeout: float = 5.0
    """Deadline of one request to an instance, passed to the gateway."""
    subtree_write_timeout: float = 120.0
    """Deadline of a request to an instance that may write a whole subtree (`import`, `set-all`,
    `mv`, `cp`, `rm`): a 20k-key import into a 100k-key file takes seconds, not milliseconds."""
    max_body_bytes: int = 16 * 1024 * 1024
    """Largest HTTP request body; matches the daemon link's message limit."""
    audit_value_limit: int = AUDIT_VALUE_LIMIT
    """Bytes of JSON text up to which the audit log keeps a value (before, after, arguments);
    a larger one is kept as its size and SHA-256."""
    static_dir: Path | None = None
    """Directory served at `/`; None serves the web client shipped in the package."""
    connections: ConnectionSettings = field(default_factory=ConnectionSettings)
    """Connection caps and header/body deadlines of the HTTP listener (docs/security.md §4)."""
    login_throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    """When failed logins lock a user name or a client address out (docs/security.md §6)."""
    search: SearchLimits = DEFAULT_SEARCH_LIMITS
    """How far one cluster `find` may go (it runs off the event loop)."""
    replica_id: str | None = None
    """This replica's name among those on `shared_database_url`, as its leases and logs show it;
    None: a random one for each start."""
    event_queue_limit: int = DEFAULT_QUEUE_LIMIT
    """Events queued per `/zmq/events` connection; a subscriber that falls further behind
    is sent one `resync` event instead (docs/websocket.md, Slow subscribers)."""

    @property
    def database_path(self) -> Path:
        return self.state_dir / DATABASE_FILE

    @property
    def database(self) -> Path | str:
        """The database to open: `database_url`, else the state dir's SQLite file."""
        return self.database_url if self.database_url is not None else self.database_path

    @property
    def shared_database_url(self) -> str | None:
        """The PostgreSQL database this clusterd shares with its replicas, which coordinate
        through it too (`cluster.replicas`: leases and events); None: a SQLite file, one
        clusterd alone on it."""
        return self.database_url if database_url.is_url(self.database_url) else None

    @property
    def audit_export_dir(self) -> Path:
        """Where retentions write the audit entries they drop (docs/security.md §9)."""
        return self.state_dir / "audit-exports"

    @property
    def web_root(self) -> Path:
        return self.static_dir if self.static_dir is not None else default_static_dir()
