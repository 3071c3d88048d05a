"""How verbs talk to people and to scripts: a table on a terminal, or one JSON document with --json."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from kernelwright.core.jsonable import JsonValue

EXIT_OK = 0
EXIT_FAILED = 1  # the verb ran and the answer is "no" (verify rejected, bench failed to run, ...)
EXIT_USAGE = 2  # bad arguments, missing file, unknown symbol, load error


class Output:
    def __init__(self, json_mode: bool, stream: TextIO | None = None, err: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stream = stream or sys.stdout
        self.err = err or sys.stderr

    @property
    def colour(self) -> bool:
        return (not self.json_mode) and self.stream.isatty() and os.environ.get("NO_COLOR") is None

    def document(self, value: JsonValue) -> None:
        """The one JSON document of a --json run."""
        json.dump(value, self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")
        self.stream.flush()

    def json_line(self, value: JsonValue) -> None:
        """One event of a streaming --json run (JSON lines)."""
        self.stream.write(json.dumps(value, ensure_ascii=False) + "\n")
        self.stream.flush()

    def line(self, text: str = "") -> None:
        if not self.json_mode:
            self.stream.write(text + "\n")
            self.stream.flush()

    def progress(self, text: str) -> None:
        """Transient progress on a terminal (stderr); silent when not a terminal or in --json mode."""
        if not self.json_mode and self.err.isatty():
            self.err.write("\r\x1b[2K" + text)
            self.err.flush()

    def end_progress(self) -> None:
        if not self.json_mode and self.err.isatty():
            self.err.write("\r\x1b[2K")
            self.err.flush()

    def log_line(self, text: str) -> None:
        """A progress line for a log (stderr that is not a terminal, where progress() is silent)."""
        if not self.json_mode and not self.err.isatty():
            self.err.write(text + "\n")
            self.err.flush()

    def warn(self, message: str) -> None:
        """A warning on stderr, in --json mode too (stdout keeps its one document)."""
        self.end_progress()
        prefix = "\x1b[33mwarning:\x1b[0m " if self.err.isatty() else "warning: "
        self.err.write(prefix + message + "\n")
        self.err.flush()

    def error(self, message: str, code: str = "error", **details: JsonValue) -> None:
        if self.json_mode:
            self.document({"error": {"code": code, "message": message, **details}})
        else:
            prefix = "\x1b[31merror:\x1b[0m " if self.err.isatty() else "error: "
            self.err.write(prefix + message + "\n")
            self.err.flush()

    def style(self, text: str, code: str) -> str:
        """ANSI colour only on a terminal: '1' bold, '32' green, '33' yellow, '31' red, '2' dim."""
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.json_mode:
            return
        widths = [len(h) for h in headers]
        for row in rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        # The last column is not padded: no trailing blanks on any line.
        last = len(headers) - 1
        cells = [h if i == last else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))]
        self.line("  ".join(self.style(c, "1") for c in cells))
        for row in rows:
            self.line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
