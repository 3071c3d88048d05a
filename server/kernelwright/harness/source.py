"""Run a person's source text as a fresh module, never touching the file on disk.

The module gets the file's path as `__file__` and as the code object's filename, so tracebacks and
profiler stacks point at the person's lines; the file's directory goes on sys.path so sibling imports
work. Errors come back as LoadError with the line in the person's file.

Text that is not what the file holds (a candidate: the person's file rewritten) is compiled under its
own name, `PATH (candidate 1a2b3c4d5e)`, whose lines are put in linecache: whatever reads a function's
source back (inspect.getsource, which `@triton.jit` calls; tracebacks) must see the text that ran, not
the file on disk, and the reference loaded from the same path in the same process keeps its own.
"""

from __future__ import annotations

import linecache
import os
import sys
import traceback
import types
from dataclasses import dataclass

from kernelwright.core.measure import content_key


class LoadError(Exception):
    """The source did not run, or does not define what it must. `line` is 0-based in `path`."""

    def __init__(
        self,
        message: str,
        path: str,
        line: int | None = None,
        tail: str | None = None,
        raised: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.tail = tail
        self.raised = raised  # what the code raised, when it ran and raised (kept out of the traceback chain)


@dataclass(frozen=True)
class ErrorPlace:
    line: int | None  # 0-based, in `path`
    tail: str


def error_place(exc: BaseException, path: str, limit: int = 12) -> ErrorPlace:
    """The innermost frame of `exc` that lies in `path`, and the last lines of the traceback."""
    line: int | None = None
    if (
        isinstance(exc, SyntaxError)
        and exc.filename is not None
        and _in_file(exc.filename, path)
        and exc.lineno
    ):
        line = exc.lineno - 1
    for frame in traceback.extract_tb(exc.__traceback__):
        if _in_file(frame.filename, path) and frame.lineno is not None:
            line = frame.lineno - 1
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(lines).splitlines()
    return ErrorPlace(line, "\n".join(tail[-limit:]))


def _in_file(filename: str, path: str) -> bool:
    return filename == path or filename.startswith(f"{path} (")


def code_filename(path: str, source: str, role: str) -> str:
    """`path` when the file holds exactly `source`, else a name of its own with the text in linecache."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == source:
                return path
    except (OSError, UnicodeDecodeError):
        pass
    name = f"{path} ({role} {content_key(source)[:10]})"
    linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
    return name


_counter = 0


def load_module(path: str, source: str, role: str) -> types.ModuleType:
    """Execute `source` as a new module (named uniquely per call) and return it."""
    global _counter
    _counter += 1
    name = f"_kw_{role}_{content_key(source)[:10]}_{_counter}"
    module = types.ModuleType(name)
    module.__file__ = path
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        code = compile(source, code_filename(path, source, role), "exec")
    except SyntaxError as exc:
        place = error_place(exc, path)
        raise LoadError(
            f"{os.path.basename(path)}:{(exc.lineno or 0)}: syntax error: {exc.msg}",
            path,
            place.line,
            place.tail,
        ) from None
    # Registered while it runs: dataclasses, typing and pickling look modules up by name.
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt | SystemExit) and not isinstance(exc, SystemExit):
            raise
        place = error_place(exc, path)
        where = f":{place.line + 1}" if place.line is not None else ""
        raise LoadError(
            f"{os.path.basename(path)}{where}: running the file raised {type(exc).__name__}: {exc}",
            path,
            place.line,
            place.tail,
            raised=exc,
        ) from None
    return module


def raised(what: str, exc: BaseException, path: str) -> LoadError:
    """A LoadError saying that `what` (code in `path`) raised `exc`, at its innermost line in `path`."""
    place = error_place(exc, path)
    where = f" at line {place.line + 1}" if place.line is not None else ""
    return LoadError(f"{what} raised {type(exc).__name__}{where}: {exc}", path, place.line, place.tail)


def lookup(module: types.ModuleType, name: str, path: str, what: str) -> object:
    if not hasattr(module, name):
        defined = sorted(n for n in vars(module) if not n.startswith("_"))[:12]
        raise LoadError(
            f"{os.path.basename(path)} does not define `{name}` ({what}); it defines: {', '.join(defined)}",
            path,
        )
    return getattr(module, name)
