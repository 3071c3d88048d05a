"""The pool: long-lived workers, one device slot each, that survive every way a job can die.

Per device the pool keeps up to two processes:
- a *shared* worker for reference-only jobs (bench of the person's own code, calibrate), reused;
- a *standby*: started ahead of time (torch imported, CUDA context made, clocks captured) and never
  given a job until a candidate job takes it. A candidate job therefore runs in a fresh-but-warm process
  that has never loaded other candidate code; afterwards that process is retired and a new standby
  starts.
One job runs on a device at a time, so timings never compete with each other.

A worker that crashes, hangs, runs out of memory, faults its CUDA context or is cancelled is killed
(with its process group) and replaced; the job's JobError says what happened, and the next job runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from kernelwright.core.errors import UsageError
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import ErrorCode, Hello, JobErrorInfo
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import Device, resolve_devices
from kernelwright.engine.errors import JobError
from kernelwright.engine.process import KillReason, WorkerProcess
from kernelwright.engine.slot_pool import JobHandle, JobOutcome, SlotPool

# JobHandle and JobOutcome are the pool's API too: callers import them from here.
__all__ = ["JobHandle", "JobOutcome", "SyncWorkerPool", "WorkerPool"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Slot:
    device: Device
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shared: WorkerProcess | None = None
    standby: asyncio.Task[WorkerProcess] | None = None
    waiting: int = 0  # jobs queued or running here, to spread work over devices
    hello: Hello | None = None  # from the last worker that started here


class WorkerPool(SlotPool[_Slot]):
    pool_name: ClassVar[str] = "worker pool"

    def __init__(
        self,
        devices: str | Sequence[str] = "auto",
        *,
        config: WorkerConfig | None = None,
        standby: bool = True,
    ) -> None:
        self._request = devices
        self.config = config or WorkerConfig()
        self.keep_standby = standby
        self._slots: list[_Slot] = []
        self._live: set[WorkerProcess] = set()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- life cycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resolve the devices (UsageError if one is not there) and start a standby worker on each."""
        self._loop = asyncio.get_running_loop()
        # Finding GPUs runs nvidia-smi: keep it off the event loop (the language server's).
        self._slots = [_Slot(d) for d in await asyncio.to_thread(resolve_devices, self._request)]
        if self.keep_standby:
            for slot in self._slots:
                self._start_standby(slot)

    async def close(self) -> None:
        """Kill every worker (jobs in flight fail with CANCELLED) and wait for them."""
        self._closed = True
        for slot in self._slots:
            if slot.standby is not None:
                slot.standby.cancel()
        for slot in self._slots:
            if slot.standby is not None:
                with contextlib.suppress(BaseException):
                    worker = await slot.standby
                    await worker.kill(KillReason.CLOSED)
                slot.standby = None
            slot.shared = None
        await asyncio.gather(*(w.kill(KillReason.CLOSED) for w in list(self._live)), return_exceptions=True)
        self._live.clear()

    def pids(self) -> list[int]:
        """Processes alive now (for tests and diagnostics)."""
        return sorted(w.pid for w in self._live if w.alive)

    # -- jobs --------------------------------------------------------------------------------------

    async def _run_locked(
        self, slot: _Slot, job_type: str, payload: JsonValue, limit: float, fresh: bool
    ) -> JobOutcome:
        worker = await self._take(slot, fresh)
        await self._quiet(slot)
        try:
            response = await worker.call(job_type, payload, limit)
        except BaseException:
            # Dead, timed out or cancelled: call() has killed it (kill is idempotent). Replace it.
            self._forget(slot, worker)
            await asyncio.shield(worker.kill(KillReason.RETIRED))
            self._replenish(slot)
            raise
        if fresh or response.retire or not worker.alive:
            self._forget(slot, worker)
            await worker.kill(KillReason.RETIRED)
            self._replenish(slot)
        if not response.ok:
            info = response.error or JobErrorInfo(ErrorCode.PROTOCOL, "a failed response without an error")
            raise JobError(info, response.output, device=slot.device.label)
        return JobOutcome(response.result, response.output, slot.device, worker.pid)

    # -- workers -----------------------------------------------------------------------------------

    async def _take(self, slot: _Slot, fresh: bool) -> WorkerProcess:
        if not fresh and slot.shared is not None and slot.shared.alive:
            return slot.shared
        if slot.standby is None:
            self._start_standby(slot)
        assert slot.standby is not None
        task, slot.standby = slot.standby, None
        try:
            worker = await asyncio.shield(task)
        except asyncio.CancelledError:
            # The job was cancelled while its worker was still starting: keep that worker for the next.
            if not task.cancelled() and slot.standby is None:
                slot.standby = task
            raise
        if not fresh:
            slot.shared = worker
        if self.keep_standby:
            self._start_standby(slot)
        return worker

    async def _quiet(self, slot: _Slot) -> None:
        """On the CPU, a starting worker competes for the cores being timed: let it finish first.

        On a GPU the job is timed with device events, and the next standby starts alongside it.
        """
        if slot.device.is_cpu and slot.standby is not None and not slot.standby.done():
            await asyncio.wait([slot.standby])

    def _start_standby(self, slot: _Slot) -> None:
        if self._closed:
            return
        slot.standby = asyncio.ensure_future(self._spawn(slot))
        # A standby that fails to start is reported to the job that takes it; never "never retrieved".
        slot.standby.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _spawn(self, slot: _Slot) -> WorkerProcess:
        worker = await WorkerProcess.start(slot.device, self.config)
        if self._closed:
            await worker.kill(KillReason.CLOSED)
            raise JobError(JobErrorInfo(ErrorCode.CANCELLED, "the pool closed"), device=slot.device.label)
        self._live.add(worker)
        slot.hello = worker.hello
        log.debug("worker %d up on %s", worker.pid, slot.device.label)
        return worker

    def _replenish(self, slot: _Slot) -> None:
        if self.keep_standby and slot.standby is None:
            self._start_standby(slot)

    def _forget(self, slot: _Slot, worker: WorkerProcess) -> None:
        if slot.shared is worker:
            slot.shared = None
        self._live.discard(worker)

    def _pick(self, device: str | Device | None) -> _Slot:
        if not self._slots:
            raise RuntimeError("the worker pool is not started (await pool.start())")
        if device is None or device == "auto":
            return min(self._slots, key=lambda s: s.waiting)
        wanted = device if isinstance(device, Device) else resolve_devices(device)[0]
        for slot in self._slots:
            if slot.device == wanted:
                return slot
        have = ", ".join(s.device.label for s in self._slots)
        raise UsageError(f"this pool has no worker for {wanted.label} (it runs on {have})")


class SyncWorkerPool:
    """The pool for synchronous callers (the CLI): `with SyncWorkerPool("cpu") as pool: pool.submit(...)`.

    It runs its own event loop in the calling thread; Ctrl-C cancels the job and kills its worker.
    """

    def __init__(
        self,
        devices: str | Sequence[str] = "auto",
        *,
        config: WorkerConfig | None = None,
        standby: bool = False,
    ) -> None:
        self.pool = WorkerPool(devices, config=config, standby=standby)
        self._runner: asyncio.Runner | None = None

    def __enter__(self) -> SyncWorkerPool:
        self._runner = asyncio.Runner()
        try:
            self._runner.run(self.pool.start())
        except BaseException:
            self._runner.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._runner is not None
        try:
            self._runner.run(self.pool.close())
        finally:
            self._runner.close()

    def submit(
        self,
        job_type: str,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JsonValue:
        return self.execute(job_type, payload, timeout=timeout, fresh=fresh, device=device).result

    def execute(
        self,
        job_type: str,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JobOutcome:
        return self.run(self.pool.execute(job_type, payload, timeout=timeout, fresh=fresh, device=device))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine that uses `self.pool` (e.g. `engine.client.bench(sync.pool, job)`)."""
        assert self._runner is not None, "use SyncWorkerPool in a with-statement"
        return self._runner.run(work)
