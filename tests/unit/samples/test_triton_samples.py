"""Every Triton sample runs under the interpreter with its cpu_inputs and matches torch.

The samples run in one child process with TRITON_INTERPRET=1 in its environment: the variable is read
when triton is imported, and this pytest process may already have imported triton without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.sample_catalog import SampleFolder, python_directives, sample_files

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

TRITON_SAMPLES = sample_files(SampleFolder.TRITON)
RUNNER = Path(__file__).with_name("triton_runner.py")
TESTS_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def interpreter_results() -> dict[str, dict[str, object]]:
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(TESTS_DIR)}
    proc = subprocess.run(
        [sys.executable, str(RUNNER), *map(str, TRITON_SAMPLES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["sample"]: r for r in results}


def test_there_are_enough_triton_samples() -> None:
    texts = [p.read_text() for p in TRITON_SAMPLES]
    assert len(texts) >= 5
    assert any("@triton.autotune(" in t for t in texts)
    assert any("@triton.heuristics(" in t for t in texts)
    assert any("tl.dot(" in t for t in texts)


@pytest.mark.parametrize("path", TRITON_SAMPLES, ids=lambda p: p.name)
def test_launcher_directive_has_cpu_inputs(path: Path) -> None:
    directives = python_directives(path.read_text())
    assert len(directives) == 1
    assert directives[0].get("cpu_inputs"), "Triton samples must name cpu_inputs= (the interpreter is slow)"
    assert "torch.zeros" not in path.read_text(), "outputs the kernel writes in full are torch.empty"


@pytest.mark.parametrize("path", TRITON_SAMPLES, ids=lambda p: p.name)
def test_sample_matches_torch_under_interpreter(
    path: Path, interpreter_results: dict[str, dict[str, object]]
) -> None:
    result = interpreter_results.get(path.name)
    assert result is not None, f"the runner printed nothing for {path.name}"
    assert result["ok"], f"{result.get('error')}\n{result.get('trace', '')}"
