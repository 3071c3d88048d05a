"""Which pool runs the jobs: the local worker pool, or the Ray backend for many GPUs or hosts.

`make_pool(cluster, devices, config)` returns a pool with WorkerPool's async API (start, execute,
submit, submit_cancellable, pick, hello, devices, close); callers (engine.client, optimize) use either
through the `EnginePool` protocol.

    cluster = "local"            the local WorkerPool on `devices` (all local GPUs, or the CPU, for auto)
              "auto"             Ray when it is installed and RAY_ADDRESS names a cluster, else local
              "ray"              Ray: the cluster in RAY_ADDRESS, or a new local Ray instance
              "ray://HOST:PORT"  Ray through Ray Client at that address
"""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Literal, Protocol, Self

from kernelwright.core.errors import UsageError
from kernelwright.core.jobs import JobType
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import Hello
from kernelwright.core.settings import RAY_CLIENT
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.confinement import BoxSupport
from kernelwright.engine.devices import Device
from kernelwright.engine.pool import WorkerPool
from kernelwright.engine.ray_backend import RayPool, RaySettings, ray_installed
from kernelwright.engine.slot_pool import JobHandle, JobOutcome


class EnginePool(Protocol):
    """What both pools offer; type callers with this rather than with either class."""

    config: WorkerConfig

    @property
    def devices(self) -> list[Device]: ...

    @property
    def confinement(self) -> BoxSupport: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def hello(self, device: Device) -> Hello | None: ...

    def pick(self, device: str | Device | None = None) -> Device: ...

    async def submit(
        self,
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JsonValue: ...

    async def execute(
        self,
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JobOutcome: ...

    def submit_cancellable(
        self,
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JobHandle: ...


class Backend(enum.StrEnum):
    LOCAL = "local"
    RAY = "ray"


@dataclass(frozen=True)
class ClusterChoice:
    backend: Backend
    address: str | None = None  # Ray's address; None: RAY_ADDRESS or a new local instance


def parse_cluster(cluster: str) -> ClusterChoice:
    """`auto`, `local`, `ray` or `ray://HOST:PORT`; anything else is a UsageError saying what is accepted."""
    text = cluster.strip()
    if text == "auto":
        wanted = bool(os.environ.get("RAY_ADDRESS")) and ray_installed()
        return ClusterChoice(Backend.RAY if wanted else Backend.LOCAL)
    if text == "local":
        return ClusterChoice(Backend.LOCAL)
    if text == "ray":
        return ClusterChoice(Backend.RAY)
    if RAY_CLIENT.match(text):
        return ClusterChoice(Backend.RAY, text.rstrip("/"))
    raise UsageError(
        f"unknown cluster `{cluster}`: use auto, local, ray (RAY_ADDRESS or a new local Ray) or "
        "ray://HOST:PORT (for example ray://head-node:10001)"
    )


def make_pool(
    cluster: Literal["auto", "local"] | str = "auto",
    devices: str | Sequence[str] = "auto",
    config: WorkerConfig | None = None,
    *,
    standby: bool = True,
    ray_settings: RaySettings | None = None,
) -> EnginePool:
    """A pool, not yet started (`await pool.start()`, or `async with make_pool(...) as pool`)."""
    choice = parse_cluster(cluster)
    if choice.backend is Backend.LOCAL:
        return WorkerPool(devices, config=config, standby=standby)
    settings = ray_settings or RaySettings()
    if choice.address is not None:
        settings = replace(settings, address=choice.address)
    settings = replace(settings, standby=standby and settings.standby)
    return RayPool(devices, config=config, settings=settings)
