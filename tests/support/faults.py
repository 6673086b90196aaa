"""Failure injection at the transport seam: links that refuse, stay silent, lag or lose replies.

`FaultyTransport` wraps any `Transport` and consults the `Faults` of the daemon it reaches on
every request, so a test flips a fault and the next request meets it, as the gateway would
meet a host that went down, hung or dropped a reply:

    daemon.faults.unreachable = True     # the link goes offline; requests are refused
    daemon.faults.silent = True          # requests arrive, no reply: the deadline passes
    daemon.faults.delay = 0.2            # each request waits before it reaches the daemon
    daemon.faults.lose_replies = True    # the daemon applies the request, the reply is lost
    daemon.faults.before = hook          # each request first awaits hook(op): hold it there
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elektraweb.wire import ClientOptions, TimedOut, Transport, Unreachable

REFUSED = "connection refused"


@dataclass
class Faults:
    """How the links to one daemon fail. Setting `unreachable` takes every open link offline
    (or back online) at once, as the socket monitor reports a peer that went away."""

    silent: bool = False
    delay: float = 0.0
    lose_replies: bool = False
    before: Callable[[str], Awaitable[None]] | None = None
    refusal: str = REFUSED
    _unreachable: bool = False
    listeners: list[Callable[[bool], None]] = field(default_factory=list, repr=False)

    @property
    def unreachable(self) -> bool:
        return self._unreachable

    @unreachable.setter
    def unreachable(self, value: bool) -> None:
        self._unreachable = value
        for listener in list(self.listeners):
            listener(value)


@dataclass(frozen=True)
class Call:
    """One request that a transport carried to its daemon (not the link's pings and versions)."""

    endpoint: str
    op: str
    args: dict[str, Any]


HOUSEKEEPING = ("ping", "version")


class FaultyTransport:
    """`inner` as the gateway sees it through `faults`; each request is logged in `calls`."""

    def __init__(
        self,
        inner: Transport,
        faults: Faults,
        *,
        endpoint: str,
        options: ClientOptions,
        calls: list[Call],
    ) -> None:
        self.endpoint = endpoint
        self.status = inner.status
        self.closed = False
        self._inner = inner
        self._faults = faults
        self._options = options
        self._calls = calls
        faults.listeners.append(self._reachability_changed)

    async def start(self) -> None:
        if self._faults.unreachable:
            self.status.mark_offline(self._faults.refusal)
        else:
            await self._inner.start()

    async def request(
        self,
        op: str,
        args: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> Any:
        if op not in HOUSEKEEPING:
            self._calls.append(Call(self.endpoint, op, dict(args or {})))
        faults = self._faults
        if faults.unreachable or self.closed:
            raise Unreachable(f"cannot send {op} to {self.endpoint}: {self._faults.refusal}")
        if faults.before is not None:
            await faults.before(op)
        if faults.delay:
            await asyncio.sleep(faults.delay)
        if faults.silent:
            # The whole deadline passes, every attempt of it, as it does with a hung daemon.
            attempts = 1 + (self._options.retries if retries is None else retries)
            await asyncio.sleep(attempts * (self._options.timeout if timeout is None else timeout))
            raise TimedOut(f"no reply to {op} from {self.endpoint} after {attempts} attempts")
        result = await self._inner.request(op, args, timeout=timeout, retries=retries)
        if faults.lose_replies:
            raise TimedOut(f"no reply to {op} from {self.endpoint}: the reply was lost")
        return result

    async def close(self) -> None:
        self.closed = True
        if self._reachability_changed in self._faults.listeners:
            self._faults.listeners.remove(self._reachability_changed)
        await self._inner.close()

    def _reachability_changed(self, unreachable: bool) -> None:
        if unreachable:
            self.status.mark_offline(self._faults.refusal)
        else:
            self.status.mark_online()
