"""`kernelwright suite DIR` on the CPU through real workers: problems that run, one that fails, files
that are not problems; a line per problem and the summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kernelwright.cli import main

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

ROOT = Path(__file__).resolve().parents[3]

FAILING = """import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        raise RuntimeError("this reference cannot run here")


def get_inputs():
    return [torch.randn(4, 4)]


def get_init_inputs():
    return []
"""


def test_a_folder_of_problems_is_scored_and_bad_files_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "samples/suite/softmax.py", tmp_path / "softmax.py")
    (tmp_path / "broken.py").write_text("class Model(:\n")
    (tmp_path / "helpers.py").write_text("import torch\n")
    (tmp_path / "raises.py").write_text(FAILING)
    report = tmp_path / "suite.html"
    code = main(
        [
            "suite",
            str(tmp_path),
            "--device",
            "cpu",
            "--budget",
            "rounds=1,candidates=1",
            "--report",
            str(report),
            "--json",
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert code == 0, lines
    problems = {Path(p["path"]).name: p for p in lines if p.get("kind") == "problem"}
    done = lines[-1]
    assert done["kind"] == "suite_done"
    assert (
        problems["broken.py"]["status"] == "skipped" and "does not parse" in problems["broken.py"]["reason"]
    )
    assert problems["helpers.py"]["status"] == "skipped" and "KernelBench" in problems["helpers.py"]["reason"]
    assert problems["raises.py"]["status"] == "failed"
    assert "cannot run here" in problems["raises.py"]["reason"]
    soft = problems["softmax.py"]
    # The written-out softmax becomes torch.softmax, verified and timed against the original, and the
    # compile modes the one-candidate budget left out were timed as well.
    assert soft["status"] == "done" and soft["correct"], soft
    assert soft["kept"] in (None, "r1-builtin-torch-ops")
    assert set(soft["compile_speedups"]) == {"compile-default", "compile-max-autotune"}
    assert done["min_speedup"] == 1.0  # the suite's keep rule: faster than eager, the whole interval
    summary = done["summary"]
    assert (summary["problems"], summary["evaluated"], summary["failed"], summary["skipped"]) == (4, 1, 1, 2)
    assert summary["correct_rate"] == 1.0
    assert "<svg" in report.read_text() and "softmax.py" in report.read_text()


def test_a_keep_threshold_that_is_not_a_speedup_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("fast", "0", "-1", "nan"):
        assert main(["suite", str(tmp_path), "--min-speedup", bad]) == 2
        captured = capsys.readouterr()
        assert "give a speedup over eager such as 1.0 or 1.03" in captured.out + captured.err


def test_a_path_that_is_not_a_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["suite", str(tmp_path / "nope"), "--json"]) == 2
    assert "not a folder" in capsys.readouterr().out
    assert main(["suite", str(tmp_path), "--json"]) == 2
    assert "no .py files" in capsys.readouterr().out
