"""Document text and LSP coordinates: edits, and conversions between string offsets and Positions.

LSP positions count lines from 0 and columns in UTF-16 code units. Lines end at "\\n" (a "\\r\\n" ending
leaves the "\\r" as the line's last character); this matches tree-sitter's rows, so the analysis and
the editor always agree on which line a range is on. Positions past the end of a line clamp to the end
of that line and lines past the end of the text clamp to its end, as the LSP specification asks.

Also how a time reads for people (`format_us`), the same in the CLI, the editor and the reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernelwright.core.site import Position, Range


@dataclass(frozen=True)
class TextChange:
    """One LSP content change: replace `range` with `text`, or the whole document when range is None."""

    text: str
    range: Range | None = None


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units (characters outside the BMP count twice)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def line_start(text: str, line: int) -> int:
    """String offset where 0-based `line` starts; len(text) when the text has fewer lines."""
    if line <= 0:
        return 0
    pos = -1
    for _ in range(line):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return len(text)
    return pos + 1


def offset_at(text: str, position: Position) -> int:
    """String offset (in Python characters) of an LSP position, clamped to the text."""
    start = line_start(text, position.line)
    if start >= len(text):
        return len(text)
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    want = max(position.character, 0)
    if text.isascii() or text[start:end].isascii():
        return min(start + want, end)
    units = 0
    i = start
    while i < end and units < want:
        units += 2 if ord(text[i]) > 0xFFFF else 1
        i += 1
    return i


def position_at(text: str, offset: int) -> Position:
    """LSP position of a string offset (clamped to the text)."""
    offset = min(max(offset, 0), len(text))
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return Position(line, utf16_len(text[start:offset]))


def range_offsets(text: str, rng: Range) -> tuple[int, int]:
    """String offsets (start, end) of an LSP range; an inverted range is read as empty at its start."""
    start = offset_at(text, rng.start)
    end = offset_at(text, rng.end)
    return start, max(start, end)


def apply_change(text: str, change: TextChange) -> str:
    """The text after one content change."""
    if change.range is None:
        return change.text
    start, end = range_offsets(text, change.range)
    return text[:start] + change.text + text[end:]


def end_position(text: str) -> Position:
    """The position just past the last character: the range (0,0)-(end) covers the whole text."""
    return position_at(text, len(text))


def format_us(us: float) -> str:
    """A time for people, the same everywhere (CLI, editor hovers, and vscode-client's formatMicros,
    which mirrors it): three significant figures, 0.52 µs, 183 µs, 4.56 ms, 1.23 s."""
    if us >= 1_000_000:
        return f"{us / 1_000_000:.3g} s"
    if us >= 1000:
        return f"{us / 1000:.3g} ms"
    if us >= 10:
        return f"{us:.0f} µs"
    return f"{us:.3g} µs"
