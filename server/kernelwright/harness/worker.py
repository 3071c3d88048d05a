"""The worker process: `python -m kernelwright.harness.worker --device cpu|cuda:N --fd-in R --fd-out W ...`.

Started by `kernelwright.engine`. It sets its resource limits, imports the harness (and with it torch,
triton and the clock references) BEFORE it reads any job, says hello with the harness's "ping" answer,
then serves one request at a time until its input pipe closes.

The protocol runs over the private fds R and W (a judge's questions for its candidate worker too:
harness.channel); fd 1 and 2 point at a capture file (opened by the
parent) so that whatever a candidate prints, at any volume, never touches the protocol. The capture is
cut at the start of each job and its tail returned with the job's response.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import importlib
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from typing import BinaryIO

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import JobType
from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import (
    PROTOCOL_VERSION,
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
from kernelwright.harness import channel
from kernelwright.harness.faults import is_out_of_memory

Handler = Callable[[str, JsonValue], JsonValue]

DEFAULT_HANDLER = "kernelwright.harness.handler:handle"

# Messages by which CUDA reports that the context is poisoned: after any of these, every later call in
# the process fails too, so the worker must be replaced rather than reused.
CUDA_FAULT_MARKERS = (
    "illegal memory access",
    "illegal instruction",
    "misaligned address",
    "device-side assert",
    "unspecified launch failure",
    "an illegal",
    "cudaerrorillegaladdress",
    "cuda error",
    "launch timed out",
)

EXIT_HANDLER_IMPORT_FAILED = 3


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    _die_with_parent()
    _apply_limits(args)
    # The private fds must not leak into compilers or other children a candidate may start.
    for fd in (args.fd_in, args.fd_out):
        os.set_inheritable(fd, False)
    reader = os.fdopen(args.fd_in, "rb", buffering=0)
    writer = os.fdopen(args.fd_out, "wb", buffering=0)
    capture = _Capture(args.capture, args.tail_bytes)

    try:
        handler = _load_handler(args.handler)
    except Exception:
        traceback.print_exc()
        print(f"kernelwright worker: cannot import the job handler {args.handler}", file=sys.stderr)
        return EXIT_HANDLER_IMPORT_FAILED
    info = handler(JobType.PING, {"device": args.device})
    capture.begin()
    writer.write(encode(Hello(v=PROTOCOL_VERSION, pid=os.getpid(), device=args.device, info=info)))

    while True:
        line = _read_line(reader)
        if not line:
            return 0  # the parent closed the pipe: shut down quietly
        try:
            message = decode(line)
        except ProtocolError as exc:
            writer.write(encode(_error_response(-1, ErrorCode.PROTOCOL, str(exc))))
            continue
        if not isinstance(message, Request):
            err = f"expected a request, got a {message.kind} message"
            writer.write(encode(_error_response(-1, ErrorCode.PROTOCOL, err)))
            continue
        line_channel = channel.Channel(message.id, lambda: _read_line(reader), writer.write)
        writer.write(encode(_serve(message, handler, capture, args.device, line_channel)))


def _serve(
    request: Request, handler: Handler, capture: _Capture, device: str, line: channel.Channel
) -> Response:
    capture.begin()
    result: JsonValue = None
    error: JobErrorInfo | None = None
    retire = False
    try:
        with channel.installed(line):
            result = handler(request.type, request.payload)
    except MemoryError:
        error, retire = _info(ErrorCode.OOM, "the job ran out of memory (MemoryError)"), True
    except SystemExit as exc:
        # A candidate calling sys.exit() must not end the worker mid-protocol; report it and retire.
        error, retire = _info(ErrorCode.EXIT, f"the code it ran called sys.exit({exc.code!r})"), True
    except KeyboardInterrupt:
        error, retire = _info(ErrorCode.EXIT, "the code it ran raised KeyboardInterrupt"), True
    except KernelwrightError as exc:
        # The harness answers problems in the person's code with typed replies; what escapes is a
        # malformed job (unknown type, bad payload): the engine's mistake, not the code's.
        error = _info(ErrorCode.BAD_REQUEST, str(exc))
    except LookupError as exc:
        code = ErrorCode.BAD_REQUEST if _is_unknown_job(exc, request.type) else ErrorCode.EXCEPTION
        error = _info(code, f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            # Python ignores SIGXFSZ, so RLIMIT_FSIZE surfaces here (usually endless stdout).
            why = "the job wrote a file past the file-size limit (most likely endless output on stdout)"
            error = _info(ErrorCode.EXCEPTION, f"{why}: {exc}")
        else:
            error = _info(ErrorCode.EXCEPTION, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        if is_out_of_memory(exc):
            error, retire = _info(ErrorCode.OOM, f"out of memory: {type(exc).__name__}: {exc}"), True
        elif _is_cuda_fault(exc):
            error, retire = _info(ErrorCode.CUDA_FAULT, f"{type(exc).__name__}: {exc}"), True
        else:
            error = _info(ErrorCode.EXCEPTION, f"{type(exc).__name__}: {exc}")
    fault = _cuda_health(device)
    if fault is not None:
        # An asynchronous fault surfaces only at the next synchronise: the result cannot be trusted.
        result, error, retire = None, JobErrorInfo(ErrorCode.CUDA_FAULT, fault), True
    output = capture.end()
    if error is not None:
        return Response(
            v=PROTOCOL_VERSION, id=request.id, ok=False, error=error, output=output, retire=retire
        )
    return Response(v=PROTOCOL_VERSION, id=request.id, ok=True, result=result, output=output)


def _info(code: ErrorCode, message: str) -> JobErrorInfo:
    return JobErrorInfo(code=code, message=message, traceback=traceback.format_exc())


def _error_response(req_id: int, code: ErrorCode, message: str) -> Response:
    """A message that is not a request: no job ran, so there is no output to return."""
    return Response(v=PROTOCOL_VERSION, id=req_id, ok=False, error=JobErrorInfo(code, message))


def _is_unknown_job(exc: LookupError, job_type: str) -> bool:
    return "unknown job" in str(exc).lower() or str(exc).strip("'\"") == job_type


def _is_cuda_fault(exc: BaseException) -> bool:
    if type(exc).__name__ == "AcceleratorError":
        return True
    text = str(exc).lower()
    return any(marker in text for marker in CUDA_FAULT_MARKERS)


def _cuda_health(device: str) -> str | None:
    """None if the device's context still works, else the error that says it does not."""
    if not device.startswith("cuda") or "torch" not in sys.modules:
        return None
    torch = sys.modules["torch"]
    try:
        torch.cuda.synchronize()
        torch.zeros(1, device="cuda").add_(1).item()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _read_line(reader: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = reader.readline()
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)


class _Capture:
    """fd 1 and 2 share one O_APPEND file: cut it at job start, read its tail at job end."""

    def __init__(self, path: str, tail_bytes: int) -> None:
        self.path = path
        self.tail_bytes = tail_bytes

    def begin(self) -> None:
        _flush_all()
        with contextlib.suppress(OSError):
            os.ftruncate(1, 0)

    def end(self) -> CapturedOutput:
        _flush_all()
        return CapturedOutput.tail_of(self.path, self.tail_bytes)


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # C-level stdio buffers (printf from extensions) too.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


def _load_handler(spec: str) -> Handler:
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    handler: Handler = getattr(module, attr or "handle")
    return handler


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the parent dies, so a hung job never outlives the server."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _apply_limits(args: argparse.Namespace) -> None:
    limits = [
        (resource.RLIMIT_AS, args.memory_limit),  # the parent passes it only for CPU workers
        (resource.RLIMIT_NPROC, args.nproc_limit),
        (resource.RLIMIT_FSIZE, args.file_size_limit),  # bounds the capture file too
    ]
    for which, value in limits:
        if not value:
            continue
        _soft, hard = resource.getrlimit(which)
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (new, new))


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m kernelwright.harness.worker")
    p.add_argument("--device", required=True, help="cpu or cuda:N (as the parent names it)")
    p.add_argument("--fd-in", type=int, required=True, help="the fd requests arrive on")
    p.add_argument("--fd-out", type=int, required=True, help="the fd responses go to")
    p.add_argument("--capture", required=True, help="the file fd 1 and 2 point at")
    p.add_argument("--handler", default=DEFAULT_HANDLER, help="module:function that serves jobs")
    p.add_argument("--tail-bytes", type=int, default=64 * 1024)
    p.add_argument("--memory-limit", type=int, default=0, help="RLIMIT_AS in bytes (0: none)")
    p.add_argument("--nproc-limit", type=int, default=0, help="RLIMIT_NPROC (0: none)")
    p.add_argument("--file-size-limit", type=int, default=0, help="RLIMIT_FSIZE in bytes (0: none)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
