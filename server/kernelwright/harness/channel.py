"""The judge's line to its candidate worker: `ask(op, payload)` while a verify job runs.

The worker installs a channel over its protocol fds for the length of each job; an ask goes to the
parent, which relays it to the candidate worker and writes back the answer. Only the judge of a verify
job asks; the candidate worker never holds a channel (it only answers requests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kernelwright.core.jsonable import JsonValue
from kernelwright.core.protocol import PROTOCOL_VERSION, Answer, Ask, ProtocolError, decode, encode

ReadLine = Callable[[], bytes]
Write = Callable[[bytes], object]


class NoChannel(RuntimeError):
    """The job was not started as a judged verify job (no candidate worker to ask)."""


class Channel:
    def __init__(self, job_id: int, read_line: ReadLine, write: Write) -> None:
        self.job_id = job_id
        self._read_line = read_line
        self._write = write
        self._seq = 0

    def ask(self, op: str, payload: JsonValue) -> Answer:
        """Send one question and wait for its answer (the parent enforces the job's time-out)."""
        self._seq += 1
        self._write(encode(Ask(v=PROTOCOL_VERSION, id=self.job_id, seq=self._seq, type=op, payload=payload)))
        line = self._read_line()
        if not line:
            raise ProtocolError("the parent closed the pipe while the judge waited for an answer")
        message = decode(line)
        if not isinstance(message, Answer) or message.seq != self._seq:
            raise ProtocolError(f"expected the answer to ask {self._seq}, got a {message.kind} message")
        return message


_current: Channel | None = None


@contextmanager
def installed(channel: Channel) -> Iterator[None]:
    global _current
    previous, _current = _current, channel
    try:
        yield
    finally:
        _current = previous


def current() -> Channel:
    if _current is None:
        raise NoChannel(
            "this verify job has no candidate worker to ask: verify jobs run through the engine's pool, "
            "which starts a judge and a candidate worker for each"
        )
    return _current
