"""`make demo` (scripts/demo.sh): the README's first command works on a CPU-only machine with no API key.

It runs the script end to end: the builtin search must find a real speedup on the torch sample, write it
to a copy (never to samples/), and that copy must pass `kernelwright verify` against the original.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.load import one_core_busy

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

UNITS = {"µs": 1.0, "ms": 1e3, "s": 1e6}
ORIGINAL_ROW = re.compile(r"^original\s+([\d.]+) (µs|ms|s) \(timed in (\S+)'s run", re.MULTILINE)
BEST_ROW = re.compile(
    r"^best\s+(\S+): ([\d.]+) (µs|ms|s), ([\d.]+)x \[([\d.]+)-([\d.]+)\] the original in the same run$",
    re.MULTILINE,
)


def check_the_screen_adds_up(stdout: str) -> float:
    """The result screen's figures agree: the original's time is the one from the best's own run, and
    that over the best's time lies inside the printed interval. Returns the speedup."""
    original, best = ORIGINAL_ROW.search(stdout), BEST_ROW.search(stdout)
    assert original is not None and best is not None, stdout
    assert original.group(3) == best.group(1), "the original's figure must come from the best's run"
    original_us = float(original.group(1)) * UNITS[original.group(2)]
    best_us = float(best.group(2)) * UNITS[best.group(3)]
    speedup, low, high = (float(best.group(i)) for i in (4, 5, 6))
    assert low <= speedup <= high
    # Three significant figures on each time: allow their rounding.
    assert low * 0.99 <= original_us / best_us <= high * 1.01, stdout
    return speedup


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.parametrize("load", ["idle", "one_core_busy"])
def test_demo_improves_the_sample_and_the_result_verifies(repo_root: Path, tmp_path: Path, load: str) -> None:
    if shutil.which("g++") is None and shutil.which("gcc") is None:
        pytest.skip("torch.compile on the CPU needs a C compiler")
    sample = repo_root / "samples/pytorch/layernorm_gelu_unfused.py"
    before = sample.read_text(encoding="utf-8")
    work = tmp_path / "demo"
    kernelwright = Path(sys.executable).with_name("kernelwright")
    env = {
        **os.environ,
        "KERNELWRIGHT": str(kernelwright),
        "DEMO_DIR": str(work),
        "NO_COLOR": "1",
    }
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "KERNELWRIGHT_CLUSTER", "RAY_ADDRESS"):
        env.pop(key, None)

    with one_core_busy() if load == "one_core_busy" else contextlib.nullcontext():
        proc = subprocess.run(
            [str(repo_root / "scripts/demo.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )

    log = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, log
    assert check_the_screen_adds_up(proc.stdout) > 1.0, log
    assert "\nPASS " in proc.stdout, log
    optimized = (work / sample.name).read_text(encoding="utf-8")
    assert "@torch.compile" in optimized
    assert sample.read_text(encoding="utf-8") == before, "the demo must never modify samples/"
    assert (work / "report.html").is_file()
