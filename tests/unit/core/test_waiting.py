"""core.waiting.within keeps a cancel that lands as the awaited thing completes, which asyncio.wait_for on
Python 3.11 loses (python/cpython#86296): the engine reads every worker message under a time limit, and an
optimize's Cancel landing as a message arrived was lost."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import kernelwright
import pytest
from kernelwright.core.waiting import within

Wait = Callable[[Awaitable[int], float], Awaitable[int]]


async def cancel_as_it_completes(wait: Wait) -> bool:
    """Whether a task cancelled in the same turn as its wait's future completes ends cancelled."""
    loop = asyncio.get_running_loop()
    reply: asyncio.Future[int] = loop.create_future()
    went_on = asyncio.Event()

    async def reader() -> None:
        await wait(reply, 10.0)
        went_on.set()  # a lost cancel: the job goes on to its next message
        await asyncio.sleep(10.0)

    task = loop.create_task(reader())
    for _ in range(3):  # into the wait (wait_for first starts a task of its own)
        await asyncio.sleep(0)
    reply.set_result(1)
    task.cancel()
    await asyncio.wait([task], timeout=1.0)
    if not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=5.0)
        return False
    return task.cancelled() and not went_on.is_set()


async def test_a_cancel_landing_as_the_wait_completes_is_kept() -> None:
    assert await cancel_as_it_completes(within)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 rewrote wait_for on asyncio.timeout")
async def test_control_wait_for_loses_it_on_python_3_11() -> None:
    assert not await cancel_as_it_completes(asyncio.wait_for)


async def test_it_times_out_and_cancels_what_it_waited_for() -> None:
    slow = asyncio.get_running_loop().create_task(asyncio.sleep(10.0))
    with pytest.raises(TimeoutError):
        await within(slow, 0.05)
    await asyncio.sleep(0)
    assert slow.cancelled()


async def test_it_returns_the_result() -> None:
    assert await within(asyncio.sleep(0, result=7), 1.0) == 7


def test_the_server_waits_only_through_within() -> None:
    """asyncio.wait_for is not used in the server (it would bring the lost cancel back on 3.11)."""
    root = Path(kernelwright.__file__).parent
    users = [str(p.relative_to(root)) for p in root.rglob("*.py") if "asyncio.wait_for(" in p.read_text()]
    assert users == []
