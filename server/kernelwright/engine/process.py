"""One worker process seen from the parent: start it, send it a job, notice how it died, kill it.

The worker runs in its own session (process group), so a kill takes the compilers and other children
a candidate started along with it. Its protocol pipes are private fds; its stdout and stderr go to a
capture file whose tail explains a death (the Python traceback that PYTHONFAULTHANDLER writes on a
segfault, a CUDA error, the last prints).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

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
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.devices import Device
from kernelwright.engine.environment import worker_env
from kernelwright.engine.errors import JobError

WORKER_MODULE = "kernelwright.harness.worker"
# A judge's question and the job's deadline (monotonic) -> the answer to write back.
AskHandler = Callable[[Ask, float], Awaitable[Answer]]
CAPTURE_NAME = "output.log"  # in the worker's directory: its stdout and stderr


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
    ) -> None:
        self.device = device
        self.config = config
        self.proc = proc
        self.tmpdir = tmpdir
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

    @classmethod
    async def start(cls, device: Device, config: WorkerConfig) -> WorkerProcess:
        """Spawn a worker and wait for its hello; raise JobError(START_FAILED) with its output if not."""
        spawned_at = time.monotonic()
        tmpdir = Path(tempfile.mkdtemp(prefix="kernelwright-worker-"))
        worker = await cls._spawn(device, config, tmpdir)
        worker.spawned_at = spawned_at
        try:
            line = await asyncio.wait_for(worker._reader.readline(), config.start_timeout_s)
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
    async def _spawn(cls, device: Device, config: WorkerConfig, tmpdir: Path) -> WorkerProcess:
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
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=capture,
                stderr=capture,
                pass_fds=(req_r, resp_w),
                start_new_session=True,
                env=worker_env(os.environ, device, tmpdir, config),
                cwd=str(config.cwd or tmpdir),
            )
        except OSError as exc:
            for fd in (req_r, req_w, resp_r, resp_w):
                os.close(fd)
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise JobError(
                JobErrorInfo(
                    ErrorCode.START_FAILED,
                    f"cannot run {config.python}: {exc}; set the Python interpreter to one that has "
                    "torch and kernelwright installed",
                ),
                device=device.label,
            ) from None
        finally:
            os.close(capture)
        os.close(req_r)
        os.close(resp_w)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(resp_r, "rb", buffering=0)
        )
        writer, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(req_w, "wb", buffering=0))
        return cls(device, config, proc, tmpdir, reader, writer)

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
        self, job_type: str, payload: JsonValue, timeout: float, on_ask: AskHandler | None = None
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

    async def _read_reply(self, job_type: str, remaining: float, timeout: float) -> bytes:
        try:
            return await asyncio.wait_for(self._reader.readline(), remaining)
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

    def freeze(self) -> None:
        """Stop the worker's process group (SIGSTOP): between a judge's questions a candidate worker
        runs nothing, so no thread of the candidate's can race the judge's reads or its timing."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    async def _died(self, job_type: str) -> Response:
        if self.kill_reason is KillReason.CANCELLED or self.kill_reason is KillReason.CLOSED:
            raise self._death_error(ErrorCode.CANCELLED, f"{job_type} was cancelled ({self.kill_reason})")
        code = await self._wait_exit()
        await self.kill(KillReason.RETIRED)  # its children, and the directory
        error_code, what = _classify_exit(code, self.config)
        raise self._death_error(error_code, f"the worker died during {job_type}: {what}")

    def _death_error(self, code: ErrorCode, message: str) -> JobError:
        return JobError(JobErrorInfo(code, message), self.read_output(), device=self.device.label)

    async def _wait_exit(self) -> int:
        # EOF on the pipe comes a moment before the exit status; a closed pipe with a live process
        # (a candidate closed fd W) is a death too.
        try:
            return await asyncio.wait_for(self.proc.wait(), 10.0)
        except TimeoutError:
            await self.kill(KillReason.RETIRED)
            return await self.proc.wait()

    def read_output(self) -> CapturedOutput:
        if self._final_output is not None:
            return self._final_output
        return CapturedOutput.tail_of(str(self.capture_path), self.config.output_tail_bytes)

    # -- stop --------------------------------------------------------------------------------------

    async def kill(self, reason: KillReason) -> None:
        """SIGKILL the worker's whole process group, reap it, remove its directory. Idempotent."""
        if self.kill_reason is None:
            self.kill_reason = reason
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # a frozen (SIGSTOPped) group dies at once too
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        self._writer.close()
        if self._final_output is None:
            # Errors are built after the kill: keep the capture's tail, then remove the directory.
            self._final_output = self.read_output()
            shutil.rmtree(self.tmpdir, ignore_errors=True)


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
