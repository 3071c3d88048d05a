"""The pure tier holds: a test of tests/unit that is not marked `processes` cannot start a process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.tiers import StartedAProcess


def test_a_pure_test_that_starts_a_subprocess_fails_naming_the_marker() -> None:
    with pytest.raises(StartedAProcess, match=r"pytest\.mark\.processes"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)


def test_a_pure_test_cannot_fork_either() -> None:
    with pytest.raises(StartedAProcess):
        os.fork()


@pytest.mark.processes
def test_a_marked_test_may_start_one() -> None:
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0


class _Item:
    """What is_pure reads of a pytest item: where it lives and its markers."""

    def __init__(self, path: str, *markers: str) -> None:
        self.path = path
        self.keywords = dict.fromkeys(markers, True)


def test_a_gpu_test_of_tests_unit_counts_as_one_that_starts_processes() -> None:
    # GPU tests skip themselves without CUDA, so this tier is only ever checked on the device: a gpu
    # mark must be enough, or every GPU test of tests/unit fails there while CI stays green.
    from support.tiers import UNIT, is_pure

    here = str(UNIT / "engine" / "test_gpu_engine.py")
    assert is_pure(_Item(here))  # type: ignore[arg-type]
    assert not is_pure(_Item(here, "gpu"))  # type: ignore[arg-type]
    assert not is_pure(_Item(here, "processes"))  # type: ignore[arg-type]
