"""elektrad: wires a Config to the KDB, the wire server, the event stream and the change feed.

SIGTERM and SIGINT stop it cleanly: no new requests are taken, requests in progress (writes
included) finish and are answered, queued events are published, then the sockets close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

import zmq
import zmq.asyncio

from elektraweb import daemon_log
from elektraweb.instance.changefeed import ChangeFeed
from elektraweb.instance.config import Config, announced_events
from elektraweb.instance.context import Host
from elektraweb.instance.elektra_notify import ElektraNotifier
from elektraweb.instance.events import EXTERNAL, EventStream
from elektraweb.instance.locks import LockTable
from elektraweb.instance.service import InstanceService
from elektraweb.instance.worker import KDBWorker
from elektraweb.kdb.database import KDB
from elektraweb.systemd_notify import notify_ready
from elektraweb.wire.keys import ensure_keypair
from elektraweb.wire.server import WireServer

logger = logging.getLogger("elektrad")

# How long requests in progress may take to finish once a stop is asked for.
SHUTDOWN_GRACE = 30.0


class Server:
    """One elektrad. ``serve()`` runs until :meth:`stop` (or a signal, see :func:`serve`)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def serve(self) -> None:
        config = self.config
        keypair = ensure_keypair(config.state_dir)
        locks = LockTable(config.state_dir)
        kdb = KDB()
        host = Host(
            kdb,
            locks,
            keypair.public,
            socket.gethostname(),
            mount_dirs=config.mount_dirs,
            search=config.search,
        )
        worker = KDBWorker()
        loop = asyncio.get_running_loop()
        events = EventStream(loop)
        feed = ChangeFeed(kdb, lambda changes: events.submit(changes, EXTERNAL))
        try:
            # Prime before serving, so the first write is already diffed against known keys.
            await worker.run(feed.prime)
            notifier = self._elektra_notifier()
            service = InstanceService(host, worker, feed, events)
            wire = WireServer(
                service,
                keypair=keypair,
                allowed_keys=config.allowed_keys,
                listen=config.listen,
                events=config.events,
            )
            await wire.start()
        except BaseException:
            worker.shutdown()
            raise
        # Before the next await, so before the first request is taken.
        assert wire.events_endpoint is not None
        service.announced_events = announced_events(wire.endpoint, wire.events_endpoint)
        # The start line goes to stdout whatever the log level: scripts wait for it.
        print(
            f"elektrad listening on {wire.endpoint}, events on {wire.events_endpoint}, "
            f"public key {keypair.public}, state {config.state_dir}",
            flush=True,
        )
        notify_ready()
        if config.mount_dirs:
            logger.info("remote mounts allowed below %s", ", ".join(map(str, config.mount_dirs)))
        else:
            logger.info("remote mounting is off (no --mount-dir)")
        publisher = loop.create_task(
            events.run(wire.publish, notifier.commit if notifier else None), name="events"
        )
        watcher = loop.create_task(feed.follow(worker, self._stopping), name="changefeed")
        await self._stopping.wait()
        logger.info("elektrad stopping: finishing requests in progress")
        await watcher
        await wire.stop(grace=SHUTDOWN_GRACE)
        await asyncio.to_thread(worker.shutdown)
        await asyncio.to_thread(service.close)
        events.close()
        await publisher
        if notifier is not None:
            await notifier.close()
        logger.info("elektrad stopped")

    def _elektra_notifier(self) -> ElektraNotifier | None:
        endpoint = self.config.elektra_notify
        if endpoint is None:
            return None
        # Not the wire server's context: this socket speaks no CURVE and must stay out of
        # that context's ZAP handler.
        notifier = ElektraNotifier(zmq.asyncio.Context.instance(), endpoint)
        notifier.start()
        logger.info("elektra-notify: sending libelektra's notifications to %s", endpoint)
        return notifier


def serve(config: Config, *, log_level: str = "INFO") -> int:
    """Run elektrad in the foreground until SIGTERM or SIGINT; returns the exit code."""
    daemon_log.configure(log_level)
    server = Server(config)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.stop)
        await server.serve()

    try:
        asyncio.run(main())
    except zmq.ZMQError as error:
        logger.error("cannot listen on %s / %s: %s", config.listen, config.events, error)
        return 1
    except (OSError, ValueError) as error:
        logger.error("cannot start: %s", error)
        return 1
    return 0
