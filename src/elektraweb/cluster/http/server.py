"""clusterd's lifecycle: open the state, create the first admin, serve HTTP, stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from elektraweb.cluster.config import ADMIN_PASSWORD_ENV, Config
from elektraweb.cluster.http.connections import (
    ConnectionLimits,
    GuardedSite,
    count_accept_errors,
    raise_descriptor_limit,
)
from elektraweb.cluster.http.rest import create_app
from elektraweb.cluster.instances.gateway import InstanceGateway
from elektraweb.cluster.services import ClusterServiceFactory, Extension, Services
from elektraweb.cluster.store.errors import InvalidField, RecordConflict
from elektraweb.web.assets import check_web_client

log = logging.getLogger("elektraweb.cluster")

ADMIN_USER = "admin"

StartedCallback = Callable[["Server"], None]
ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


async def ensure_admin(services: Services) -> None:
    """On first start (no users yet) create `admin`. Its password comes from the config, else
    from CLUSTERD_ADMIN_PASSWORD, else it is generated and printed once to stdout, never
    logged."""
    if not services.users.is_empty():
        return
    password = services.config.admin_password or os.environ.get(ADMIN_PASSWORD_ENV)
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(12)
    try:
        await services.users.add(ADMIN_USER, password, "admin")
    except InvalidField as error:
        raise ValueError(f"the first admin's password is unusable: {error.message}") from None
    except RecordConflict:  # a replica starting beside this one on the same database made it
        return
    services.audit.record(
        user="clusterd",
        action="user.add",
        target_type="user",
        target_id=ADMIN_USER,
        after={"name": ADMIN_USER, "role": "admin"},
        result={"ok": True, "first_start": True},
    )
    if generated:
        print(f"clusterd: created user {ADMIN_USER!r} with password {password}", flush=True)
    log.info("created user %r (first start)", ADMIN_USER)


class Server:
    """One clusterd. The server owns `gateway` from construction on and closes it in `stop`.

    Once it listens it announces so in one start line: by calling `on_started` with itself, or,
    without one, by logging `clusterd listening on URL (state DIR)` at INFO.
    """

    def __init__(
        self,
        config: Config,
        *,
        gateway: InstanceGateway,
        cluster_service: ClusterServiceFactory | None = None,
        extensions: Sequence[Extension] = (),
        on_started: StartedCallback | None = None,
    ) -> None:
        self.config = config
        self._gateway = gateway
        self._cluster_service = cluster_service
        self._extensions = extensions
        self._on_started = on_started
        self._runner: web.AppRunner | None = None
        self._limits: ConnectionLimits | None = None
        self._exception_handler: ExceptionHandler | None = None
        self.services: Services | None = None
        self.app: web.Application | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("clusterd is not running")
        host = self.config.http_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def start(self) -> None:
        check_web_client(self.config.web_root)  # before anything is opened: nothing to undo
        services = Services.open(self.config, self._gateway, self._cluster_service)
        self.services = services
        try:
            await ensure_admin(services)
            await services.users.absent_hash()
            self.app = create_app(services, self._extensions)
            self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
            await self._runner.setup()
            self._limits = ConnectionLimits(self.config.connections, raise_descriptor_limit())
            loop = asyncio.get_running_loop()
            self._exception_handler = loop.get_exception_handler()
            loop.set_exception_handler(count_accept_errors(self._limits.counted_log))
            site = GuardedSite(
                self._runner, self.config.http_host, self.config.http_port, self._limits
            )
            await site.start()
        except BaseException:
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]
        if self._on_started is None:
            log.info("clusterd listening on %s (state %s)", self.url, self.config.state_dir)
        else:
            self._on_started(self)

    async def stop(self) -> None:
        """Stop serving (finishing requests in flight), close the links and the database."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._limits is not None:
            self._limits.close_idle()
            asyncio.get_running_loop().set_exception_handler(self._exception_handler)
            self._limits = None
        await self._gateway.close()
        if self.services is not None:
            self.services.database.close()
            self.services = None
        self.port = None


async def run(server: Server) -> None:
    """Run `server` until SIGTERM or SIGINT, then stop it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
        await stop.wait()
        log.info("clusterd stopping")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await server.stop()
