"""The KDB worker lends the KDB to the event loop only while it is idle, and keeps order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from elektraweb.instance.worker import KDBWorker

WAIT = 15.0  # generous: a loaded machine may be slow to schedule the worker thread


@pytest.fixture
def worker() -> Iterator[KDBWorker]:
    started = KDBWorker()
    yield started
    started.shutdown()


async def test_an_idle_worker_is_held_and_a_job_submitted_meanwhile_runs_after(
    worker: KDBWorker,
) -> None:
    done: list[str] = []
    with worker.hold() as held:
        assert held
        job = asyncio.create_task(worker.run(done.append, "job"))
        # The job is queued; the worker may not start it while the hold lasts.
        await asyncio.sleep(0)
        for _ in range(100):  # give the thread every chance to break the hold
            await asyncio.to_thread(lambda: None)
        done.append("held")
    await asyncio.wait_for(job, WAIT)
    assert done == ["held", "job"]


async def test_a_busy_worker_is_not_held(worker: KDBWorker) -> None:
    running, release = threading.Event(), threading.Event()

    def slow() -> str:
        running.set()
        release.wait(WAIT)
        return "slow done"

    job = asyncio.create_task(worker.run(slow))
    assert await asyncio.to_thread(running.wait, WAIT)
    with worker.hold() as held:
        assert not held
    release.set()
    assert await asyncio.wait_for(job, WAIT) == "slow done"
    # Idle again once the job is answered.
    with worker.hold() as held:
        assert held


async def test_a_hold_never_overtakes_a_job_submitted_before_it(worker: KDBWorker) -> None:
    for round_ in range(50):  # the job may or may not have left the queue when the hold comes
        order: list[str] = []
        job = asyncio.create_task(worker.run(order.append, "job"))
        await asyncio.sleep(0)  # submitted
        with worker.hold() as held:
            if held:
                order.append("held")
        await asyncio.wait_for(job, WAIT)
        assert order[0] == "job", f"round {round_}: {order}"
