"""The pool on Ray: one actor per GPU (or a fraction of one), on one host or many, same API as WorkerPool.

Each actor (ray_host.WorkerHost) owns a one-device WorkerPool, so the guarantees are the local pool's,
kept by the same code: a fresh worker per candidate job, time-outs and cancellation that kill the worker
process, replacement of a worker that crashed or faulted its GPU, and one job per device at a time (the
parent sends an actor one job at a time, and the actor's own lock holds the line). On top of that the
backend survives the actor itself dying: Ray restarts it (`max_restarts`), and an actor that is gone
for good is replaced before its device's next job.

Ray is an optional extra, imported only when this pool starts: `pip install 'kernelwright[ray]'`.

Why one module: it is one class, the parent side of the Ray pool, mirroring WorkerPool's API, and its
recovery from actors that die; the actor itself is engine/ray_host.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar

from kernelwright.core.errors import UsageError
from kernelwright.core.jobs import JobType, check_device
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.measure import DeviceKind
from kernelwright.core.protocol import ErrorCode, Hello, JobErrorInfo
from kernelwright.core.waiting import within
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.confinement import BoxSupport
from kernelwright.engine.devices import Device
from kernelwright.engine.job_error import JobError
from kernelwright.engine.ray_host import HostInfo, HostReply, WorkerHost
from kernelwright.engine.slot_pool import JobOutcome, SlotPool

log = logging.getLogger(__name__)

RAY_MISSING = (
    "the Ray backend needs Ray, which is not installed in this interpreter: "
    "pip install 'kernelwright[ray]', or use the local pool (cluster `local`)"
)

# Beyond a job's own limit (which the worker inside the actor enforces), how long the parent waits for
# the actor before it gives up on the actor itself (a lost node, a hung raylet).
BACKSTOP_SLACK_S = 60.0
# After ray.cancel, how long to wait for the actor to confirm that it killed the job's worker.
CANCEL_SETTLE_S = 15.0
CLOSE_TIMEOUT_S = 30.0
# How long an actor that Ray is restarting (max_restarts) is waited for before a new one replaces it.
RESTART_WAIT_S = 30.0
# Control calls (ready, pids, close) run beside the job; jobs themselves are one at a time (see above).
ACTOR_CONCURRENCY = 8


@dataclass(frozen=True)
class RaySettings:
    # None: RAY_ADDRESS if set, else a new local Ray instance. Or `ray://HOST:PORT` (Ray Client), or
    # `HOST:PORT` of a cluster this machine is a node of.
    address: str | None = None
    # The Ray GPU resource each actor asks for. Fractions put several actors on one GPU: more verify
    # throughput, but their timings compete, so keep 1.0 when the numbers matter.
    gpus_per_worker: float = 1.0
    # How many actors: None means every GPU in the cluster (GPUs / gpus_per_worker), or `cpu_workers`
    # actors when the cluster has no GPU or the CPU was asked for.
    workers: int | None = None
    cpu_workers: int = 1
    cpus_per_worker: float = 1.0
    max_restarts: int = 2  # Ray restarts a crashed actor this often; after that the backend replaces it
    standby: bool = True  # each actor keeps a warm worker ready for the next candidate, like WorkerPool
    own_python: bool = True  # workers use the actor's interpreter, not the driver's path
    local_num_cpus: int | None = None  # CPUs of a local instance started here (None: Ray's count)
    namespace: str = "kernelwright"
    placement_timeout_s: float = 300.0  # for every actor to be placed and its pool started


@dataclass
class _Slot:
    device: Device
    actor: Any  # a Ray ActorHandle of WorkerHost
    info: HostInfo | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0
    hello: Hello | None = None
    suspect: bool = False  # its actor failed a job: probe it, and replace it if gone, before the next


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def import_ray() -> ModuleType:
    """Ray, or a UsageError saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise UsageError(RAY_MISSING) from None


class RayPool(SlotPool[_Slot]):
    """`await pool.start()`, `await pool.submit(job_type, payload, timeout=, fresh=, device=)`, `close()`.

    Devices are the pool's actors: `cuda:N` is its N-th GPU actor (anywhere in the cluster; inside the
    actor it is `cuda:0`), and CPU actors are all `cpu`. `placement(device)` says where each one runs.
    """

    pool_name: ClassVar[str] = "Ray pool"

    def __init__(
        self,
        devices: str | Sequence[str] = "auto",
        *,
        config: WorkerConfig | None = None,
        settings: RaySettings | None = None,
    ) -> None:
        self._request = devices
        self.config = config or WorkerConfig()
        self.settings = settings or RaySettings()
        self._slots: list[_Slot] = []
        self._closed = False
        self._owns_ray = False
        self._ray: ModuleType | None = None
        self._host_class: Any = None

    @property
    def confinement(self) -> BoxSupport:
        """Candidates run on the Ray hosts, each of which boxes them or refuses a model's candidate
        (ErrorCode.UNCONFINED) by its own pool's rules: nothing is decided here."""
        return BoxSupport(True, mechanism="each Ray host's own (a host that cannot box refuses the job)")

    # -- life cycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to (or start) Ray, place the actors, and wait until each has started its pool."""
        ray = import_ray()
        self._ray = ray
        if not ray.is_initialized():
            if threading.current_thread() is threading.main_thread():
                # Blocks a few seconds, but only the main thread can install Ray's SIGTERM clean-up.
                ray.init(**self._init_arguments())
            else:
                await asyncio.to_thread(ray.init, **self._init_arguments())
            self._owns_ray = True
        kind = self._wanted_kind()
        gpus = float((await asyncio.to_thread(ray.cluster_resources)).get("GPU", 0.0))
        if kind is None:
            kind = DeviceKind.CUDA if gpus > 0 else DeviceKind.CPU
        count = self._actor_count(kind, gpus)
        self._host_class = ray.remote(WorkerHost)
        self._slots = [_Slot(Device(kind, i), self._new_actor(kind)) for i in range(count)]
        try:
            infos = await asyncio.gather(*(self._ready(slot) for slot in self._slots))
        except BaseException:
            await self.close()
            raise
        for slot, info in zip(self._slots, infos, strict=True):
            slot.info = info
            log.debug("ray actor %s on %s (pid %d)", slot.device.label, info.node, info.actor_pid)

    async def close(self) -> None:
        """Close every actor's pool (jobs in flight fail with CANCELLED), then end the actors."""
        self._closed = True
        ray = self._ray
        if ray is None:
            return
        await asyncio.gather(*(self._end_actor(slot.actor) for slot in self._slots), return_exceptions=True)
        if self._owns_ray:
            self._owns_ray = False
            await asyncio.to_thread(ray.shutdown)

    def placement(self, device: Device) -> HostInfo | None:
        """Where the device's actor runs: host, actor pid, the GPU Ray gave it."""
        return self._slot(device).info

    def actor(self, device: Device) -> Any:
        """The device's Ray actor handle (for diagnostics and fault tests)."""
        return self._slot(device).actor

    async def worker_pids(self) -> dict[Device, list[int]]:
        """The worker processes alive in each actor now (pids on the actor's host)."""
        pids = await asyncio.gather(*(_await(slot.actor.pids.remote()) for slot in self._slots))
        return {slot.device: list(p) for slot, p in zip(self._slots, pids, strict=True)}

    # -- jobs --------------------------------------------------------------------------------------

    async def _run_locked(
        self, slot: _Slot, job_type: JobType, payload: JsonValue, limit: float, fresh: bool
    ) -> JobOutcome:
        if slot.suspect:
            await self._heal(slot)
        reply = await self._call(slot, job_type, payload, limit, fresh)
        if reply.hello is not None:
            slot.hello = reply.hello
        if reply.error is not None:
            raise JobError(reply.error, reply.output, device=self._where(slot))
        return JobOutcome(reply.result, reply.output, slot.device, reply.worker_pid)

    async def _call(
        self, slot: _Slot, job_type: JobType, payload: JsonValue, limit: float, fresh: bool
    ) -> HostReply:
        ray = self._ray_module
        errors = ray.exceptions
        ref = slot.actor.run.remote(job_type, payload, limit, fresh)
        # The actor enforces `limit` itself (killing the worker); this is for an actor that stops answering.
        backstop = limit + self.config.start_timeout_s + BACKSTOP_SLACK_S
        try:
            reply = await within(_await(ref), backstop)
        except asyncio.CancelledError:
            # Inside the actor the job's task gets CancelledError, and the worker call kills the worker
            # process group. Wait (briefly) for that, so a cancelled job is a dead worker, as locally.
            ray.cancel(ref)
            with contextlib.suppress(BaseException):
                await asyncio.shield(within(_await(ref), CANCEL_SETTLE_S))
            raise
        except TimeoutError:
            ray.cancel(ref)
            slot.suspect = True
            raise self._error(
                slot,
                ErrorCode.TIMEOUT,
                f"the Ray actor did not answer {job_type} within {backstop:g} s (the job's own limit was "
                f"{limit:g} s); the actor will be checked, and replaced if it is gone",
            ) from None
        except errors.TaskCancelledError:
            raise self._error(slot, ErrorCode.CANCELLED, f"{job_type} was cancelled through Ray") from None
        except errors.RayActorError as exc:
            slot.suspect = True
            raise self._error(
                slot,
                ErrorCode.CRASH,
                f"the Ray actor hosting this device died during {job_type} ({type(exc).__name__}), and "
                "the job's worker with it; the next job gets a restarted or a new actor",
            ) from None
        except errors.RayError as exc:
            raise self._error(slot, ErrorCode.PROTOCOL, f"the Ray actor failed {job_type}: {exc}") from None
        if not isinstance(reply, HostReply):
            raise self._error(slot, ErrorCode.PROTOCOL, f"the Ray actor answered a {type(reply).__name__}")
        return reply

    # -- actors ------------------------------------------------------------------------------------

    def _init_arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "namespace": self.settings.namespace,
            "logging_level": logging.WARNING,
            # Workers write to their own capture files; what actors print would only clutter the
            # driver's stdout, which carries the CLI's JSON.
            "log_to_driver": False,
        }
        address = self.settings.address or os.environ.get("RAY_ADDRESS") or None
        if address is None:
            args["include_dashboard"] = False
            if self.settings.local_num_cpus is not None:
                args["num_cpus"] = self.settings.local_num_cpus
        else:
            args["address"] = address
        return args

    def _wanted_kind(self) -> DeviceKind | None:
        names = [self._request] if isinstance(self._request, str) else list(self._request)
        kinds: set[DeviceKind | None] = set()
        for name in names:
            value = check_device(name)
            if value == "auto":
                kinds.add(None)
            elif value == "cpu":
                kinds.add(DeviceKind.CPU)
            elif value == "cuda":
                kinds.add(DeviceKind.CUDA)
            else:
                raise UsageError(
                    f"device `{name}`: on Ray the GPUs are the cluster's, not this machine's; use `cuda` "
                    "(or auto) and choose how many with the Ray settings `workers` and `gpus_per_worker`"
                )
        if len(kinds) != 1:
            raise UsageError("on Ray, ask for one kind of device: auto, cpu or cuda")
        return kinds.pop()

    def _actor_count(self, kind: DeviceKind, cluster_gpus: float) -> int:
        s = self.settings
        if kind is DeviceKind.CPU:
            count = s.workers if s.workers is not None else s.cpu_workers
        else:
            if not 0 < s.gpus_per_worker <= 1:
                raise UsageError(
                    f"gpus_per_worker={s.gpus_per_worker}: use a fraction of one GPU (0 < g <= 1); a worker "
                    "times on one GPU"
                )
            fits = math.floor(cluster_gpus / s.gpus_per_worker + 1e-9)
            if fits == 0:
                raise UsageError(
                    "the Ray cluster has no GPU: start Ray on GPU nodes, or ask for device cpu"
                    if cluster_gpus == 0
                    else f"the Ray cluster has {cluster_gpus:g} GPU(s), fewer than one worker's "
                    f"{s.gpus_per_worker:g}"
                )
            count = s.workers if s.workers is not None else fits
            if count > fits:
                raise UsageError(
                    f"{count} workers x {s.gpus_per_worker:g} GPU need {count * s.gpus_per_worker:g} GPUs; "
                    f"the Ray cluster has {cluster_gpus:g}. Ask for at most {fits} workers"
                )
        if count < 1:
            raise UsageError(f"workers={count}: the Ray pool needs at least one worker")
        return count

    def _new_actor(self, kind: DeviceKind) -> Any:
        s = self.settings
        options = self._host_class.options(
            num_gpus=s.gpus_per_worker if kind is DeviceKind.CUDA else 0,
            num_cpus=s.cpus_per_worker,
            max_restarts=s.max_restarts,
            # Never re-run a job on a restarted actor: a candidate that took its host down runs once.
            max_task_retries=0,
            max_concurrency=ACTOR_CONCURRENCY,
        )
        return options.remote(kind, self.config, s.standby, s.own_python)

    async def _ready(self, slot: _Slot) -> HostInfo:
        errors = self._ray_module.exceptions
        try:
            info = await within(_await(slot.actor.ready.remote()), self.settings.placement_timeout_s)
        except TimeoutError:
            raise UsageError(
                f"the Ray actor for {slot.device.label} was not placed and started within "
                f"{self.settings.placement_timeout_s:g} s: the cluster may lack the resources asked for "
                f"({self.settings.gpus_per_worker:g} GPU, {self.settings.cpus_per_worker:g} CPU each); "
                "check `ray status`"
            ) from None
        except errors.RayTaskError as exc:
            # The host's own error (e.g. its worker did not start): its message, not Ray's wrapping.
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
            raise UsageError(f"the Ray actor for {slot.device.label} could not start: {cause}") from None
        if not isinstance(info, HostInfo):
            raise UsageError(f"the Ray actor for {slot.device.label} answered a {type(info).__name__}")
        return info

    async def _heal(self, slot: _Slot) -> None:
        """After an actor failed a job: keep it if Ray restarted it, else put a new actor in its place.
        An actor that Ray is still restarting is waited for (RESTART_WAIT_S), not replaced at once."""
        errors = self._ray_module.exceptions
        try:
            deadline = time.monotonic() + RESTART_WAIT_S
            while True:
                try:
                    slot.info = await self._ready(slot)
                    break
                except errors.ActorUnavailableError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
        except (errors.RayActorError, UsageError) as exc:
            log.warning("ray actor for %s is gone (%s); starting a new one", slot.device.label, exc)
            await self._end_actor(slot.actor)
            slot.actor = self._new_actor(slot.device.kind)
            slot.info = await self._ready(slot)
        slot.suspect = False

    async def _end_actor(self, actor: Any) -> None:
        ray = self._ray_module
        with contextlib.suppress(Exception):
            await within(_await(actor.close.remote()), CLOSE_TIMEOUT_S)
        with contextlib.suppress(Exception):
            ray.kill(actor, no_restart=True)

    # -- helpers -----------------------------------------------------------------------------------

    @property
    def _ray_module(self) -> Any:
        if self._ray is None:
            raise RuntimeError("the Ray pool is not started (await pool.start())")
        return self._ray

    def _where(self, slot: _Slot) -> str:
        return f"{slot.device.label}@{slot.info.node}" if slot.info is not None else slot.device.label

    def _error(self, slot: _Slot, code: ErrorCode, message: str) -> JobError:
        return JobError(JobErrorInfo(code, message), device=self._where(slot))

    def _pick(self, device: str | Device | None) -> _Slot:
        if not self._slots:
            raise RuntimeError("the Ray pool is not started (await pool.start())")
        if isinstance(device, Device):
            candidates = [s for s in self._slots if s.device == device]
        elif device is None or device == "auto":
            candidates = self._slots
        else:
            value = check_device(device)
            if value == "cpu":
                candidates = [s for s in self._slots if s.device.is_cpu]
            elif value == "cuda":
                candidates = [s for s in self._slots if not s.device.is_cpu]
            else:
                candidates = [s for s in self._slots if s.device.label == value]
        if not candidates:
            wanted = device.label if isinstance(device, Device) else device
            have = ", ".join(sorted({s.device.label for s in self._slots}))
            raise UsageError(f"this Ray pool has no worker for {wanted} (it runs on {have})")
        return min(candidates, key=lambda s: s.waiting)


async def _await(ref: Any) -> Any:
    """Await a Ray ObjectRef (or a Ray Client ref) from asyncio."""
    return await ref
