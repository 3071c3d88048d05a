"""Load on the machine for tests that must hold on a person's busy laptop."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def one_core_busy() -> Iterator[None]:
    """A process spinning on core 0 while the block runs: a person's machine is rarely idle."""
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(spin.pid, {0})
        yield
    finally:
        spin.kill()
        spin.wait()
