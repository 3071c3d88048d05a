"""The Ray actor that hosts one device's kernelwright worker: a thin shell around a one-device WorkerPool.

The actor owns a local WorkerPool on the one GPU that Ray gave it (Ray sets CUDA_VISIBLE_DEVICES for an
actor with num_gpus), or on the CPU. Every job goes through that pool, so a job on Ray runs in the same
worker process, over the same protocol, with the same fresh-worker, time-out, cancellation and
replacement rules as on the local pool: a verdict from Ray is the verdict a single-GPU run gives.

This module does not import ray: the backend wraps `WorkerHost` with `ray.remote` when it is used, and
Ray imports this module by name inside the actor.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys
from dataclasses import dataclass, field

from kernelwright.core.jobs import JobType
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.measure import DeviceKind
from kernelwright.core.protocol import CapturedOutput, Hello, JobErrorInfo
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import Device
from kernelwright.engine.job_error import JobError
from kernelwright.engine.pool import WorkerPool


@dataclass(frozen=True)
class HostReply:
    """One job's answer, as plain data: a JobError crosses Ray as its info, never as a wrapped exception."""

    result: JsonValue = None
    error: JobErrorInfo | None = None
    output: CapturedOutput = field(default_factory=CapturedOutput)
    worker_pid: int = 0
    hello: Hello | None = None


@dataclass(frozen=True)
class HostInfo:
    """Where an actor runs: for diagnostics, and for tests that kill its worker or the actor itself."""

    node: str  # host name
    actor_pid: int
    device: str  # the device inside the actor: `cpu` or `cuda:0`
    physical: str | None  # the GPU Ray assigned (its CUDA_VISIBLE_DEVICES entry); None on the CPU


class WorkerHost:
    """Runs jobs on its device one at a time. Ray restarts it after a crash (max_restarts); the pool
    inside then starts afresh on the first job, so a restarted actor needs nothing from the backend.
    """

    def __init__(self, kind: DeviceKind, config: WorkerConfig, standby: bool, own_python: bool) -> None:
        # Workers on another host cannot use the driver's interpreter path: by default they use the
        # actor's own (Ray runs actors in the cluster's environment).
        self._config = dataclasses.replace(config, python=sys.executable) if own_python else config
        # The driver's working and cache directories may not exist on this host: then the worker uses
        # its own temporary directory, as it does when none is set.
        if self._config.cwd is not None and not self._config.cwd.is_dir():
            self._config = dataclasses.replace(self._config, cwd=None)
        if self._config.cache_dir is not None and not self._config.cache_dir.parent.is_dir():
            self._config = dataclasses.replace(self._config, cache_dir=None)
        self._kind = kind
        self._standby = standby
        self._pool: WorkerPool | None = None
        self._device: Device | None = None
        # One job at a time: timings must never compete for the device. The backend sends one job at a
        # time per actor too; this lock keeps the rule even for a second caller of the same actor.
        self._jobs = asyncio.Lock()
        self._starting = asyncio.Lock()  # `ready` and `run` may both be the first call

    async def run(self, job_type: JobType, payload: JsonValue, timeout: float, fresh: bool) -> HostReply:
        async with self._jobs:
            pool, device = await self._ensure_pool()
            try:
                outcome = await pool.execute(job_type, payload, timeout=timeout, fresh=fresh, device=device)
            except JobError as err:
                return HostReply(error=err.info, output=err.output, hello=pool.hello(device))
            return HostReply(
                result=outcome.result,
                output=outcome.output,
                worker_pid=outcome.worker_pid,
                hello=pool.hello(device),
            )

    async def ready(self) -> HostInfo:
        """Start the pool (resolving the device) and say where this actor runs."""
        _, device = await self._ensure_pool()
        return HostInfo(
            node=socket.gethostname(), actor_pid=os.getpid(), device=device.local, physical=device.physical
        )

    async def pids(self) -> list[int]:
        """The worker processes alive now (standby included)."""
        return self._pool.pids() if self._pool is not None else []

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _ensure_pool(self) -> tuple[WorkerPool, Device]:
        async with self._starting:
            if self._pool is None or self._device is None:
                request = self._kind.value  # `cpu` or `cuda`: the device request naming the kind
                pool = WorkerPool(request, config=self._config, standby=self._standby)
                await pool.start()
                self._pool, self._device = pool, pool.devices[0]
            return self._pool, self._device
