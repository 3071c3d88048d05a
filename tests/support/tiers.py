"""The test tiers. tests/unit is pure unless a module says otherwise: its tests start no process (no
worker, no subprocess, no fork), so they run in seconds and fail only on the code they test. A module
whose tests start processes says so with `pytestmark = pytest.mark.processes`; tests/lsp, tests/clients
and tests/gpu start processes by nature, and so does any test marked `gpu` (a GPU test runs a worker on
the card; it skips itself without CUDA, so CI, which has none, would never see it refused). A pure test that starts one fails, naming the marker.
"""

from __future__ import annotations

import multiprocessing.util
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

UNIT = Path(__file__).resolve().parent.parent / "unit"
MARKER = "processes"


class StartedAProcess(RuntimeError):
    pass


class _Guard:
    def __init__(self) -> None:
        self.pure: str | None = None  # the pure test now running, by node id

    def refuse(self, what: str) -> None:
        if self.pure is not None:
            raise StartedAProcess(
                f"{self.pure} is a pure unit test but started a process ({what}); mark its module "
                f"`pytestmark = pytest.mark.{MARKER}` (tests/support/tiers.py)"
            )


GUARD = _Guard()


def _wrap(owner: Any, name: str, what: str) -> None:
    original: Callable[..., Any] | None = getattr(owner, name, None)
    if original is None:
        return

    def guarded(*args: Any, **kwargs: Any) -> Any:
        GUARD.refuse(what)
        return original(*args, **kwargs)

    setattr(owner, name, guarded)


def install() -> None:
    """Once per session: every way a test can start a process asks the guard first."""
    _wrap(subprocess.Popen, "_execute_child", "subprocess")
    _wrap(os, "fork", "os.fork")
    _wrap(os, "posix_spawn", "os.posix_spawn")
    _wrap(os, "posix_spawnp", "os.posix_spawnp")
    _wrap(multiprocessing.util, "spawnv_passfds", "multiprocessing")


def is_pure(item: pytest.Item) -> bool:
    path = Path(str(item.path)).resolve()
    return path.is_relative_to(UNIT) and MARKER not in item.keywords and "gpu" not in item.keywords


def enter(item: pytest.Item) -> None:
    GUARD.pure = item.nodeid if is_pure(item) else None


def leave() -> None:
    GUARD.pure = None
