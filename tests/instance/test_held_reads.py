"""A get answered on elektrad's event loop (its view remembered, the KDB worker idle) never
reads a file there: once a file changed from outside, the get goes to the worker, which
parses it, and answers the new value."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from elektraweb.instance.service import InstanceService
from elektraweb.kdb import KDB, Key
from elektraweb.kdb.backend import Backend
from elektraweb.kdb.storage import Document, StorageFormat
from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.messages import Request
from support.inprocess import InProcessElektrad

from .conftest import Daemon

WORKER_THREAD = "kdb"  # elektraweb.instance.worker names its thread so


async def test_a_get_after_an_outside_change_answers_the_new_value(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    key = "user:/held/outside"
    await link.request("set", {"key": key, "value": "ours"})
    for _ in range(3):  # remembered by now, and answered from the view while it holds
        assert (await link.request("get", {"key": key}))["value"] == "ours"

    changed = shared_daemon.kdb("set", key, "changed from outside")
    assert changed.returncode == 0, changed.stderr

    assert (await link.request("get", {"key": key}))["value"] == "changed from outside"


async def test_the_file_changed_from_outside_is_parsed_on_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = await InProcessElektrad(tmp_path, "tcp://127.0.0.1:40001").start()
    try:
        service = daemon.service
        key = "user:/held/parsed"
        await _ask(service, "set", key, "ours")
        assert (await _ask(service, "get", key))["value"] == "ours"
        assert (await _ask(service, "get", key))["value"] == "ours"  # the view is remembered
        outside = KDB(daemon.paths)  # another program on the host
        keys = outside.get("user:/held")
        keys.add(Key(key, "changed from outside"))
        outside.set(keys, "user:/held")
        parsed_on: list[str] = []  # the threads that parse a file from now on
        parse = Backend._parse

        def recording_parse(
            backend: Backend, fmt: StorageFormat, data: bytes, path: Path
        ) -> Document:
            parsed_on.append(threading.current_thread().name)
            return parse(backend, fmt, data, path)

        monkeypatch.setattr(Backend, "_parse", recording_parse)

        assert (await _ask(service, "get", key))["value"] == "changed from outside"
        assert parsed_on and set(parsed_on) == {WORKER_THREAD}
    finally:
        await daemon.stop()


async def _ask(
    service: InstanceService, op: str, key: str, value: str | None = None
) -> dict[str, object]:
    args = {"key": key} if value is None else {"key": key, "value": value}
    reply = await service(Request(f"{op}-{key}".encode(), op, args))
    assert isinstance(reply.result, dict)
    return reply.result
