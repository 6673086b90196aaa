"""Every change is published: through elektrad, and behind its back on the host."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator

import pytest

from elektraweb.operations.bulk import COALESCE_ABOVE
from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.messages import KeyState
from elektraweb.wire.subscriber import EventSubscriber

from .conftest import EVENT_TIMEOUT, Daemon, next_event, next_subtree_event, subscribed

BULK = COALESCE_ABOVE * 3


def ini_of(count: int) -> str:
    return "".join(f"k{index:03d} = {index}\n" for index in range(count))


@contextlib.asynccontextmanager
async def following(
    daemon: Daemon, link: ZmqTransport, area: str
) -> AsyncIterator[EventSubscriber]:
    """The daemon's events in `area`, once the subscription is live."""
    async with daemon.subscriber(area) as events:
        await subscribed(link, events, area)
        yield events


async def nothing_else_before(
    link: ZmqTransport, events: EventSubscriber, area: str, value: str
) -> None:
    """The next event is the probe this writes: nothing was published key by key meanwhile."""
    await link.request("set", {"key": f"{area}/probe", "value": value})
    event = await asyncio.wait_for(events.receive(), EVENT_TIMEOUT)
    assert (event.key, getattr(event, "new", None)) == (f"{area}/probe", KeyState(value, {}))


async def test_writes_through_elektrad_are_published(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    area = "user:/events/daemon"
    async with shared_daemon.subscriber(area) as events:
        await subscribed(link, events, area)
        created = await link.request(
            "set", {"key": f"{area}/a", "value": "1", "meta": {"description": "d"}}
        )
        event = await next_event(events, f"{area}/a")
        assert event.old is None
        assert event.new is not None and event.new.value == "1"
        assert event.new.meta == {"description": "d"}
        assert event.revision == created["revision"]
        assert event.origin == "elektrad"
        await link.request("set", {"key": f"{area}/a", "value": "2", "cluster": "c7"})
        changed = await next_event(events, f"{area}/a")
        assert changed.origin == "cluster:c7"
        assert changed.old is not None and changed.old.value == "1"
        assert changed.seq > event.seq
        await link.request("rm", {"key": f"{area}/a"})
        removed = await next_event(events, f"{area}/a")
        assert removed.new is None and removed.revision is None


async def test_kdb_set_on_the_host_is_published(link: ZmqTransport, daemon: Daemon) -> None:
    area = "user:/events/outside"
    async with daemon.transport() as own, daemon.subscriber(area) as events:
        await subscribed(own, events, area)
        done = await asyncio.to_thread(daemon.kdb, "set", f"{area}/by-hand", "typed")
        assert done.returncode == 0, done.stderr
        event = await next_event(events, f"{area}/by-hand")
        assert event.origin == "external"
        assert event.old is None
        assert event.new is not None and event.new.value == "typed"
        # The daemon sees the change too, and its own next write is no conflict.
        await own.request("set", {"key": f"{area}/by-hand", "value": "again"})
        assert (await next_event(events, f"{area}/by-hand")).origin == "elektrad"


@pytest.mark.parametrize("pause", [0.0, 0.5], ids=["quick", "slow"])
async def test_editing_a_mounted_file_is_published(daemon: Daemon, pause: float) -> None:
    done = daemon.kdb("mount", "app.ini", "system:/app", "ini")
    assert done.returncode == 0, done.stderr
    file = daemon.root / "system" / "app.ini"
    async with daemon.transport() as own, daemon.subscriber("system:/app") as events:
        # The first write makes the directory: the feed starts watching it, and looks at
        # every file then, while the editor below may be at it.
        await own.request("set", {"key": "system:/app/color", "value": "red"})
        await subscribed(own, events, "system:/app")
        text = file.read_text()
        assert "red" in text

        def save_in_place() -> None:
            with file.open("r+") as editor:
                editor.truncate()
                time.sleep(pause)  # an editor slow to fill the file again
                editor.write(text.replace("red", "blue"))

        await asyncio.to_thread(save_in_place)
        event = await next_event(events, "system:/app/color")
        assert event.origin == "external"
        assert event.old is not None and event.old.value == "red"
        assert event.new is not None and event.new.value == "blue"


async def test_a_config_directory_removed_and_made_again_is_followed(daemon: Daemon) -> None:
    async with daemon.transport() as own, daemon.subscriber("user:/") as events:
        await subscribed(own, events, "user:/again")
        await asyncio.to_thread(shutil.rmtree, daemon.root / "user")
        removed = await next_event(events, "user:/again/probe")
        assert removed.new is None and removed.origin == "external"
        done = await asyncio.to_thread(daemon.kdb, "set", "user:/again/later", "back")
        assert done.returncode == 0, done.stderr
        event = await next_event(events, "user:/again/later")
        assert event.origin == "external"
        assert event.new is not None and event.new.value == "back"


async def test_a_bulk_write_through_elektrad_is_one_event_per_subtree(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    area = "user:/events/bulk"
    async with following(shared_daemon, link, area) as events:
        imported = await link.request(
            "import", {"key": f"{area}/in", "format": "ini", "data": ini_of(BULK)}
        )
        assert imported["written"] == BULK
        event = await next_subtree_event(events, f"{area}/in")
        assert (event.created, event.changed, event.removed) == (BULK, 0, 0)
        assert event.origin == "elektrad"
        await nothing_else_before(link, events, area, "after import")
        await link.request("rm", {"key": f"{area}/in", "recursive": True, "cluster": "c2"})
        removed = await next_subtree_event(events, f"{area}/in")
        assert (removed.created, removed.changed, removed.removed) == (0, 0, BULK)
        assert removed.origin == "cluster:c2" and removed.seq > event.seq
        await nothing_else_before(link, events, area, "after rm")


async def test_a_few_keys_written_at_once_are_still_published_one_by_one(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    area = "user:/events/few"
    async with following(shared_daemon, link, area) as events:
        data = ini_of(COALESCE_ABOVE)
        await link.request("import", {"key": f"{area}/in", "format": "ini", "data": data})
        for index in range(COALESCE_ABOVE):
            event = await next_event(events, f"{area}/in/k{index:03d}")
            assert event.new == KeyState(str(index), {})


async def test_a_bulk_kdb_import_on_the_host_is_one_event(daemon: Daemon) -> None:
    area = "user:/events/host"
    async with daemon.transport() as own, following(daemon, own, area) as events:
        done = await asyncio.to_thread(
            daemon.kdb, "import", f"{area}/in", "ini", stdin=ini_of(BULK)
        )
        assert done.returncode == 0, done.stderr
        event = await next_subtree_event(events, f"{area}/in")
        assert (event.created, event.changed, event.removed) == (BULK, 0, 0)
        assert event.origin == "external"
        await nothing_else_before(own, events, area, "after kdb import")
