"""The server's connection to the engine: one WorkerPool, started on first use and rebuilt when the
worker interpreter or device setting changes. All GPU work goes through it; this process never imports
torch or triton."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kernelwright.core.jobs import BenchJob, VerifyJob
from kernelwright.core.measure import BenchFailure, Measurement, Verdict
from kernelwright.core.settings import Settings

if TYPE_CHECKING:
    from kernelwright.engine.pool import WorkerPool


@dataclass(frozen=True)
class PoolKey:
    python: str
    device: str

    @staticmethod
    def of(settings: Settings) -> PoolKey:
        return PoolKey(settings.python or sys.executable, settings.device)


class EngineLink:
    def __init__(self) -> None:
        self._pool: WorkerPool | None = None
        self._key: PoolKey | None = None
        self._lock = asyncio.Lock()

    async def pool(self, settings: Settings) -> WorkerPool:
        key = PoolKey.of(settings)
        async with self._lock:
            if self._pool is not None and self._key == key:
                return self._pool
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
            # Imported at the first job: start-up does not pay for the engine.
            from kernelwright.engine.config import WorkerConfig
            from kernelwright.engine.pool import WorkerPool

            # No standby on the CPU: an idle worker holding torch would compete for the few cores.
            pool = WorkerPool(key.device, config=WorkerConfig(python=key.python), standby=key.device != "cpu")
            await pool.start()
            self._pool, self._key = pool, key
            return pool

    async def bench(self, settings: Settings, job: BenchJob) -> Measurement | BenchFailure:
        """A worker crash, hang or OOM comes back as a BenchFailure; JobError only when no worker ran it."""
        from kernelwright.engine import client

        return await client.bench(await self.pool(settings), job)

    async def verify(self, settings: Settings, job: VerifyJob) -> Verdict:
        from kernelwright.engine import client

        return await client.verify(await self.pool(settings), job)

    def worker_pids(self) -> list[int]:
        return self._pool.pids() if self._pool is not None else []

    async def close(self) -> None:
        async with self._lock:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
