"""The judge and its candidate worker on a real GPU: every candidate of samples/adversarial's and
samples/semantics' catalogues (cases.toml), the side-stream cheats and the training-mode BatchNorm and
Dropout problems among them, judged as the catalogue says for a GPU.
Run on the device machine: `pytest -q tests/gpu -m gpu`."""

from __future__ import annotations

import re

import pytest
from kernelwright.core.jsonable import from_json, to_json
from kernelwright.core.measure import Verdict
from support.adversarial import SEMANTICS, load_cases
from unit.harness.jobs_subprocess import run_jobs

pytestmark = pytest.mark.gpu
CASES = load_cases() | load_cases(SEMANTICS)


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Verdict]:
    jobs = [("verify", to_json(case.job("cuda"))) for case in CASES.values()]
    replies = run_jobs(jobs, timeout=1500)
    return {name: from_json(Verdict, r) for name, r in zip(CASES, replies, strict=True)}


@pytest.mark.parametrize("name", list(CASES))
def test_each_candidate_is_judged_as_the_catalogue_says(name: str, verdicts: dict[str, Verdict]) -> None:
    if "gpu" in CASES[name].gaps:
        pytest.xfail(CASES[name].gaps["gpu"])
    expected = CASES[name].expected["gpu"]
    v = verdicts[name]
    if CASES[name].flag is not None:
        assert CASES[name].flag in v.flags, v.flags
    if not expected:
        assert v.passed, v.message
        assert CASES[name].within_speedup(v), (v.speedup, v.message)
        return
    assert not v.passed, f"{name} passed on the GPU: {v.message}"
    assert v.check is not None and re.fullmatch(expected, v.check.value), v.message


def test_the_honest_rewrites_are_timed_with_an_interval(verdicts: dict[str, Verdict]) -> None:
    for name in ("honest_softmax.py", "honest_matmul.py"):
        v = verdicts[name]
        assert v.passed and v.speedup is not None and v.measurement is not None, v.message
        assert v.measurement.timing.method.value == "cuda_events"
        assert v.measurement.roofline is not None
