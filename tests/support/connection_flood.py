"""Hold many idle TCP connections to a loopback server, as a connection-exhaustion attack does.

`Flood` runs it as a script, one process per few thousand connections (a process's open-files
limit); by hand:

    python connection_flood.py HOST PORT FIRST_ADDRESS ADDRESSES PER_ADDRESS

It opens PER_ADDRESS connections from each of ADDRESSES loopback source addresses starting at
FIRST_ADDRESS (127.0.1.1, 127.0.1.2, ...), sends nothing, and prints `opened N`. Then, for each
line `count` on stdin, it prints `closed K`: how many of them the server has closed (or sent
anything on). At the end of stdin, or after `DEADLINE_SECONDS` in any case, it closes them all
and exits. Only loopback targets and sources are accepted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import resource
import selectors
import socket
import sys

DEADLINE_SECONDS = 300.0
FIRST_SOURCE = ipaddress.IPv4Address("127.0.1.1")
CONNECTING_AT_ONCE = 200


def _loopback(address: str) -> ipaddress.IPv4Address:
    parsed = ipaddress.IPv4Address(address)
    if not parsed.is_loopback:
        raise SystemExit(f"connection_flood: {address} is not a loopback address")
    return parsed


async def _open(
    target: tuple[str, int], sources: list[str], per_address: int
) -> list[socket.socket]:
    loop = asyncio.get_running_loop()
    at_once = asyncio.Semaphore(CONNECTING_AT_ONCE)
    opened: list[socket.socket] = []

    async def connect(source: str) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        opened.append(sock)
        sock.setblocking(False)
        sock.bind((source, 0))
        async with at_once:
            await loop.sock_connect(sock, target)

    await asyncio.gather(*(connect(source) for source in sources for _ in range(per_address)))
    return opened


def _closed_by_server(sockets: list[socket.socket]) -> int:
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        return len(selector.select(timeout=0))


class Flood:
    """Helper processes holding `connections` idle connections to `target`, `PER_ADDRESS` from
    each of 127.0.1.1, 127.0.1.2, ...; a few thousand per process, as each may hold only as
    many as its open-files limit allows."""

    PER_ADDRESS = 200

    def __init__(self, target: tuple[str, int], connections: int, patience: float) -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addresses = connections // self.PER_ADDRESS
        addresses_per_process = max(1, min(10_000, hard - 100) // self.PER_ADDRESS)
        self.groups = [
            (first, min(addresses_per_process, self.addresses - first))
            for first in range(0, self.addresses, addresses_per_process)
        ]
        self.target, self.patience = target, patience
        self.processes: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> Flood:
        host, port = self.target
        try:
            for first, count in self.groups:
                source = str(FIRST_SOURCE + first)
                process = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, host, str(port), source, str(count),
                    str(self.PER_ADDRESS),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                self.processes.append(process)
            opened = [await self._line(process) for process in self.processes]
        except BaseException:
            await self._end()
            raise
        assert sum(int(line.split()[1]) for line in opened) == self.addresses * self.PER_ADDRESS
        return self

    async def closed_by_server(self) -> int:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(b"count\n")
        lines = [await self._line(process) for process in self.processes]
        return sum(int(line.split()[1]) for line in lines)

    async def __aexit__(self, *exc: object) -> None:
        assert await self._end() == [0] * len(self.processes)

    async def _end(self) -> list[int]:
        """End of stdin: each process closes its connections and exits (killed if it lingers)."""
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in self.processes:
            try:
                async with asyncio.timeout(self.patience):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        return [process.returncode for process in self.processes if process.returncode is not None]

    async def _line(self, process: asyncio.subprocess.Process) -> str:
        assert process.stdout is not None
        async with asyncio.timeout(self.patience * 4):  # thousands of connects on 2 cores
            return (await process.stdout.readline()).decode()


def main(argv: list[str]) -> int:
    host, port, first, addresses, per_address = argv
    _loopback(host)
    start = _loopback(first)
    sources = [str(start + index) for index in range(int(addresses))]
    for source in sources:
        _loopback(source)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sockets = asyncio.run(_open((host, int(port)), sources, int(per_address)))
    print(f"opened {len(sockets)}", flush=True)
    try:
        with selectors.DefaultSelector() as stdin:
            stdin.register(sys.stdin, selectors.EVENT_READ)
            while stdin.select(timeout=DEADLINE_SECONDS) and (line := sys.stdin.readline()):
                if line.strip() == "count":
                    print(f"closed {_closed_by_server(sockets)}", flush=True)
    finally:
        for sock in sockets:
            sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
