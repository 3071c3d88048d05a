"""What the local pool and the Ray pool share: one slot per device, jobs queued on the slot's lock.

`SlotPool` holds the job API both pools offer (submit, execute, submit_cancellable, pick, hello,
devices, async with); a subclass says how to find a slot for a device name (`_pick`) and how to run a
job once it holds the slot (`_run_locked`). `JobHandle` is the cancellable job either pool returns.
"""

from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Generic, Protocol, Self, TypeVar

from kernelwright.core.jobs import JobType
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import CapturedOutput, ErrorCode, Hello, JobErrorInfo
from kernelwright.engine.config import FRESH_JOB_TYPES, WorkerConfig
from kernelwright.engine.devices import Device
from kernelwright.engine.job_error import JobError


@dataclass(frozen=True)
class JobOutcome:
    result: JsonValue
    output: CapturedOutput  # the tail of what the job printed
    device: Device
    worker_pid: int
    # Where the parent's wall time went (seconds; the local pool fills them in, Ray leaves defaults).
    worker_start_s: float | None = None  # the worker's own start: spawn to hello
    worker_wait_s: float = 0.0  # the job, holding the device, waited this long for its worker's hello
    quiet_wait_s: float = 0.0  # CPU only: waited for a starting standby so it would not skew timings
    run_s: float = 0.0  # request sent to response read: the job itself, in the worker
    # Whether the candidate's worker ran in the box (engine.confinement); None for a job that ran no
    # candidate code.
    confined: bool | None = None


class Slot(Protocol):
    """One device's place in a pool: one job at a time under `lock`; `waiting` spreads jobs."""

    device: Device
    lock: asyncio.Lock
    waiting: int  # jobs queued or running here
    hello: Hello | None  # from the last worker that started here


S = TypeVar("S", bound=Slot)


class SlotPool(abc.ABC, Generic[S]):
    # How errors name the pool ("the worker pool is not started ...").
    pool_name: ClassVar[str]

    config: WorkerConfig
    _slots: list[S]
    _closed: bool

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def devices(self) -> list[Device]:
        return [s.device for s in self._slots]

    def hello(self, device: Device) -> Hello | None:
        """The last hello from this device's workers (the harness's ping: versions, device name)."""
        return self._slot(device).hello

    # -- jobs --------------------------------------------------------------------------------------

    def pick(self, device: str | Device | None = None) -> Device:
        """The device a job goes to: the one named, else the least busy of the pool's devices."""
        return self._pick(device).device

    async def submit(
        self,
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JsonValue:
        """Run one job and return its result; raise JobError (with its code) if it produced none.

        `fresh` (default: True for jobs that run candidate code) runs the job in a process that has
        never run another job. Cancelling the awaiting task kills the worker at once.
        """
        outcome = await self.execute(job_type, payload, timeout=timeout, fresh=fresh, device=device)
        return outcome.result

    async def execute(
        self,
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JobOutcome:
        """As `submit`, with what the job printed, where it ran and its worker's pid."""
        if self._closed or not self._slots:
            raise RuntimeError(f"the {self.pool_name} is not started (await pool.start()) or already closed")
        slot = self._pick(device)
        fresh = job_type in FRESH_JOB_TYPES if fresh is None else fresh
        limit = self.config.timeout_for(job_type) if timeout is None else timeout
        slot.waiting += 1
        try:
            async with slot.lock:
                return await self._run_locked(slot, job_type, payload, limit, fresh)
        finally:
            slot.waiting -= 1

    def submit_cancellable(
        self,
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JobHandle:
        """Start a job now; the handle's `cancel()` (callable from any thread) kills its worker at once."""
        task = asyncio.ensure_future(
            self.execute(job_type, payload, timeout=timeout, fresh=fresh, device=device)
        )
        return JobHandle(task, asyncio.get_running_loop())

    @abc.abstractmethod
    async def _run_locked(
        self, slot: S, job_type: JobType, payload: JsonValue, limit: float, fresh: bool
    ) -> JobOutcome:
        """Run the job on `slot`, whose lock the caller holds."""

    @abc.abstractmethod
    def _pick(self, device: str | Device | None) -> S:
        """The slot for a device name (None or "auto": the least busy); UsageError if there is none."""

    def _slot(self, device: Device) -> S:
        for slot in self._slots:
            if slot.device == device:
                return slot
        raise KeyError(device.label)


class JobHandle:
    """A running job. `await handle.result()`; `handle.cancel()` from any thread kills it at once."""

    def __init__(self, task: asyncio.Future[JobOutcome], loop: asyncio.AbstractEventLoop) -> None:
        self._task = task
        self._loop = loop
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        if _running_loop() is self._loop:
            self._task.cancel()
        else:
            self._loop.call_soon_threadsafe(self._task.cancel)

    def done(self) -> bool:
        return self._task.done()

    async def result(self) -> JsonValue:
        """The job's result; JobError(CANCELLED) if `cancel()` stopped it."""
        return (await self.outcome()).result

    async def outcome(self) -> JobOutcome:
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._cancelled and self._task.cancelled() and not (current and current.cancelling()):
                raise JobError(JobErrorInfo(ErrorCode.CANCELLED, "the job was cancelled")) from None
            raise


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
