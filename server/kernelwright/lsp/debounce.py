"""Per-key debouncing: the last call within the quiet period wins, earlier ones are dropped.

Typing produces a burst of didChange notifications; analysing and publishing after each would waste the
server's only thread. Each key (a document URI, or a file the watcher saw change) has at most one pending
call; a new call for the same key replaces it and restarts the wait. Keys are independent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable


class Debouncer:
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self._pending: dict[Hashable, asyncio.Task[None]] = {}

    def call(
        self, key: Hashable, action: Callable[[], Awaitable[None]], delay_s: float | None = None
    ) -> None:
        """Run `action` after the quiet period, unless another call for `key` comes first."""
        previous = self._pending.pop(key, None)
        if previous is not None:
            previous.cancel()
        wait = self.delay_s if delay_s is None else delay_s
        task = asyncio.get_running_loop().create_task(self._later(key, wait, action))
        self._pending[key] = task

    async def _later(self, key: Hashable, wait: float, action: Callable[[], Awaitable[None]]) -> None:
        try:
            if wait > 0:
                await asyncio.sleep(wait)
        finally:
            # Only forget this task if it is still the current one for the key.
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]
        await action()

    def pending(self, key: Hashable) -> bool:
        return key in self._pending

    def cancel(self, key: Hashable) -> None:
        task = self._pending.pop(key, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for key in list(self._pending):
            self.cancel(key)
