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
