"""`kernelwright verify` on this CPU machine: honest passes, cheats are rejected by name, faults too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kernelwright.cli import main

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

ROOT = Path(__file__).resolve().parents[3]
ADVERSARIAL = ROOT / "samples" / "adversarial"
FAULTS = ROOT / "tests" / "data" / "faults"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["verify", *argv, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, dict)
    return code, doc


def test_an_honest_candidate_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(ADVERSARIAL / "gelu_reference.py"), str(ADVERSARIAL / "honest_gelu.py"))
    assert code == 0, doc
    assert doc["passed"] is True and doc["check"] is None
    assert doc["candidate"] == {"path": str(ADVERSARIAL / "honest_gelu.py"), "symbol": "ModelNew"}


def test_a_cheat_is_rejected_and_the_check_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(
        capsys, str(ADVERSARIAL / "softmax_reference.py"), str(ADVERSARIAL / "cheat_zeros.py")
    )
    assert code == 1
    assert doc["passed"] is False and doc["check"] == "error_norm"


def test_human_output_names_the_failed_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", str(ADVERSARIAL / "softmax_reference.py"), str(ADVERSARIAL / "cheat_zeros.py")])
    assert code == 1
    assert "REJECTED: error_norm" in capsys.readouterr().out


def test_a_candidate_that_crashes_its_worker_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(FAULTS / "reference.py"), str(FAULTS / "segfault.py"))
    assert code == 1
    assert doc["check"] == "run" and "SIGSEGV" in doc["verdict"]["message"]  # type: ignore[index]


@pytest.mark.parametrize("which", ["reference", "candidate"])
def test_a_missing_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, which: str
) -> None:
    ref = tmp_path / "nope.py" if which == "reference" else ADVERSARIAL / "gelu_reference.py"
    cand = tmp_path / "nope.py" if which == "candidate" else ADVERSARIAL / "honest_gelu.py"
    code, doc = run_json(capsys, str(ref), str(cand))
    assert code == 2
    assert "no such file" in doc["error"]["message"]  # type: ignore[index]


def test_an_unknown_symbol_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(
        capsys, f"{ADVERSARIAL / 'gelu_reference.py'}:Nope", str(ADVERSARIAL / "honest_gelu.py")
    )
    assert code == 2
    assert "no site named `Nope`" in doc["error"]["message"]  # type: ignore[index]


BUILDS_CUDA = """import torch
from torch.utils.cpp_extension import load_inline

ext = load_inline(
    "twice",
    cpp_sources="torch::Tensor twice(torch::Tensor x);",
    cuda_sources="#include <torch/extension.h>\\ntorch::Tensor twice(torch::Tensor x) { return x * 2; }",
    functions=["twice"],
)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return ext.twice(x)
"""


def test_a_build_this_machine_cannot_do_is_the_machines_not_the_candidates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from torch.utils.cpp_extension import CUDA_HOME  # None in a CPU build of torch, whatever is installed

    if CUDA_HOME is not None:
        pytest.skip("torch here builds CUDA extensions")
    reference = tmp_path / "twice.py"
    reference.write_text(
        "import torch\n\n\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n\n\n"
        "def get_inputs():\n    return [torch.randn(64)]\n\n\ndef get_init_inputs():\n    return []\n"
    )
    candidate = tmp_path / "twice_cuda.py"
    candidate.write_text(BUILDS_CUDA)
    code, doc = run_json(capsys, str(reference), str(candidate), "--device", "cpu")
    assert code == 1, doc
    assert doc["passed"] is False and doc["check"] == "machine", doc
    message = str(doc["verdict"]["message"])  # type: ignore[index]
    assert "could not be built on this machine, so it was not judged" in message
    assert "CUDA_HOME" in message and "install one" in message
    assert "did not load" not in message and "cannot open shared object" not in message
