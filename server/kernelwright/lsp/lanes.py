"""One lane per document: what changes a document (open, change, close) runs in arrival order, and a
request about a document waits for the work queued before it on that document only.

Analysis runs off the event loop (documents.py), so a 5 MB file being analysed must hold up nothing but
its own requests: a hover on another document answers at once, while a hover on the big one waits for
its analysis instead of reading the text a thread is still working on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("kernelwright.lsp.lanes")


class DocumentLanes:
    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._tails: dict[str, asyncio.Task[None]] = {}
        self.on_error = on_error

    def queue(self, uri: str, what: str, job: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run `job` after everything queued before it on `uri`. A job that raises is reported (with
        `what` naming it) and does not stop the lane."""
        previous = self._tails.get(uri)

        async def chained() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # its failure was reported by its own task
            try:
                await job()
            except Exception as exc:
                log.exception("%s failed", what)
                if self.on_error is not None:
                    self.on_error(what, exc)

        task = asyncio.get_running_loop().create_task(chained())
        self._tails[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))
        return task

    def _forget(self, uri: str, done: asyncio.Task[None]) -> None:
        if self._tails.get(uri) is done:
            del self._tails[uri]

    def busy(self, uris: list[str]) -> list[asyncio.Task[None]]:
        """The unfinished tails of these documents' lanes (empty when none has work queued)."""
        return [task for uri in uris if (task := self._tails.get(uri)) is not None and not task.done()]

    def after(self, uris: list[str], then: Callable[[], None]) -> bool:
        """Call `then` once the work queued so far on these documents is done; False (and `then` not
        called) when none of them has work queued: the caller goes ahead at once."""
        waiting = self.busy(uris)
        if not waiting:
            return False

        async def later() -> None:
            await asyncio.wait(waiting)
            then()

        asyncio.get_running_loop().create_task(later())
        return True
