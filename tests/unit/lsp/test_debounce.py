"""The per-key debounce: a burst runs once with the last action; keys do not interfere."""

from __future__ import annotations

import asyncio

from kernelwright.lsp.debounce import Debouncer


async def _wait_until(cond: object, timeout: float = 2.0) -> None:
    async def poll() -> None:
        while not cond():  # type: ignore[operator]
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_burst_runs_only_the_last_call() -> None:
    d = Debouncer(0.05)
    ran: list[int] = []
    for i in range(10):

        async def act(i: int = i) -> None:
            ran.append(i)

        d.call("a", act)
    await _wait_until(lambda: ran)
    assert ran == [9]
    assert not d.pending("a")


async def test_keys_are_independent() -> None:
    d = Debouncer(0.03)
    ran: list[str] = []

    async def a() -> None:
        ran.append("a")

    async def b() -> None:
        ran.append("b")

    d.call("a", a)
    d.call("b", b)
    await _wait_until(lambda: len(ran) == 2)
    assert sorted(ran) == ["a", "b"]


async def test_a_new_call_restarts_the_wait() -> None:
    d = Debouncer(0.2)
    ran: list[float] = []
    loop = asyncio.get_running_loop()

    async def act() -> None:
        ran.append(loop.time())

    start = loop.time()
    d.call("k", act)
    await asyncio.sleep(0.1)
    d.call("k", act)  # restarts: runs about 0.3 s after start, not 0.2
    await _wait_until(lambda: ran)
    assert ran[0] - start >= 0.29
    assert len(ran) == 1


async def test_cancel_drops_the_pending_call() -> None:
    d = Debouncer(0.02)
    ran: list[str] = []

    async def act() -> None:
        ran.append("x")

    async def marker() -> None:
        ran.append("marker")

    d.call("k", act)
    d.cancel("k")
    # Same delay, scheduled later: had "k" survived, it would have run before the marker.
    d.call("other", marker)
    await _wait_until(lambda: "marker" in ran)
    assert ran == ["marker"]
