"""Background work per site: at most one profile or optimize runs for a site at a time.

A new profile of a site replaces the one in flight (its inputs are outdated); an optimize is never
replaced silently, a second request is refused with a message. Cancelling a task cancels the engine
jobs it awaits, and the engine kills their workers.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from kernelwright.lsp.results import SiteKey

log = logging.getLogger("kernelwright.lsp.site_jobs")


class JobKind(enum.StrEnum):
    PROFILE = "profiling"
    OPTIMIZE = "optimizing"


@dataclass
class RunningJob:
    key: SiteKey
    kind: JobKind
    task: asyncio.Task[None]
    label: str  # what the lens shows while it runs, e.g. "optimizing: round 2"


class Jobs:
    def __init__(
        self,
        on_change: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._running: dict[SiteKey, RunningJob] = {}
        self._on_change = on_change or (lambda: None)
        # A job that dies of a bug must not vanish silently: the person is told, the log has the trace.
        self._on_error = on_error or (lambda message: None)

    def get(self, key: SiteKey) -> RunningJob | None:
        return self._running.get(key)

    def busy_label(self, key: SiteKey) -> str | None:
        job = self._running.get(key)
        return job.label if job is not None else None

    def start(self, key: SiteKey, kind: JobKind, work: Coroutine[Any, Any, None]) -> RunningJob | None:
        """Run `work` for `key`. A profile in flight for the same site is outdated and cancelled first;
        an optimize in flight is never interrupted by another job (None: `work` was not started)."""
        previous = self._running.get(key)
        if previous is not None:
            if previous.kind is JobKind.OPTIMIZE:
                work.close()  # never started: close it so Python does not warn it was never awaited
                return None
            previous.task.cancel()
        task = asyncio.get_running_loop().create_task(work)
        job = RunningJob(key, kind, task, kind.value)
        self._running[key] = job
        task.add_done_callback(lambda t: self._finished(job, t))
        self._on_change()
        return job

    def set_label(self, key: SiteKey, label: str) -> None:
        job = self._running.get(key)
        if job is not None and job.label != label:
            job.label = label
            self._on_change()

    def _finished(self, job: RunningJob, task: asyncio.Task[None]) -> None:
        if self._running.get(job.key) is job:
            del self._running[job.key]
            self._on_change()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s of %s failed", job.kind.value, job.key.name, exc_info=exc)
            self._on_error(
                f"kernelwright: {job.kind.value} {job.key.name} stopped on an internal error: {exc!r}"
            )

    def cancel(self, key: SiteKey) -> bool:
        job = self._running.get(key)
        if job is None:
            return False
        job.task.cancel()
        return True

    def cancel_path(self, path: object) -> int:
        keys = [k for k in self._running if k.path == path]
        for k in keys:
            self._running[k].task.cancel()
        return len(keys)

    def cancel_all(self) -> None:
        for job in list(self._running.values()):
            job.task.cancel()

    def running(self) -> list[RunningJob]:
        return list(self._running.values())
