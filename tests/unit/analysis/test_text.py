"""core/text.py: LSP positions (UTF-16 columns) <-> string offsets, and applying content changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from kernelwright.core.site import Position, Range
from kernelwright.core.text import (
    TextChange,
    apply_change,
    end_position,
    offset_at,
    position_at,
    range_offsets,
    utf16_len,
)

TEXT = "ab\né𝔵c\r\nlast"


def test_utf16_len() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("é") == 1
    assert utf16_len("𝔵") == 2


def test_positions_count_utf16_units() -> None:
    assert position_at(TEXT, TEXT.index("c")) == Position(1, 3)  # é=1, 𝔵=2
    assert offset_at(TEXT, Position(1, 3)) == TEXT.index("c")
    assert offset_at(TEXT, Position(2, 0)) == TEXT.index("last")
    assert position_at(TEXT, TEXT.index("\r")) == Position(1, 4)


def test_clamping() -> None:
    assert offset_at(TEXT, Position(0, 99)) == 2  # end of line 0, before "\n"
    assert offset_at(TEXT, Position(99, 0)) == len(TEXT)
    assert offset_at(TEXT, Position(-1, -5)) == 0
    assert range_offsets(TEXT, Range.of(1, 3, 0, 0)) == (TEXT.index("c"), TEXT.index("c"))
    assert end_position(TEXT) == Position(2, 4)


def test_apply_change() -> None:
    assert apply_change(TEXT, TextChange("X", Range.of(1, 1, 1, 3))) == "ab\néXc\r\nlast"
    assert apply_change(TEXT, TextChange("new")) == "new"


@given(st.text(alphabet=st.sampled_from("a\né𝔵\r\t")), st.data())
def test_round_trip(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(min_value=0, max_value=len(text)))
    assert offset_at(text, position_at(text, offset)) == offset
