"""Verdicts that mean what the problem means (issue 12), through the real CPU pool: every candidate of
samples/semantics' catalogue (cases.toml) is judged as it says. KernelBench's modules run in the mode
they are constructed in (BatchNorm from the batch's statistics, Dropout active), the random generator is
seeded alike on both sides, noise-level outputs are compared against float64, and each failure blames
the candidate, the problem or the machine, as is due."""

from __future__ import annotations

import re
from typing import Any

import pytest
from kernelwright.core.jsonable import to_json
from support.adversarial import SEMANTICS, load_cases
from unit.harness.jobs_subprocess import run_jobs

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CASES = load_cases(SEMANTICS)


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Any]:
    replies = run_jobs([("verify", to_json(case.job("cpu"))) for case in CASES.values()], timeout=900)
    return dict(zip(CASES, replies, strict=True))


def test_every_candidate_file_is_in_the_catalogue() -> None:
    files = {p.name for p in SEMANTICS.glob("*.py") if not p.stem.endswith("_reference")}
    assert files == set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_verdict(verdicts: dict[str, Any], name: str) -> None:
    case, v = CASES[name], verdicts[name]
    expected = case.expected["cpu"]
    if expected:
        assert not v["passed"], f"{name} passed: {v['message']}"
        assert re.fullmatch(expected, v["check"]), v["message"]
    else:
        assert v["passed"], v["message"]
    if case.flag is not None:
        assert case.flag in v["flags"], v["flags"]


def test_the_mode_is_named_where_it_matters(verdicts: dict[str, Any]) -> None:
    notes = verdicts["batchnorm_batch_stats.py"]["notes"]
    assert any("training mode, as constructed" in n and "BatchNorm1d" in n for n in notes), notes
    notes = verdicts["batchnorm_folded.py"]["notes"]
    assert any("eval mode, as constructed" in n for n in notes), notes
    notes = verdicts["dropout_functional.py"]["notes"]
    assert any("random generator" in n for n in notes), notes


def test_failures_blame_the_right_party(verdicts: dict[str, Any]) -> None:
    own = verdicts["leftover_super.py"]
    assert "NameError" in own["message"] and "line 11" in own["message"] and own["line"] == 10
    assert "internal error" not in own["message"]
    machine = verdicts["cuda_inputs_relu.py"]
    assert "no GPU" in machine["message"] and ".cuda()" in machine["message"]
    noise = verdicts["noise_equivalent.py"]
    assert any("rounding noise" in n for n in noise["notes"]), noise["notes"]
    clock = verdicts["clock_inputs_honest.py"]
    assert "second draw in the judge's own process" in clock["message"], clock["message"]


def test_non_determinism_is_named_on_the_side_it_is_on(verdicts: dict[str, Any]) -> None:
    # The judge runs the reference twice and the candidate twice on the same inputs.
    of_reference = verdicts["row_sum_plain.py"]
    assert "candidate_non_deterministic" not in of_reference["flags"], of_reference["flags"]
    assert any("the reference is non-deterministic" in n for n in of_reference["notes"])
    of_candidate = verdicts["row_sum_any_order.py"]
    assert "non_deterministic" not in of_candidate["flags"], of_candidate["flags"]
    assert any(
        "candidate is non-deterministic" in n and "reference's own two runs are identical" in n
        for n in of_candidate["notes"]
    ), of_candidate["notes"]
    rerun = verdicts["row_sum_wrong_on_rerun.py"]
    assert "its second on the very same inputs does not" in rerun["message"], rerun["message"]


def test_a_problem_a_null_candidate_passes_is_refused_naming_the_null(verdicts: dict[str, Any]) -> None:
    for name, null in [
        ("null_zeros_rewrite.py", "all zeros"),
        ("null_copy_rewrite.py", "a copy of input 1"),
        ("null_second_input_rewrite.py", "a copy of input 2"),
    ]:
        message = verdicts[name]["message"]
        assert f"a null candidate ({null}) would pass" in message and "problem refused" in message, message
