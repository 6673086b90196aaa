"""Typed calls of elektrad's operations (docs/protocol.md §4) over any `Transport`.

Results are returned as the JSON the protocol specifies; errors raise `RemoteError` (an error
reply) or `LinkError` (no reply).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from enum import Enum
from typing import Any, Literal

from elektraweb.wire.messages import ErrorCode, RemoteError
from elektraweb.wire.transport import Transport

Format = Literal["dump", "ini", "json", "yaml", "toml"]
ImportStrategy = Literal["replace", "overwrite", "preserve"]


class Expect(Enum):
    """Compare-and-set conditions besides a revision string."""

    ANY = "any"  # no check
    ABSENT = "absent"  # the key must not exist


def _optional(**args: Any) -> dict[str, Any]:
    return {name: value for name, value in args.items() if value is not None}


def _write(args: dict[str, Any], expect: str | Expect, cluster: str | None) -> dict[str, Any]:
    if expect is Expect.ABSENT:
        args["expect"] = None
    elif isinstance(expect, str):
        args["expect"] = expect
    if cluster is not None:
        args["cluster"] = cluster
    return args


class InstanceClient:
    """One elektrad, spoken to through `transport` (a `ZmqTransport` or `InProcessTransport`).

    Writes take `expect` (a revision from `get`, or `Expect.ABSENT`) for compare-and-set and
    `cluster` to write as that cluster (allowed on keys it locked).
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def _call(
        self, op: str, args: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        result = await self.transport.request(op, args, timeout=timeout)
        if not isinstance(result, dict):
            raise RemoteError(ErrorCode.INTERNAL, f"{op} answered {result!r}, not an object")
        return result

    async def version(self) -> dict[str, Any]:
        return await self._call("version", {})

    async def ping(self) -> dict[str, Any]:
        return await self._call("ping", {})

    async def mounts(self) -> list[dict[str, Any]]:
        return list((await self._call("mounts", {}))["mounts"])

    async def mount(self, mountpoint: str, path: str, format: str | None = None) -> dict[str, Any]:
        """Mount ``path`` at ``mountpoint``; the daemon only mounts below its --mount-dir."""
        return await self._call("mount", _optional(mountpoint=mountpoint, path=path, format=format))

    async def umount(self, mountpoint: str) -> dict[str, Any]:
        return await self._call("umount", {"mountpoint": mountpoint})

    async def get(self, key: str, *, depth: int = 0, ls_limit: int | None = None) -> dict[str, Any]:
        return await self._call("get", _optional(key=key, depth=depth, ls_limit=ls_limit))

    async def ls(
        self,
        key: str,
        *,
        depth: int | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        args = _optional(key=key, cursor=cursor, limit=limit)
        args["depth"] = depth
        return await self._call("ls", args)

    async def ls_all(
        self, key: str, *, depth: int | None = None, page: int = 1000
    ) -> AsyncIterator[str]:
        """Every name `ls` lists, fetched page by page."""
        cursor: str | None = None
        while True:
            result = await self.ls(key, depth=depth, cursor=cursor, limit=page)
            for name in result["keys"]:
                yield name
            cursor = result["next"]
            if cursor is None:
                return

    async def set(
        self,
        key: str,
        value: str | None,
        *,
        meta: Mapping[str, str | None] | None = None,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> dict[str, Any]:
        args = _optional(key=key, meta=dict(meta) if meta is not None else None)
        args["value"] = value
        return await self._call("set", _write(args, expect, cluster))

    async def rm(
        self,
        key: str,
        *,
        recursive: bool = False,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> int:
        args = _write({"key": key, "recursive": recursive}, expect, cluster)
        return int((await self._call("rm", args))["removed"])

    async def mv(
        self,
        key: str,
        target: str,
        *,
        recursive: bool = False,
        force: bool = False,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> dict[str, Any]:
        args = {"key": key, "target": target, "recursive": recursive, "force": force}
        return await self._call("mv", _write(args, expect, cluster))

    async def cp(
        self,
        key: str,
        target: str,
        *,
        recursive: bool = False,
        force: bool = False,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> dict[str, Any]:
        args = {"key": key, "target": target, "recursive": recursive, "force": force}
        return await self._call("cp", _write(args, expect, cluster))

    async def meta_set(
        self,
        key: str,
        name: str,
        value: str,
        *,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> dict[str, Any]:
        args = _write({"key": key, "name": name, "value": value}, expect, cluster)
        return await self._call("meta-set", args)

    async def meta_rm(
        self,
        key: str,
        name: str,
        *,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> dict[str, Any]:
        args = _write({"key": key, "name": name}, expect, cluster)
        return await self._call("meta-rm", args)

    async def meta_bulk(
        self,
        key: str,
        meta: Mapping[str, str | None],
        *,
        expect: str | Expect = Expect.ANY,
        cluster: str | None = None,
    ) -> dict[str, Any]:
        args = _write({"key": key, "meta": dict(meta)}, expect, cluster)
        return await self._call("meta-bulk", args)

    async def set_all(
        self,
        key: str,
        keys: Sequence[Mapping[str, Any]],
        *,
        cluster: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        args = _write({"key": key, "keys": [dict(k) for k in keys]}, Expect.ANY, cluster)
        return await self._call("set-all", args, timeout)

    async def find(
        self,
        regex: str,
        *,
        values: bool = False,
        under: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        args = _optional(regex=regex, values=values, under=under, limit=limit)
        return await self._call("find", args)

    async def export(self, key: str, format: Format, *, timeout: float | None = None) -> str:
        result = await self._call("export", {"key": key, "format": format}, timeout)
        return str(result["data"])

    async def import_(
        self,
        key: str,
        format: Format,
        data: str,
        *,
        strategy: ImportStrategy = "preserve",
        cluster: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        args = {"key": key, "format": format, "data": data, "strategy": strategy}
        return await self._call("import", _write(args, Expect.ANY, cluster), timeout)

    async def lock(self, cluster: str, keys: Sequence[str]) -> list[str]:
        result = await self._call("lock", {"cluster": cluster, "keys": list(keys)})
        return list(result["keys"])

    async def unlock(self, cluster: str, keys: Sequence[str] | None = None) -> list[str]:
        args: dict[str, Any] = {"cluster": cluster}
        if keys is not None:
            args["keys"] = list(keys)
        return list((await self._call("unlock", args))["keys"])
