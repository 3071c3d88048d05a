"""A file that `optimize --apply` rewrote keeps `Model`: `verify ORIGINAL REWRITTEN` checks that class."""

from __future__ import annotations

from pathlib import Path

from kernelwright.cli.common import load_problem
from kernelwright.cli.verify import load_candidate

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples" / "pytorch" / "softmax_unfused.py"


def test_a_rewritten_problem_file_is_checked_through_its_model(tmp_path: Path) -> None:
    reference = load_problem(str(SAMPLE))
    rewritten = tmp_path / SAMPLE.name
    rewritten.write_text(SAMPLE.read_text().replace("    def forward", "    @torch.compile\n    def forward"))
    assert load_candidate(str(rewritten), reference).symbol == "Model"


def test_a_candidate_with_model_new_keeps_the_convention(tmp_path: Path) -> None:
    reference = load_problem(str(SAMPLE))
    both = tmp_path / "both.py"
    both.write_text(SAMPLE.read_text() + "\n\nModelNew = Model\n")
    assert load_candidate(str(both), reference).symbol is None
    only_new = tmp_path / "new.py"
    only_new.write_text("import torch\n\n\nclass ModelNew(torch.nn.Module):\n    pass\n")
    assert load_candidate(str(only_new), reference).symbol is None


def test_a_file_that_does_not_parse_is_left_to_the_worker_to_report(tmp_path: Path) -> None:
    reference = load_problem(str(SAMPLE))
    broken = tmp_path / "broken.py"
    broken.write_text("class Model(:\n")
    assert load_candidate(str(broken), reference).symbol is None
