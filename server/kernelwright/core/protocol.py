"""The worker protocol: what the engine (parent) and a harness worker (child) say to each other.

One JSON object per line (UTF-8, newline-terminated; `json.dumps` never emits a raw newline), over a
private pair of pipes that the parent hands the worker with `pass_fds`. The worker's fd 1 and 2 point
at a capture file instead, so nothing a candidate prints can reach, block or corrupt the protocol.

    worker -> parent   {"kind": "hello", "v", "pid", "device", "info"}        once, after start-up
    parent -> worker   {"kind": "request", "v", "id", "type", "payload"}
    worker -> parent   {"kind": "response", "v", "id", "ok", "result" | "error", "output"}

A judge worker (a verify job) may, before its response, ask questions of the job's candidate worker:

    judge -> parent    {"kind": "ask", "v", "id", "seq", "type", "payload"}
    parent -> judge    {"kind": "answer", "v", "seq", "ok", "result" | "error", "output", "seconds"}

The parent relays each ask to the candidate worker as a request and its response back as the answer
(`seconds`: the candidate's request, sent to answered, on the parent's clock). Only a worker running a
verify job may ask; an ask from any other worker is a protocol error.

The version is checked at hello: a worker from another kernelwright install is refused with a message
rather than misread.
"""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass
from typing import Final

from kernelwright.core.jsonable import JsonValue, from_json, to_json

PROTOCOL_VERSION: Final = 1

# A response can carry a whole Measurement or Verdict plus captured output; keep the reader's line limit
# well above that so a big but honest message is never cut.
MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024


class MessageKind(enum.StrEnum):
    HELLO = "hello"
    REQUEST = "request"
    RESPONSE = "response"
    ASK = "ask"
    ANSWER = "answer"


class ErrorCode(enum.StrEnum):
    """Why a job produced no result. Stable names: they reach the CLI's --json output and the store."""

    EXCEPTION = "exception"  # the job raised; the worker itself is fine
    BAD_REQUEST = "bad_request"  # unknown job type or a payload the harness could not read
    CRASH = "crash"  # the worker died of a signal (segfault, abort, file-size limit, ...)
    EXIT = "exit"  # the code it ran ended the process (sys.exit, os._exit)
    TIMEOUT = "timeout"  # no answer within the job's time-out; the worker was killed
    OOM = "oom"  # out of memory: a MemoryError, or the kernel's OOM killer
    CUDA_FAULT = "cuda_fault"  # the CUDA context is poisoned (illegal address, device assert, ...)
    CANCELLED = "cancelled"  # the caller cancelled the job; the worker was killed
    START_FAILED = "start_failed"  # the worker did not come up (import error, wrong protocol version)
    PROTOCOL = "protocol"  # a message that does not parse: a bug, or something wrote into the pipe
    UNCONFINED = "unconfined"  # refused: model-written code, and no box can be made on this machine
    ESCAPED = "escaped"  # a candidate's process ran while the engine held it stopped (engine.freeze)


@dataclass(frozen=True)
class Hello:
    v: int
    pid: int
    device: str
    info: JsonValue  # the harness's "ping" answer: versions, device name, clocks
    kind: MessageKind = MessageKind.HELLO


@dataclass(frozen=True)
class Request:
    v: int
    id: int
    type: str
    payload: JsonValue
    kind: MessageKind = MessageKind.REQUEST


@dataclass(frozen=True)
class JobErrorInfo:
    code: ErrorCode
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class CapturedOutput:
    """The tail of what the job wrote to stdout and stderr (interleaved, as the terminal would show)."""

    text: str = ""
    total_bytes: int = 0  # everything written during the job; more than len(text) when it was cut

    @property
    def truncated(self) -> bool:
        return self.total_bytes > len(self.text.encode("utf-8", errors="replace"))

    def last_lines(self, n: int) -> str:
        return "\n".join(self.text.rstrip("\n").splitlines()[-n:])

    @classmethod
    def tail_of(cls, path: str, limit: int) -> CapturedOutput:
        """The last `limit` bytes of a capture file (empty if it cannot be read)."""
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                f.seek(max(0, size - limit))
                data = f.read(limit)
        except OSError:
            return cls()
        return cls(text=data.decode("utf-8", errors="replace"), total_bytes=size)


@dataclass(frozen=True)
class Response:
    v: int
    id: int
    ok: bool
    result: JsonValue = None
    error: JobErrorInfo | None = None
    output: CapturedOutput = CapturedOutput()
    # The worker asks to be replaced: its state can no longer be trusted (MemoryError, CUDA fault).
    retire: bool = False
    kind: MessageKind = MessageKind.RESPONSE


@dataclass(frozen=True)
class Ask:
    """A judge's question for its candidate worker, during the job `id`."""

    v: int
    id: int
    seq: int
    type: str
    payload: JsonValue
    kind: MessageKind = MessageKind.ASK


@dataclass(frozen=True)
class Answer:
    """The candidate worker's response to ask `seq`, or why there is none (it died, timed out, lied)."""

    v: int
    seq: int
    ok: bool
    result: JsonValue = None
    error: JobErrorInfo | None = None
    output: CapturedOutput = CapturedOutput()
    seconds: float = 0.0
    kind: MessageKind = MessageKind.ANSWER


Message = Hello | Request | Response | Ask | Answer


class ProtocolError(Exception):
    """A line that is not a message of this protocol."""


def encode(message: Message) -> bytes:
    return json.dumps(to_json(message), ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line: bytes) -> Message:
    """Parse one line; raise ProtocolError naming what is wrong, never a bare KeyError or ValueError."""
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}; line starts {line[:120]!r}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol version {version!r}, expected {PROTOCOL_VERSION}: the worker's interpreter has "
            "another kernelwright installed; point the worker at the same installation as the server"
        )
    kinds: dict[str, type[Hello] | type[Request] | type[Response] | type[Ask] | type[Answer]] = {
        MessageKind.HELLO: Hello,
        MessageKind.REQUEST: Request,
        MessageKind.RESPONSE: Response,
        MessageKind.ASK: Ask,
        MessageKind.ANSWER: Answer,
    }
    cls = kinds.get(str(data.get("kind")))
    if cls is None:
        raise ProtocolError(f"unknown message kind {data.get('kind')!r}")
    try:
        message: Message = from_json(cls, data)
    except (TypeError, ValueError, KeyError) as exc:
        raise ProtocolError(f"malformed {cls.__name__}: {exc}") from None
    return message
