"""`make demo` (scripts/demo.sh): the README's first command works on a CPU-only machine with no API key.

It runs the script end to end: the builtin search must find a real speedup on the torch sample, write it
to a copy (never to samples/), and that copy must pass `kernelwright verify` against the original.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BEST_ROW = re.compile(r"^best\s+([\d.]+) µs \(([\d.]+)x\)$", re.MULTILINE)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_demo_improves_the_sample_and_the_result_verifies(repo_root: Path, tmp_path: Path) -> None:
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

    proc = subprocess.run(
        [str(repo_root / "scripts/demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=380,
        check=False,
    )

    log = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, log
    best = BEST_ROW.search(proc.stdout)
    assert best is not None, log
    assert float(best.group(2)) > 1.0, log
    assert "\nPASS " in proc.stdout, log
    optimized = (work / sample.name).read_text(encoding="utf-8")
    assert "@torch.compile" in optimized
    assert sample.read_text(encoding="utf-8") == before, "the demo must never modify samples/"
    assert (work / "report.html").is_file()
