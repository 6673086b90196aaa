"""Hold many idle TCP connections to a loopback server, as a connection-exhaustion attack does.

Run as a script, one process per few thousand connections (a process's open-files limit):

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
