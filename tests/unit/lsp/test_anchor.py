"""Re-anchoring an optimize result after the person edited the file meanwhile."""

from __future__ import annotations

from kernelwright.core.site import Range
from kernelwright.core.text import position_at, range_offsets
from kernelwright.lsp.anchor import anchor_edit

ORIGINAL = "import torch\n\n\ndef f(x):\n    return x * 2\n\n\ndef g(x):\n    return x + 1\n"
OLD = "def f(x):\n    return x * 2\n"


def _range_of(text: str, part: str) -> Range:
    at = text.index(part)
    return Range(position_at(text, at), position_at(text, at + len(part)))


def test_unchanged_file_takes_the_edit_as_computed() -> None:
    rng = _range_of(ORIGINAL, OLD)
    assert anchor_edit(ORIGINAL, "h", "h", rng, OLD, None) == rng


def test_lines_added_above_move_the_edit_with_the_site() -> None:
    rng = _range_of(ORIGINAL, OLD)
    edited = "# a comment the person added\n# and another, with ünïcode 🚀\n" + ORIGINAL
    site_now = _range_of(edited, OLD)
    moved = anchor_edit(edited, "new", "old", rng, OLD, site_now)
    assert moved is not None
    start, end = range_offsets(edited, moved)
    assert edited[start:end] == OLD
    assert moved.start.line == rng.start.line + 2


def test_edited_site_text_is_refused() -> None:
    rng = _range_of(ORIGINAL, OLD)
    edited = ORIGINAL.replace("x * 2", "x * 3")
    site_now = _range_of(edited, "def f(x):\n    return x * 3\n")
    assert anchor_edit(edited, "new", "old", rng, OLD, site_now) is None


def test_site_gone_is_refused() -> None:
    rng = _range_of(ORIGINAL, OLD)
    assert anchor_edit(ORIGINAL + "\n", "new", "old", rng, OLD, None) is None


def test_the_copy_at_the_site_wins_over_a_copy_elsewhere() -> None:
    twice = OLD + "\n\n" + ORIGINAL
    second = twice.index(OLD, 1)
    site_now = Range(position_at(twice, second), position_at(twice, second + len(OLD)))
    moved = anchor_edit(twice, "new", "old", _range_of(ORIGINAL, OLD), OLD, site_now)
    assert moved == site_now
