"""Waiting with a time limit, without losing a cancel.

`asyncio.wait_for` on Python 3.11 loses a cancel that lands in the same turn of the event loop as the
awaited thing completes (python/cpython#86296, fixed by 3.12's rewrite): the caller goes on as if never
cancelled. The engine reads every message of a judged job under a time limit, so a person's Cancel of an
optimize, landing as a worker's reply did, was lost and the optimize ran to its end (a CI run timed out
waiting for its "cancelled"). `asyncio.timeout` tells its own cancel from a caller's, so `within` keeps
both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """`awaitable`'s result; TimeoutError after `seconds` (the awaitable is cancelled then)."""
    async with asyncio.timeout(seconds):
        return await awaitable
