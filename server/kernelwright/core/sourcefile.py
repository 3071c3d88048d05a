"""Reading a source file from disk the one way every reader does (the CLI's verbs, scan, the language
server): only a regular file, never blocking on a FIFO or a device, and a file that is not text named as
such.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotSource:
    """Why a path could not be read as a file (`reason`), and what to do instead (`fix`)."""

    reason: str
    fix: str


def read_source_file(path: Path) -> bytes | NotSource:
    """The bytes of `path` if it is a regular file that can be read, else why not.

    Never blocks on the file: its type is checked before it is opened, and again on the open file (opened
    with O_NONBLOCK, in case it was swapped for a FIFO in between)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return _NOT_REGULAR
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        if os.path.islink(path):
            return NotSource("a symbolic link to a file that does not exist", "name a source file")
        return NotSource("no such file", "check the path")
    except OSError as exc:
        return _unreadable(exc)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _NOT_REGULAR
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as exc:
        return _unreadable(exc)
    finally:
        os.close(fd)


_NOT_REGULAR = NotSource("not a regular file (a FIFO, socket or device)", "name a source file")


def _unreadable(exc: OSError) -> NotSource:
    return NotSource(f"cannot be read ({exc.strerror})", "check its permissions")


def decode_source(data: bytes) -> str:
    """UTF-8 text with universal newlines, as Path.read_text reads it (so hashes agree everywhere);
    UnicodeDecodeError if it is not UTF-8."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"at offset {offset}, line {line}"


def not_text(data: bytes) -> str | None:
    """Why `data` is not source text, or None when it is (UTF-8 without NUL bytes): every verb words
    an unreadable file this way."""
    nul = data.find(b"\0")
    if nul >= 0:
        return f"binary, not text (NUL byte {_where(data, nul)})"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte 0x{data[exc.start]:02x} {_where(data, exc.start)})"
    return None
