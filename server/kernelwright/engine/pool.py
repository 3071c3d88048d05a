"""The pool: long-lived workers, one device slot each, that survive every way a job can die.

Per device the pool keeps:
- a *shared* worker (role TRUSTED) for jobs that run only the person's code (bench, calibrate, a verify
  job's judge), reused; it never runs candidate code and is never boxed;
- `config.standbys_for(device)` *standbys* (role CANDIDATE; 3 on a GPU, 1 on the CPU): started ahead of
  time (torch imported, CUDA context made, clocks captured), inside the box where the machine allows it
  (engine.confinement), and never given a job until a candidate job takes one. A candidate job therefore
  runs in a fresh-but-warm process that has never loaded other candidate code; afterwards that process
  is retired and a new standby starts, while the next candidate already has a warm one. So at most
  shared + standbys + the running job's worker live per device.
Candidate workers write their own compile caches, never the trusted workers' (a candidate that could
write the judge's Triton cache could change what the reference computes). Where no box can be made, a
job whose candidate a model wrote is refused (ErrorCode.UNCONFINED, with the reason and the fix) unless
`config.allow_unconfined`; the builtin search's and the person's own code run unconfined.
One job runs on a device at a time, so timings never compete with each other.
Its workers share one Triton and one TorchInductor cache directory (see WorkerConfig.share_caches).

A worker that crashes, hangs, runs out of memory, faults its CUDA context or is cancelled is killed
(with its process group) and replaced; the job's JobError says what happened, and the next job runs.

Why one module: WorkerPool's shared workers, standbys and job routing are one state machine under one
lock; the device-agnostic slot logic is engine/slot_pool.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from kernelwright.core.errors import UsageError
from kernelwright.core.jobs import JobType, Origin
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import CapturedOutput, ErrorCode, Hello, JobErrorInfo, Response
from kernelwright.engine import confinement, leftovers
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import Device, resolve_devices
from kernelwright.engine.environment import torch_bytecode_missing
from kernelwright.engine.job_error import JobError
from kernelwright.engine.placement import SharedCore
from kernelwright.engine.process import KillReason, Role, WorkerProcess
from kernelwright.engine.relay import CandidateRelay
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
    standby: deque[asyncio.Task[WorkerProcess]] = field(default_factory=deque)  # oldest first
    waiting: int = 0  # jobs queued or running here, to spread work over devices
    hello: Hello | None = None  # from the last worker that started here
    starting: set[WorkerProcess] = field(default_factory=set)  # spawned, not yet said hello
    core: SharedCore | None = None  # the judged CPU job's timed core, while it runs (engine.placement)
    # Spawn-to-hello seconds of this device's recent workers (diagnostics, benchmarks).
    start_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))


RECENT = 64  # how many start times and job outcomes the pool remembers


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
        self._worker_config = self.config  # trusted workers'
        self._candidate_config = self.config  # candidate workers': their own caches, the readable folders
        self._cache_root: Path | None = None
        self._retiring: set[asyncio.Future[None]] = set()  # standbys being killed
        self.recent_outcomes: deque[JobOutcome] = deque(maxlen=RECENT)  # newest last

    # -- life cycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Resolve the devices (UsageError if one is not there) and start a standby worker on each."""
        self._loop = asyncio.get_running_loop()
        # Folders of runs that were killed (their owner process is gone): ours are made after this.
        await asyncio.to_thread(leftovers.sweep_stale_folders)
        # Finding GPUs runs nvidia-smi: keep it off the event loop (the language server's).
        self._slots = [_Slot(d) for d in await asyncio.to_thread(resolve_devices, self._request)]
        self._worker_config = self._with_shared_caches(self.config, candidates=False)
        self._candidate_config = self._with_shared_caches(self.config, candidates=True)
        # Whether candidates can be boxed here, and what their box holds, found off the event loop.
        await asyncio.to_thread(self._probe_box)
        if self.keep_standby:
            for slot in self._slots:
                self._replenish(slot)

    def _probe_box(self) -> None:
        """What a candidate's box needs, looked up once per process (a 25 ms bubblewrap probe, the
        interpreter's folders, each card's device nodes through nvidia-smi: up to a second on a GPU
        machine), so that no worker start waits for it on the event loop."""
        if not confinement.support().available:
            return
        config = self._candidate_config
        confinement.interpreter_folders(
            config.python, config.extra_env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        )
        for slot in self._slots:
            if not slot.device.is_cpu:
                confinement.gpu_nodes(slot.device.physical, slot.device.index)

    @property
    def confinement(self) -> confinement.BoxSupport:
        """Whether this pool's candidate workers run in the box, and if not why not and how to fix it."""
        return confinement.support()

    def _with_shared_caches(self, config: WorkerConfig, candidates: bool) -> WorkerConfig:
        """The config trusted (or candidate) workers start with: Triton and TorchInductor caches shared
        by the pool's trusted workers, and another pair shared by its candidate workers."""
        if config.cache_dir is not None:
            root = config.cache_dir  # the person's directory: Triton already goes there
        elif config.share_caches:
            if self._cache_root is None:
                self._cache_root = leftovers.make_folder(leftovers.CACHES_PREFIX)
            root = self._cache_root
        else:
            return config
        if candidates:
            root = root / "candidates"
            config = dataclasses.replace(config, cache_dir=root if config.cache_dir is not None else None)
        shared = {"TRITON_CACHE_DIR": str(root / "triton"), "TORCHINDUCTOR_CACHE_DIR": str(root / "inductor")}
        if config.python == sys.executable and torch_bytecode_missing():
            # A read-only install without .pyc files: every worker would compile torch's ~1000 modules
            # from source (seconds per start). Bytecode goes to the shared cache instead, written once.
            shared["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        return dataclasses.replace(config, extra_env={**shared, **config.extra_env})

    async def ready(self, device: str | Device | None = None) -> None:
        """Return once every standby of the device has said hello (JobError if one failed to start),
        so that the next candidate job starts at once. Without standbys, return at once."""
        slot = self._pick(device)
        while True:
            starting = [t for t in slot.standby if not t.done()]
            if not starting:
                break
            await asyncio.wait(starting)
        for task in list(slot.standby):
            failure = None if task.cancelled() else task.exception()
            if failure is not None:
                slot.standby.remove(task)  # reported here; a fresh one takes its place
                self._replenish(slot)
                raise failure

    def worker_starts(self, device: str | Device | None = None) -> list[float]:
        """Spawn-to-hello seconds of the device's recent workers, oldest first."""
        return list(self._pick(device).start_seconds)

    async def close(self) -> None:
        """Kill every worker (jobs in flight fail with CANCELLED) and wait for them."""
        self._closed = True
        for slot in self._slots:
            for task in slot.standby:
                task.cancel()
        for slot in self._slots:
            while slot.standby:
                task = slot.standby.popleft()
                with contextlib.suppress(BaseException):
                    worker = await task
                    await worker.kill(KillReason.CLOSED)
            slot.shared = None
        await asyncio.gather(*(w.kill(KillReason.CLOSED) for w in list(self._live)), return_exceptions=True)
        self._live.clear()
        if self._cache_root is not None:
            shutil.rmtree(self._cache_root, ignore_errors=True)
            self._cache_root = None

    def pids(self) -> list[int]:
        """Processes alive now (for tests and diagnostics)."""
        return sorted(w.pid for w in self._live if w.alive)

    # -- jobs --------------------------------------------------------------------------------------

    async def _run_locked(
        self, slot: _Slot, job_type: JobType, payload: JsonValue, limit: float, fresh: bool
    ) -> JobOutcome:
        if job_type == JobType.VERIFY:
            return await self._run_judged(slot, payload, limit)
        if fresh:
            self._refuse_unconfined(slot, Origin.MODEL)
        waited_from = time.monotonic()
        worker = await self._take(slot, fresh)
        quiet_from = time.monotonic()
        await self._quiet(slot)
        sent_at = time.monotonic()
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
        times = (waited_from, quiet_from, sent_at)
        return self._outcome(
            slot, response, worker, response.output, times, worker.confined if fresh else None
        )

    async def _run_judged(self, slot: _Slot, payload: JsonValue, limit: float) -> JobOutcome:
        """A verify job in two processes: the slot's shared worker judges (it never runs candidate code)
        and a fresh standby runs the candidate, answering the judge's questions through `CandidateRelay`.
        The candidate's worker is retired afterwards, whatever happened."""
        self._refuse_unconfined(slot, _origin(payload))
        self._allow_reading(slot, _reference_folder(payload))
        waited_from = time.monotonic()
        judge = await self._take(slot, fresh=False)
        candidate = await self._take(slot, fresh=True)
        candidate.freeze()
        quiet_from = time.monotonic()
        if slot.device.is_cpu:
            # Both sides on one core, a starting standby kept off it (engine.placement); where no core
            # could be set apart, the job waits for that standby to finish starting.
            slot.core = await SharedCore.choose(judge.pid, candidate.pid)
            for starting in slot.starting:
                slot.core.keep_off(starting.pid)
            if slot.core.cpu is None:
                await self._quiet(slot)
        relay = CandidateRelay(candidate)
        sent_at = time.monotonic()
        try:
            judged = _judged(payload, candidate, slot.device)
            response = await judge.call(JobType.VERIFY, judged, limit, on_ask=relay.answer)
        except BaseException:
            self._forget(slot, judge)
            await asyncio.shield(judge.kill(KillReason.RETIRED))
            raise
        finally:
            if slot.core is not None:
                slot.core.release()
                slot.core = None
            self._forget(slot, candidate)
            await asyncio.shield(candidate.kill(KillReason.RETIRED))  # its exchange folder too
            self._replenish(slot)
        if response.retire or not judge.alive:
            self._forget(slot, judge)
            await judge.kill(KillReason.RETIRED)
        output = relay.output if relay.output.text else response.output  # what the candidate printed
        times = (waited_from, quiet_from, sent_at)
        return self._outcome(slot, response, candidate, output, times, candidate.confined)

    def _refuse_unconfined(self, slot: _Slot, origin: Origin) -> None:
        """Raise JobError(UNCONFINED) if this job's candidate would run outside the box and may not."""
        support = confinement.support()
        if support.available or origin is not Origin.MODEL or self.config.allow_unconfined:
            return
        raise JobError(
            JobErrorInfo(ErrorCode.UNCONFINED, "refused: " + support.refusal("a model-written candidate")),
            device=slot.device.label,
        )

    def _allow_reading(self, slot: _Slot, folder: Path | None) -> None:
        """Make `folder` readable in candidate boxes: a standby started without it is retired."""
        config = self._candidate_config
        if folder is None or any(folder.is_relative_to(r) for r in config.readable):
            return
        self._candidate_config = dataclasses.replace(config, readable=(*config.readable, folder))
        if not confinement.support().available:
            return
        for other in self._slots:
            stale = list(other.standby)
            other.standby.clear()
            for task in stale:
                task.cancel()
                task.add_done_callback(self._retire_started)
            self._replenish(other)

    def _retire_started(self, task: asyncio.Task[WorkerProcess]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        worker = task.result()
        self._live.discard(worker)
        kill = asyncio.ensure_future(worker.kill(KillReason.RETIRED))
        self._retiring.add(kill)
        kill.add_done_callback(self._retiring.discard)

    def _outcome(
        self,
        slot: _Slot,
        response: Response,
        worker: WorkerProcess,
        output: CapturedOutput,
        times: tuple[float, float, float],
        confined: bool | None,
    ) -> JobOutcome:
        """The job's result with where its time went (`times`: monotonic clock when it began waiting
        for its worker, when it began waiting for quiet, when the request went out), or its JobError."""
        if not response.ok:
            info = response.error or JobErrorInfo(ErrorCode.PROTOCOL, "a failed response without an error")
            raise JobError(info, response.output, device=slot.device.label)
        waited_from, quiet_from, sent_at = times
        outcome = JobOutcome(
            response.result,
            output,
            slot.device,
            worker.pid,
            worker_start_s=worker.start_seconds,
            worker_wait_s=quiet_from - waited_from,
            quiet_wait_s=sent_at - quiet_from,
            run_s=time.monotonic() - sent_at,
            confined=confined,
        )
        self.recent_outcomes.append(outcome)
        return outcome

    # -- workers -----------------------------------------------------------------------------------

    async def _take(self, slot: _Slot, fresh: bool) -> WorkerProcess:
        if not fresh:
            if slot.shared is None or not slot.shared.alive:
                slot.shared = await self._spawn(slot, Role.TRUSTED)
            return slot.shared
        if not slot.standby:
            self._start_standby(slot)
        # A standby that has said hello if there is one, else the one that started first.
        task = next((t for t in slot.standby if t.done()), slot.standby[0])
        slot.standby.remove(task)
        try:
            worker = await asyncio.shield(task)
        except asyncio.CancelledError:
            # The job was cancelled while its worker was still starting: keep that worker for the next.
            if not task.cancelled():
                slot.standby.appendleft(task)
            raise
        self._replenish(slot)
        return worker

    async def _quiet(self, slot: _Slot) -> None:
        """On the CPU, a starting worker competes for the cores being timed: let it finish first (a
        judged job instead keeps it off the core it times on where it can, engine.placement).

        On a GPU the job is timed with device events, and the next standby starts alongside it.
        """
        starting = [t for t in slot.standby if not t.done()]
        if slot.device.is_cpu and starting:
            await asyncio.wait(starting)

    def _start_standby(self, slot: _Slot) -> None:
        if self._closed:
            return
        task = asyncio.ensure_future(self._spawn(slot, Role.CANDIDATE))
        # A standby that fails to start is reported to the job that takes it; never "never retrieved".
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        slot.standby.append(task)

    async def _spawn(self, slot: _Slot, role: Role) -> WorkerProcess:
        config = self._candidate_config if role is Role.CANDIDATE else self._worker_config

        def spawned(worker: WorkerProcess) -> None:
            slot.starting.add(worker)
            if slot.core is not None:
                slot.core.keep_off(worker.pid)

        try:
            worker = await WorkerProcess.start(slot.device, config, role, on_spawn=spawned)
        finally:
            slot.starting = {w for w in slot.starting if w.ready_at is None and w.alive}
        if worker.start_seconds is not None:
            slot.start_seconds.append(worker.start_seconds)
        if self._closed:
            await worker.kill(KillReason.CLOSED)
            raise JobError(JobErrorInfo(ErrorCode.CANCELLED, "the pool closed"), device=slot.device.label)
        self._live.add(worker)
        slot.hello = worker.hello
        log.debug("worker %d up on %s", worker.pid, slot.device.label)
        return worker

    def _replenish(self, slot: _Slot) -> None:
        if not self.keep_standby:
            return
        while len(slot.standby) < self.config.standbys_for(slot.device.is_cpu) and not self._closed:
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


def _origin(payload: JsonValue) -> Origin:
    """A verify job's candidate origin (core.jobs.CandidateRef.origin); anything unreadable is MODEL."""
    candidate = payload.get("candidate") if isinstance(payload, dict) else None
    value = candidate.get("origin") if isinstance(candidate, dict) else None
    try:
        return Origin(value) if isinstance(value, str) else Origin.MODEL
    except ValueError:
        return Origin.MODEL


def _reference_folder(payload: JsonValue) -> Path | None:
    reference = payload.get("reference") if isinstance(payload, dict) else None
    path = reference.get("path") if isinstance(reference, dict) else None
    return Path(path).resolve().parent if isinstance(path, str) and path else None


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
        job_type: JobType,
        payload: JsonValue,
        *,
        timeout: float | None = None,
        fresh: bool | None = None,
        device: str | Device | None = None,
    ) -> JsonValue:
        return self.execute(job_type, payload, timeout=timeout, fresh=fresh, device=device).result

    def execute(
        self,
        job_type: JobType,
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


def _judged(payload: JsonValue, candidate: WorkerProcess, device: Device) -> dict[str, JsonValue]:
    """The judge's verify job: the engine's, and the candidate's exchange folder as each side names it."""
    view = candidate.exchange_view
    if view is None:
        raise JobError(
            JobErrorInfo(
                ErrorCode.START_FAILED,
                "the candidate's box ended before its job began (its exchange folder is gone); run it again",
            ),
            device=device.label,
        )
    return {"verify": payload, "exchange_dir": str(candidate.exchange_dir), "exchange_view": str(view)}
