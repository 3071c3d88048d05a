"""The line index answers exactly as core.text does, on any text (non-BMP characters, CRLF, clamping)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from kernelwright.core.site import Position, Range
from kernelwright.core.text import offset_at, range_offsets
from kernelwright.lsp.documents import LineIndex

TEXT = st.text(alphabet=st.sampled_from(["a", "é", "🚀", "\n", "\r", " ", "x"]), max_size=60)


@given(TEXT, st.integers(0, 12), st.integers(0, 12))
def test_offsets_match_core_text(text: str, line: int, character: int) -> None:
    assert LineIndex(text).offset(Position(line, character)) == offset_at(text, Position(line, character))


@given(TEXT, st.integers(0, 8), st.integers(0, 8), st.integers(0, 8), st.integers(0, 8))
def test_slices_match_core_text(text: str, l1: int, c1: int, l2: int, c2: int) -> None:
    rng = Range(Position(l1, c1), Position(l2, c2))
    start, end = range_offsets(text, rng)
    assert LineIndex(text).slice(rng) == text[start:end]


@given(TEXT)
def test_line_spans_are_the_lines_split_on_newline(text: str) -> None:
    index = LineIndex(text)
    lines = text.split("\n")
    assert len(index.starts) == len(lines)
    assert [text[slice(*index.line_span(n))] for n in range(len(lines))] == lines
