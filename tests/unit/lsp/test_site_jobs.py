"""One job per site: a new profile replaces an outdated one, an optimize is never interrupted, and a job
that dies of a bug is reported instead of vanishing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kernelwright.lsp.results import SiteKey
from kernelwright.lsp.site_jobs import JobKind, Jobs

KEY = SiteKey(Path("/w/a.py"), "double")


async def _forever(started: asyncio.Event) -> None:
    started.set()
    await asyncio.Event().wait()


async def test_a_new_profile_cancels_the_outdated_one() -> None:
    jobs = Jobs()
    started = asyncio.Event()
    first = jobs.start(KEY, JobKind.PROFILE, _forever(started))
    assert first is not None
    await asyncio.wait_for(started.wait(), 2)
    second_started = asyncio.Event()
    second = jobs.start(KEY, JobKind.PROFILE, _forever(second_started))
    assert second is not None
    await asyncio.wait_for(asyncio.gather(first.task, return_exceptions=True), 2)
    assert first.task.cancelled()
    assert jobs.get(KEY) is second
    jobs.cancel_all()
    await asyncio.wait_for(asyncio.gather(second.task, return_exceptions=True), 2)
    assert jobs.running() == []


async def test_an_optimize_in_flight_is_not_replaced_by_a_profile() -> None:
    jobs = Jobs()
    started = asyncio.Event()
    optimize = jobs.start(KEY, JobKind.OPTIMIZE, _forever(started))
    assert optimize is not None
    assert jobs.start(KEY, JobKind.PROFILE, _forever(asyncio.Event())) is None
    assert jobs.busy_label(KEY) == "optimizing"
    assert jobs.cancel(KEY)
    await asyncio.wait_for(asyncio.gather(optimize.task, return_exceptions=True), 2)
    assert jobs.busy_label(KEY) is None


async def test_a_job_that_raises_is_reported() -> None:
    errors: list[str] = []
    changes: list[int] = []
    jobs = Jobs(on_change=lambda: changes.append(1), on_error=errors.append)

    async def broken() -> None:
        raise RuntimeError("bug")

    job = jobs.start(KEY, JobKind.PROFILE, broken())
    assert job is not None
    await asyncio.wait_for(asyncio.gather(job.task, return_exceptions=True), 2)

    async def reported() -> None:  # done callbacks run on a later loop iteration
        while len(changes) < 2:
            await asyncio.sleep(0.001)

    await asyncio.wait_for(reported(), 2)
    assert len(errors) == 1 and "internal error" in errors[0] and "bug" in errors[0]
    assert len(changes) == 2  # started, finished: the lenses refresh both times
