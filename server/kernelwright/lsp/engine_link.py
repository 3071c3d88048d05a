"""The server's connection to the engine: one pool (local workers, or Ray per the cluster setting),
started on first use and rebuilt when the worker interpreter, device or cluster setting changes. All GPU
work goes through it; this process never imports torch or triton."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kernelwright.core.jobs import BenchJob, BenchOptions, ProblemRef, VerifyJob
from kernelwright.core.measure import BenchFailure, Measurement, Verdict
from kernelwright.core.settings import Settings

if TYPE_CHECKING:
    from kernelwright.engine.backends import EnginePool
    from kernelwright.engine.client import Profile


@dataclass(frozen=True)
class PoolKey:
    python: str
    device: str
    cluster: str
    allow_unconfined: bool

    @staticmethod
    def of(settings: Settings) -> PoolKey:
        python = settings.python or sys.executable
        return PoolKey(python, settings.device, settings.cluster, settings.allow_unconfined)


class EngineLink:
    def __init__(self) -> None:
        self._pool: EnginePool | None = None
        self._key: PoolKey | None = None
        self._lock = asyncio.Lock()
        # Told once per pool when its candidates cannot be boxed (the server shows it to the person).
        self.on_unconfined: Callable[[str], None] | None = None

    async def pool(self, settings: Settings) -> EnginePool:
        key = PoolKey.of(settings)
        async with self._lock:
            if self._pool is not None and self._key == key:
                return self._pool
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
            # Imported at the first job: start-up does not pay for the engine.
            from kernelwright.engine.backends import make_pool
            from kernelwright.engine.config import WorkerConfig

            # No standby on the CPU: an idle worker holding torch would compete for the few cores.
            # The box of a candidate reads the folder of each job's reference (the pool adds it).
            pool = make_pool(
                key.cluster,
                key.device,
                WorkerConfig(python=key.python, allow_unconfined=key.allow_unconfined),
                standby=key.device != "cpu",
            )
            await pool.start()
            self._pool, self._key = pool, key
            if not pool.confinement.available and self.on_unconfined is not None:
                self.on_unconfined(pool.confinement.describe())
            return pool

    async def bench(self, settings: Settings, job: BenchJob) -> Measurement | BenchFailure:
        """A worker crash, hang or OOM comes back as a BenchFailure; JobError only when no worker ran it."""
        from kernelwright.engine import client

        return await client.bench(await self.pool(settings), job)

    async def profile(self, settings: Settings, problem: ProblemRef, last_good: str | None) -> Profile:
        """The person's site on the settings' device (engine.client.profile)."""
        from kernelwright.engine import client

        options = BenchOptions(
            compile_baseline=settings.compile_baseline,
            compile_off_by=""
            if settings.compile_baseline
            else "the kernelwright.compileBaseline setting is off",
        )
        return await client.profile(
            await self.pool(settings), problem, settings.device, options, last_good=last_good
        )

    async def verify(self, settings: Settings, job: VerifyJob) -> Verdict:
        from kernelwright.engine import client

        return await client.verify(await self.pool(settings), job)

    def worker_pids(self) -> list[int]:
        pids = getattr(self._pool, "pids", None)  # the local pool's; Ray workers live on other hosts
        return list(pids()) if callable(pids) else []

    async def close(self) -> None:
        async with self._lock:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
