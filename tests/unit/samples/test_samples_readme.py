"""samples/README.md lists every sample exactly once, names only files that exist, and every sample
file opens with a description."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.sample_catalog import SAMPLES, SampleFolder, sample_files

README = SAMPLES / "README.md"
ALL_SAMPLES = [p for f in SampleFolder for suffix in (".py", ".cu") for p in sample_files(f, suffix)]


def _table_files() -> list[str]:
    return re.findall(r"^\| `([^`]+)` \|", README.read_text(), flags=re.M)


def test_readme_table_matches_the_files() -> None:
    listed = _table_files()
    assert len(listed) == len(set(listed)), "a file is listed twice"
    on_disk = sorted(str(p.relative_to(SAMPLES)) for p in ALL_SAMPLES)
    assert sorted(listed) == on_disk


def test_there_are_at_least_twelve_samples() -> None:
    assert len(ALL_SAMPLES) >= 12


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sample_opens_with_a_description(path: Path) -> None:
    head = path.read_text().lstrip()
    opener = '"""' if path.suffix == ".py" else "//"
    assert head.startswith(opener), f"{path.name} must open with a docstring or comment saying what it shows"
    first = head[len(opener) :].splitlines()[0].strip()
    assert len(first) > 20, f"{path.name}: the opening line should say what the sample shows"
    if "Deliberately slow" in head:
        assert re.search(r"faster|better|fix|instead|reach", head, flags=re.I), (
            "say what a faster version does"
        )
