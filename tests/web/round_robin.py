"""A round-robin load balancer in front of clusterd replicas, as an operator would put one:
HTTP requests and WebSockets (`/zmq`, `/zmq/events`) each go to the next replica, one that
refuses the connection is skipped. It runs on its own event loop in a thread, so the browser
tests (Playwright's synchronous API) can use it, and it records which replica each WebSocket
went to."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import WSMsgType, web

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length",
     "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
     "sec-websocket-protocol", "sec-websocket-accept"}
)  # fmt: skip


@dataclass
class RoundRobin:
    """The balancer's state: the replicas' base URLs, and each WebSocket's (path, replica)."""

    backends: list[str]
    sockets: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _turns: Iterator[int] = field(default_factory=itertools.count)

    def _order(self) -> list[str]:
        start = next(self._turns) % len(self.backends)
        return self.backends[start:] + self.backends[:start]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            for backend in self._order():
                try:
                    if request.headers.get("Upgrade", "").lower() == "websocket":
                        return await self._websocket(request, session, backend, headers)
                    async with session.request(
                        request.method, backend + request.path_qs, headers=headers, data=body,
                        allow_redirects=False,
                    ) as answer:  # fmt: skip
                        content = await answer.read()
                        response = web.Response(status=answer.status, body=content)
                        kept = [  # every Set-Cookie, not just the last
                            (name, text)
                            for name, text in answer.headers.items()
                            if name.lower() not in _HOP_BY_HOP
                        ]
                        response.headers.extend(kept)
                        return response
                except aiohttp.ClientConnectorError:
                    continue  # a replica that is down: the next one
                except aiohttp.ClientError as error:  # it died with the request
                    return web.json_response({"error": {"message": str(error)}}, status=502)
        return web.Response(status=503, text="no replica answers")

    async def _websocket(
        self,
        request: web.Request,
        session: aiohttp.ClientSession,
        backend: str,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        upstream = await session.ws_connect(
            backend.replace("http", "ws", 1) + request.path_qs,
            protocols=("ZWS2.0",),
            headers=headers,
        )
        self.sockets.append((request.path, backend))
        downstream = web.WebSocketResponse(protocols=("ZWS2.0",))
        await downstream.prepare(request)

        async def pump(
            source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
            sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        ) -> None:
            async for message in source:
                if message.type is WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type is WSMsgType.TEXT:
                    await sink.send_str(message.data)
            # A replica that died closed nothing (1006, which no close frame may carry): the
            # browser is told its server went away (1001) and reconnects.
            code = source.close_code
            await sink.close(code=code if code is not None and code not in (1005, 1006) else 1001)

        pumps = [
            asyncio.create_task(pump(upstream, downstream)),
            asyncio.create_task(pump(downstream, upstream)),
        ]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        await upstream.close()
        await downstream.close()
        return downstream


@contextmanager
def running_round_robin() -> Iterator[RoundRobin]:
    """A balancer on a free loopback port (its `url` is known at once; add `backends` later),
    stopped when the block ends."""
    balancer = RoundRobin(backends=[])
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", balancer._handle)
        started = web.AppRunner(app)
        await started.setup()
        site = web.TCPSite(started, "127.0.0.1", 0)
        await site.start()
        port = started.addresses[0][1]
        balancer.url = f"http://127.0.0.1:{port}"
        runner.append(started)
        ready.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, name="round-robin", daemon=True)
    thread.start()
    assert ready.wait(10), "the balancer did not start"
    try:
        yield balancer
    finally:
        asyncio.run_coroutine_threadsafe(runner[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
