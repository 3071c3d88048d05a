"""tree-sitter byte columns -> LSP UTF-16 columns, and ranges relative to a definition's first line.

tree-sitter reports (row, byte column). LSP wants UTF-16 code units. For an ASCII line the two agree,
which is almost every line of kernel code, so the non-ASCII rows are found once per buffer and only they
pay for a byte -> unit table. Invalid UTF-8 counts one unit per byte: analysis must never fail on bad input.
"""

from __future__ import annotations

from tree_sitter import Node

from kernelwright.core.site import Position, Range


def _utf16_table(line: bytes) -> list[int]:
    """units[b] = UTF-16 units before byte offset b of `line` (len(line)+1 entries)."""
    units = [0] * (len(line) + 1)
    i = 0
    count = 0
    n = len(line)
    while i < n:
        lead = line[i]
        if lead < 0x80:
            width, cost = 1, 1
        elif 0xC0 <= lead < 0xE0:
            width, cost = 2, 1
        elif 0xE0 <= lead < 0xF0:
            width, cost = 3, 1
        elif 0xF0 <= lead < 0xF8:
            width, cost = 4, 2
        else:
            width, cost = 1, 1
        width = min(width, n - i)
        # A truncated sequence or one with bad continuation bytes counts a unit per byte.
        if width > 1 and any((line[i + k] & 0xC0) != 0x80 for k in range(1, width)):
            width, cost = 1, 1
        for k in range(width):
            units[i + k] = count
        count += cost
        i += width
    units[n] = count
    return units


class ByteColumns:
    """Converts (row, byte column, byte offset) of one source buffer into LSP Positions."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        # Rows holding a non-ASCII byte: found once, so every other position skips the table lookup.
        self.wide_rows: frozenset[int] = (
            frozenset()
            if source.isascii()
            else frozenset(i for i, line in enumerate(source.split(b"\n")) if not line.isascii())
        )
        self._tables: dict[int, list[int]] = {}  # line start byte -> units before each byte

    def utf16_column(self, byte_offset: int, byte_column: int) -> int:
        start = byte_offset - byte_column
        table = self._tables.get(start)
        if table is None:
            end = self.source.find(b"\n", start)
            line = self.source[start : end if end >= 0 else len(self.source)]
            table = _utf16_table(line) if not line.isascii() else list(range(len(line) + 1))
            self._tables[start] = table
        return table[min(byte_column, len(table) - 1)]

    def position(self, row: int, byte_column: int, byte_offset: int, base_row: int = 0) -> Position:
        if row not in self.wide_rows:
            return Position(row - base_row, byte_column)
        return Position(row - base_row, self.utf16_column(byte_offset, byte_column))


# (start line, start UTF-16 column, end line, end UTF-16 column): a range before it is placed. Cached
# statement facts keep these, and a Range is built only for what ends up in a Site.
Span = tuple[int, int, int, int]


def node_span(cols: ByteColumns, node: Node, base_row: int = 0) -> Span:
    """`node_range` as a Span."""
    s = node.start_point
    e = node.end_point
    wide = cols.wide_rows
    if not wide or (s.row not in wide and e.row not in wide):
        return (s.row - base_row, s.column, e.row - base_row, e.column)
    start = cols.position(s.row, s.column, node.start_byte, base_row)
    end = cols.position(e.row, e.column, node.end_byte, base_row)
    return (start.line, start.character, end.line, end.character)


def to_range(span: Span, rows: int = 0) -> Range:
    """The Range of `span`, moved down by `rows` lines."""
    return Range(Position(span[0] + rows, span[1]), Position(span[2] + rows, span[3]))


def shift(rng: Range, rows: int) -> Range:
    """`rng` moved down by `rows` lines (ranges of cached definitions are stored relative to their start)."""
    if rows == 0:
        return rng
    return Range(
        Position(rng.start.line + rows, rng.start.character),
        Position(rng.end.line + rows, rng.end.character),
    )


def node_range(cols: ByteColumns, node: Node, base_row: int = 0) -> Range:
    """The LSP range of a tree-sitter node, with lines counted from `base_row`."""
    s = node.start_point
    e = node.end_point
    wide = cols.wide_rows
    if not wide or (s.row not in wide and e.row not in wide):
        return Range(Position(s.row - base_row, s.column), Position(e.row - base_row, e.column))
    return Range(
        cols.position(s.row, s.column, node.start_byte, base_row),
        cols.position(e.row, e.column, node.end_byte, base_row),
    )


def span_range(cols: ByteColumns, first: Node, last: Node, base_row: int = 0) -> Range:
    """From the start of `first` to the end of `last`."""
    return Range(node_range(cols, first, base_row).start, node_range(cols, last, base_row).end)
