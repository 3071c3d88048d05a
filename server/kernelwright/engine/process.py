"""One worker process seen from the parent: start it, send it a job, notice how it died, kill it.

A worker has a role: TRUSTED workers run only the person's own code (bench, calibrate, a verify job's
judge); CANDIDATE workers may run model-written code and start inside the box (engine.confinement)
when this machine can make one, with an allowlisted environment, their own scratch, caches and
exchange folder. The worker runs in its own session (process group), and a kill or a freeze reaches
every process under it (those that left its group too), so a kill takes the compilers and other
children a candidate started along with it. Its protocol pipes are private fds; its stdout and stderr go to a
capture file whose tail explains a death (the Python traceback that PYTHONFAULTHANDLER writes on a
segfault, a CUDA error, the last prints).

Why one module: one worker process's life (start, send, freeze and thaw, how it died, killing its whole
tree) is one state machine, WorkerProcess; the rest are its helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import errno
import os
import shutil
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from kernelwright.core.jobs import JobType
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import (
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    Answer,
    Ask,
    CapturedOutput,
    ErrorCode,
    Hello,
    JobErrorInfo,
    ProtocolError,
    Request,
    Response,
    decode,
    encode,
)
from kernelwright.core.waiting import within
from kernelwright.engine import confinement, leftovers
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import Device
from kernelwright.engine.environment import worker_env
from kernelwright.engine.freeze import FREEZE_WATCH_S, FreezeWatch
from kernelwright.engine.job_error import JobError

WORKER_MODULE = "kernelwright.harness.worker"
# A judge's question and the job's deadline (monotonic) -> the answer to write back.
AskHandler = Callable[[Ask, float], Awaitable[Answer]]
CAPTURE_NAME = "output.log"  # in the worker's directory: its stdout and stderr
PROCESS_WATCH_S = 0.1  # how often a running candidate worker's processes are counted


class Role(enum.StrEnum):
    TRUSTED = "trusted"  # runs the person's code only: bench, calibrate, a verify job's judge
    CANDIDATE = "candidate"  # may run model-written code: boxed where the machine allows it


class KillReason(enum.StrEnum):
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    RETIRED = "retired"  # done with it: ran candidate code, or its state is suspect
    CLOSED = "closed"  # the pool shut down


class WorkerProcess:
    def __init__(
        self,
        device: Device,
        config: WorkerConfig,
        proc: asyncio.subprocess.Process,
        tmpdir: Path,
        reader: asyncio.StreamReader,
        writer: asyncio.WriteTransport,
        role: Role = Role.TRUSTED,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.device = device
        self.config = config
        self.proc = proc
        self.tmpdir = tmpdir
        self.role = role
        self.sandbox = sandbox
        self.capture_path = tmpdir / CAPTURE_NAME
        self._reader = reader
        self._writer = writer
        self._next_id = 1
        self.hello: Hello | None = None
        self.kill_reason: KillReason | None = None
        self._final_output: CapturedOutput | None = None
        # Monotonic clock: when the parent began starting it and when its hello came (None until then).
        self.spawned_at = time.monotonic()
        self.ready_at: float | None = None
        self.process_overflow = 0  # the process count that got it killed (see _watch_processes)
        self.exchange_overflow = ""  # what its exchange folder held when that got it killed (likewise)
        # While frozen: what is watched, and the task that watches it (engine.freeze); what it saw.
        self._freeze: FreezeWatch | None = None
        self._freeze_task: asyncio.Task[None] | None = None
        self.freeze_escape: str | None = None

    @property
    def start_seconds(self) -> float | None:
        """Spawn to hello: python, torch, triton and the device context, as this worker paid for them."""
        return None if self.ready_at is None else self.ready_at - self.spawned_at

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None and self.kill_reason is None

    # -- start -------------------------------------------------------------------------------------

    @property
    def confined(self) -> bool:
        return self.sandbox is not None and self.sandbox.boxed

    @property
    def exchange_dir(self) -> Path | None:
        """A candidate worker's exchange folder (its outputs for the judge) as its own process names it;
        None for a trusted one."""
        return None if self.sandbox is None else self.sandbox.exchange

    @property
    def exchange_view(self) -> Path | None:
        """The same folder as the engine and the judge reach it: through the box's root where it is a
        tmpfs of the box, else the folder itself. None for a trusted worker, or a box that is gone."""
        if self.sandbox is None or not self.sandbox.exchange_in_box:
            return self.exchange_dir
        root = confinement.box_root(self.proc.pid)
        return None if root is None else root / self.sandbox.exchange.relative_to("/")

    @classmethod
    async def start(
        cls,
        device: Device,
        config: WorkerConfig,
        role: Role = Role.TRUSTED,
        on_spawn: Callable[[WorkerProcess], None] | None = None,
    ) -> WorkerProcess:
        """Spawn a worker and wait for its hello; raise JobError(START_FAILED) with its output if not.
        `on_spawn` sees the worker as soon as its process exists, before it has said hello."""
        spawned_at = time.monotonic()
        # Named with this process as its owner: if we are killed, the next pool start removes it.
        tmpdir = leftovers.make_folder(leftovers.WORKER_PREFIX)
        worker = await cls._spawn(device, config, tmpdir, role)
        worker.spawned_at = spawned_at
        if on_spawn is not None:
            on_spawn(worker)
        try:
            line = await within(worker._reader.readline(), config.start_timeout_s)
        except TimeoutError:
            await worker.kill(KillReason.TIMEOUT)
            raise worker._start_error(f"no hello within {config.start_timeout_s:.0f} s") from None
        except (asyncio.CancelledError, Exception):
            await worker.kill(KillReason.CLOSED)
            raise
        if not line:
            code = await worker._wait_exit()
            await worker.kill(KillReason.CLOSED)
            raise worker._start_error(f"it exited before saying hello ({_describe_exit(code)})")
        try:
            hello = decode(line)
        except ProtocolError as exc:
            await worker.kill(KillReason.CLOSED)
            raise worker._start_error(str(exc)) from None
        if not isinstance(hello, Hello):
            await worker.kill(KillReason.CLOSED)
            raise worker._start_error(f"its first message was a {hello.kind}, not a hello")
        worker.hello = hello
        worker.ready_at = time.monotonic()
        return worker

    @classmethod
    async def _spawn(cls, device: Device, config: WorkerConfig, tmpdir: Path, role: Role) -> WorkerProcess:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        capture_path = tmpdir / CAPTURE_NAME
        capture = os.open(capture_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        cmd = [
            config.python,
            "-m",
            WORKER_MODULE,
            "--device",
            device.label,
            "--fd-in",
            str(req_r),
            "--fd-out",
            str(resp_w),
            "--capture",
            str(capture_path),
            "--handler",
            config.handler,
            "--tail-bytes",
            str(config.output_tail_bytes),
        ]
        if device.is_cpu and config.cpu_memory_cap_bytes:
            cmd += ["--memory-limit", str(config.cpu_memory_cap_bytes)]
        if config.nproc_limit:
            cmd += ["--nproc-limit", str(config.nproc_limit)]
        if config.file_size_limit_bytes:
            cmd += ["--file-size-limit", str(config.file_size_limit_bytes)]
        env = worker_env(os.environ, device, tmpdir, config)
        cwd = config.cwd or tmpdir
        sandbox: Sandbox | None = None
        extra_fds: tuple[int, ...] = ()
        try:
            if role is Role.CANDIDATE:
                if shutil.which(config.python) is None:  # in the box, bwrap's exec would be what fails
                    raise FileNotFoundError(errno.ENOENT, "no such executable file", config.python)
                sandbox = Sandbox.prepare(device, config, tmpdir, env)
                env, cwd = sandbox.env, sandbox.cwd
                cmd, extra_fds = sandbox.wrap(cmd)
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=capture,
                stderr=capture,
                pass_fds=(req_r, resp_w, *extra_fds),
                start_new_session=True,
                env=env,
                cwd=str(cwd),
            )
        except OSError as exc:
            for fd in (req_r, req_w, resp_r, resp_w):
                os.close(fd)
            shutil.rmtree(tmpdir, ignore_errors=True)
            if sandbox is not None:
                sandbox.remove()
            raise _no_interpreter(config, device, str(exc)) from None
        finally:
            os.close(capture)
            for fd in extra_fds:
                os.close(fd)
        os.close(req_r)
        os.close(resp_w)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(resp_r, "rb", buffering=0)
        )
        writer, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(req_w, "wb", buffering=0))
        return cls(device, config, proc, tmpdir, reader, writer, role, sandbox)

    def _start_error(self, why: str) -> JobError:
        return JobError(
            JobErrorInfo(
                ErrorCode.START_FAILED,
                f"the {self.device.label} worker ({self.config.python}) did not start: {why}. Check that "
                "this interpreter can `import torch` and has this kernelwright installed",
            ),
            self.read_output(),
            device=self.device.label,
        )

    # -- jobs --------------------------------------------------------------------------------------

    async def call(
        self, job_type: JobType, payload: JsonValue, timeout: float, on_ask: AskHandler | None = None
    ) -> Response:
        """Run one job. A response (ok or not) comes back; a worker death or time-out raises JobError.

        With `on_ask` (a verify job's judge), the worker's questions for its candidate worker are
        answered through it until the response comes; the time-out covers the whole job. An ask from a
        worker given no `on_ask`, or for another job, is a protocol error.

        On cancellation the worker is killed at once (its state is unknown) and CancelledError re-raised.
        """
        request = Request(v=PROTOCOL_VERSION, id=self._next_id, type=job_type, payload=payload)
        self._next_id += 1
        deadline = time.monotonic() + timeout
        watch = self._watch_processes() if self.role is Role.CANDIDATE else None
        try:
            return await self._exchange(request, job_type, deadline, timeout, on_ask)
        finally:
            if watch is not None:
                watch.cancel()

    async def _exchange(
        self, request: Request, job_type: JobType, deadline: float, timeout: float, on_ask: AskHandler | None
    ) -> Response:
        self._writer.write(encode(request))
        while True:
            line = await self._read_reply(job_type, max(0.0, deadline - time.monotonic()), timeout)
            if not line:
                return await self._died(job_type)
            try:
                message = decode(line)
            except ProtocolError as exc:
                await self.kill(KillReason.RETIRED)
                raise self._death_error(ErrorCode.PROTOCOL, str(exc)) from None
            if isinstance(message, Ask) and on_ask is not None and message.id == request.id:
                answer = await on_ask(message, deadline)
                self._writer.write(encode(answer))
                continue
            if not isinstance(message, Response) or message.id != request.id:
                await self.kill(KillReason.RETIRED)
                what = f"a {message.kind} message" if not isinstance(message, Response) else "another id"
                raise self._death_error(
                    ErrorCode.PROTOCOL, f"expected the response to job {request.id}, got {what}"
                )
            return message

    async def _read_reply(self, job_type: JobType, remaining: float, timeout: float) -> bytes:
        try:
            return await within(self._reader.readline(), remaining)
        except TimeoutError:
            await self.kill(KillReason.TIMEOUT)
            raise self._death_error(
                ErrorCode.TIMEOUT,
                f"{job_type} did not finish within {timeout:g} s; the worker was killed "
                "(an endless loop or a hung kernel?). Raise the time-out if the job is just slow",
            ) from None
        except asyncio.CancelledError:
            await asyncio.shield(self.kill(KillReason.CANCELLED))
            raise
        except (ConnectionError, ValueError) as exc:
            # A broken pipe, or a line over MAX_MESSAGE_BYTES: either way this worker is done.
            await self.kill(KillReason.RETIRED)
            raise self._death_error(ErrorCode.PROTOCOL, f"the worker's pipe failed: {exc}") from None

    def _watch_processes(self) -> asyncio.Task[None] | None:
        """While a job runs, count the processes under a candidate worker (RLIMIT_NPROC does not bind a
        worker started by root, boxed or not) and measure its exchange folder (memory: where it is a
        bound folder in /dev/shm, the file-size limit bounds each file, not how many; a tmpfs of the box
        has its bytes capped by the kernel, but not its entries): past `config.process_cap`, or past the
        folder's caps, it is killed, and the job's error says which."""
        cap = self.config.process_cap
        if not self.alive:
            return None

        async def watch() -> None:
            while self.alive:
                count = len(descendants([self.proc.pid]))
                if cap and count > cap:
                    self.process_overflow = count
                    await self.kill(KillReason.RETIRED)
                    return
                view = self.exchange_view
                if view is not None:
                    self.exchange_overflow = exchange_overflow(view, self.config)
                    if self.exchange_overflow:
                        await self.kill(KillReason.RETIRED)
                        return
                await asyncio.sleep(PROCESS_WATCH_S)

        return asyncio.ensure_future(watch())

    def freeze(self) -> None:
        """Stop the worker's processes (SIGSTOP): between a judge's questions a candidate worker runs
        nothing, so no thread of the candidate's can race the judge's reads or its timing. The stop is
        watched until the thaw (engine.freeze): a process that runs anyway has the worker killed, and
        `freeze_escape` says what was seen."""
        if not self.alive or self._freeze is not None:
            return
        self._signal(signal.SIGSTOP)
        pid = self.proc.pid
        self._freeze = watch = FreezeWatch(lambda: [pid, *descendants([pid])])

        async def poll() -> None:
            while self._freeze is watch:
                await asyncio.sleep(FREEZE_WATCH_S)
                if self._freeze is watch and watch.look() is not None:
                    self.freeze_escape = watch.escape
                    await self.kill(KillReason.RETIRED)
                    return

        self._freeze_task = asyncio.ensure_future(poll())

    def thaw(self) -> None:
        """Resume the worker's processes, after one last look at them (it covers the time since the last
        poll); a worker seen to have run while held is not resumed, and `freeze_escape` says why."""
        watch, self._freeze = self._freeze, None
        self._stop_freeze_task()
        if watch is not None and watch.look(thaw=True) is not None:
            self.freeze_escape = watch.escape
            return
        self._signal(signal.SIGCONT)

    def _stop_freeze_task(self) -> None:
        task, self._freeze_task = self._freeze_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _signal(self, sig: signal.Signals) -> None:
        if self.alive:
            signal_tree(self.proc.pid, sig)

    async def _died(self, job_type: JobType) -> Response:
        if self.kill_reason is KillReason.CANCELLED or self.kill_reason is KillReason.CLOSED:
            raise self._death_error(ErrorCode.CANCELLED, f"{job_type} was cancelled ({self.kill_reason})")
        code = await self._wait_exit()
        await self.kill(KillReason.RETIRED)  # its children, and the directory
        error_code, what = _classify_exit(code, self.config)
        if self.process_overflow:
            error_code = ErrorCode.CRASH
            what = (
                f"it started {self.process_overflow} processes, over the cap of {self.config.process_cap} "
                "(a fork bomb?); it was killed with every process it started"
            )
        if self.exchange_overflow:
            error_code, what = ErrorCode.CRASH, self.exchange_overflow
        raise self._death_error(error_code, f"the worker died during {job_type}: {what}")

    def _death_error(self, code: ErrorCode, message: str) -> JobError:
        return JobError(JobErrorInfo(code, message), self.read_output(), device=self.device.label)

    async def _wait_exit(self) -> int:
        # EOF on the pipe comes a moment before the exit status; a closed pipe with a live process
        # (a candidate closed fd W) is a death too.
        try:
            code = await within(self.proc.wait(), 10.0)
        except TimeoutError:
            await self.kill(KillReason.RETIRED)
            code = await self.proc.wait()
        if self.confined and code > 128:
            return -(code - 128)  # bwrap exits with 128 + N when its child died of signal N
        return code

    def read_output(self) -> CapturedOutput:
        if self._final_output is not None:
            return self._final_output
        return CapturedOutput.tail_of(str(self.capture_path), self.config.output_tail_bytes)

    # -- stop --------------------------------------------------------------------------------------

    async def kill(self, reason: KillReason) -> None:
        """SIGKILL the worker's whole process group, reap it, remove its directory. Idempotent."""
        if self.kill_reason is None:
            self.kill_reason = reason
        self._freeze = None
        self._stop_freeze_task()
        # A frozen (SIGSTOPped) process dies at once too; in a box, the rest of its PID namespace dies
        # with its first process.
        signal_tree(self.proc.pid, signal.SIGKILL)
        if self.proc.returncode is None:
            # os.kill, not Popen.kill: that polls first, reaping the child under asyncio's child watcher,
            # which then logs "Unknown child process pid N" and reports its exit status as 255. An
            # unreaped pid cannot be reused, so this signal reaches the worker or its zombie.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()
        self._writer.close()
        if self._final_output is None:
            # Errors are built after the kill: keep the capture's tail, then remove the directory.
            self._final_output = self.read_output()
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            if self.sandbox is not None:
                self.sandbox.remove()


class Sandbox:
    """A candidate worker's own places (scratch, exchange folder), its environment built from the
    allowlist, and, where the machine allows it, the box it starts in."""

    def __init__(
        self, env: dict[str, str], cwd: Path, exchange: Path, plan: confinement.BoxPlan | None
    ) -> None:
        self.env = env
        self.cwd = cwd
        self.exchange = exchange
        self.plan = plan

    @property
    def boxed(self) -> bool:
        return self.plan is not None

    @property
    def exchange_in_box(self) -> bool:
        """Whether the exchange folder is a tmpfs of the box (capped by the kernel, seen from outside
        through confinement.box_root) rather than a bound host folder."""
        return self.plan is not None and self.plan.exchange is not None

    @classmethod
    def prepare(cls, device: Device, config: WorkerConfig, tmpdir: Path, env: dict[str, str]) -> Sandbox:
        scratch = tmpdir / confinement.SCRATCH_NAME
        scratch.mkdir(mode=0o700)
        exchange = _exchange_folder(tmpdir)
        env = {**env, "TMPDIR": str(scratch), "TMP": str(scratch), "TEMP": str(scratch)}
        if config.cache_dir is None:
            env["TORCH_EXTENSIONS_DIR"] = str(scratch / "torch_extensions")
        # The person's variables pass the allowlist; kernelwright's own settings (extra_env) pass as set.
        env = {**confinement.candidate_env(env, home=scratch), **config.extra_env}
        support = confinement.support()
        if not support.available:
            return cls(env, scratch, exchange, None)
        caches = [Path(env[k]) for k in confinement.CACHE_VARIABLES if k in env]
        if config.cache_dir is not None:  # the candidates' part of the person's cache folder
            caches = [config.cache_dir, *(c for c in caches if not c.is_relative_to(config.cache_dir))]
        for folder in caches:
            folder.mkdir(parents=True, exist_ok=True)
        home = Path.home()
        readable = [
            *confinement.interpreter_folders(config.python, env.get("PYTHONPATH", "")),
            *confinement.toolchain_folders(env),
            *config.readable,
            tmpdir,  # the capture file: written through the fd the box inherits, read back for tails
        ]
        cwd = scratch
        if config.cwd is not None and not home.is_relative_to(config.cwd.resolve()):
            readable.append(config.cwd)
            cwd = config.cwd
        # The kernel caps the exchange folder where the judge can read a tmpfs of the box; elsewhere it
        # is a bound host folder, measured while the job runs (WorkerProcess._watch_processes).
        in_box = confinement.box_tmpfs_visible()
        writable = [c for c in caches if not c.is_relative_to(scratch)]
        plan = confinement.BoxPlan(
            readable=tuple(readable),
            writable=tuple(writable if in_box else [exchange, *writable]),
            scratch=scratch,
            chdir=cwd,
            gpu_nodes=() if device.is_cpu else confinement.gpu_nodes(device.physical, device.index),
            home=home,
            scratch_bytes=config.scratch_bytes,
            exchange=exchange if in_box else None,
            exchange_bytes=config.exchange_cap_bytes,
        )
        return cls(env, cwd, exchange, plan)

    def wrap(self, command: list[str]) -> tuple[list[str], tuple[int, ...]]:
        """The command line that starts `command` in the box, and the fds it must inherit."""
        binary = confinement.bwrap_path()
        if self.plan is None or binary is None:
            return command, ()
        program = confinement.seccomp_program()
        fds: tuple[int, ...] = ()
        plan = self.plan
        if program is not None:
            read, write = os.pipe()
            os.write(write, program)
            os.close(write)
            fds = (read,)
            plan = dataclasses.replace(plan, seccomp_fd=read)
        return confinement.box_argv(plan, command, binary), fds

    def remove(self) -> None:
        shutil.rmtree(self.exchange, ignore_errors=True)


def _no_interpreter(config: WorkerConfig, device: Device, why: str) -> JobError:
    return JobError(
        JobErrorInfo(
            ErrorCode.START_FAILED,
            f"cannot run {config.python}: {why}; set the Python interpreter to one that has "
            "torch and kernelwright installed",
        ),
        device=device.label,
    )


def _exchange_folder(tmpdir: Path) -> Path:
    """Where a candidate writes outputs for the judge: in shared memory where there is some (no disk in
    the way of a GPU-sized output), else in the worker's own directory."""
    shared = leftovers.SHARED_MEMORY
    usable = shared.is_dir() and os.access(shared, os.W_OK)
    return leftovers.make_folder(leftovers.EXCHANGE_PREFIX, shared if usable else tmpdir)


def exchange_overflow(folder: Path, config: WorkerConfig) -> str:
    """What a candidate's exchange folder holds past its caps (config.exchange_cap_bytes and
    exchange_cap_entries), as the reason it was killed; "" while it is within them. Bytes are those
    allocated (a sparse file costs no memory), counted over every entry below the folder, links not
    followed."""
    used = entries = 0
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            entries += 1
            with contextlib.suppress(OSError):
                used += os.lstat(os.path.join(root, name)).st_blocks * 512
        if entries > config.exchange_cap_entries:
            return (
                f"it made over {config.exchange_cap_entries} files and folders in its exchange folder "
                f"(the judge reads one outputs file at a time); it was killed and the folder removed"
            )
    if used > config.exchange_cap_bytes:
        return (
            f"it wrote {used} bytes into its exchange folder, over the cap of {config.exchange_cap_bytes} "
            f"(the folder is memory, in /dev/shm, and the judge reads one outputs file at a time); it was "
            f"killed and the folder removed. A problem whose outputs are this large needs a larger "
            f"exchange_cap_bytes"
        )
    return ""


def signal_tree(pid: int, sig: signal.Signals) -> None:
    """Signal the process group of `pid` and every process below `pid`, those that left the group with
    setsid or setpgid too. The tree is read before the first signal (a killed parent's children move to
    another parent) and again until it holds no new process, so a fork racing the walk is caught."""
    seen: set[int] = set()
    found = descendants([pid])
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    while found:
        for child in found:
            seen.add(child)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, sig)
        found = [p for p in descendants([pid, *seen]) if p not in seen]


def descendants(roots: list[int]) -> list[int]:
    """Every process below `roots` (children of any of their threads, and theirs)."""
    found: list[int] = []
    todo = list(roots)
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as fh:
                    children = [int(c) for c in fh.read().split()]
            except (OSError, ValueError):
                continue
            new = [c for c in children if c not in found]
            found += new
            todo += new
    return found


def _classify_exit(code: int, config: WorkerConfig) -> tuple[ErrorCode, str]:
    if code < 0:
        sig = -code
        if sig == signal.SIGKILL:
            return ErrorCode.OOM, (
                "killed by SIGKILL, most likely by the kernel's out-of-memory killer; use smaller inputs "
                "or free memory"
            )
        if sig == getattr(signal, "SIGXFSZ", -1):
            limit = config.file_size_limit_bytes or 0
            return ErrorCode.CRASH, (
                f"killed by SIGXFSZ: it wrote a file past the {limit // (1024 * 1024)} MiB limit "
                "(most likely endless output on stdout)"
            )
        return ErrorCode.CRASH, f"killed by {_describe_exit(code)}"
    return ErrorCode.EXIT, f"the process exited with code {code} (os._exit or exit in the code it ran)"


def _describe_exit(code: int) -> str:
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    meaning = {
        "SIGSEGV": "segmentation fault",
        "SIGABRT": "abort",
        "SIGBUS": "bus error",
        "SIGFPE": "arithmetic",
    }
    return f"{name} ({meaning[name]})" if name in meaning else name
