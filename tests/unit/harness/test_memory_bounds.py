"""Verification within the memory there is (issue 12): a reference whose float64 copy would not fit is
checked without that oracle and says so with the bytes, and a problem that does not fit at all is
reported as the machine's (`memory`), with what it asked for and what is free. Through the real CPU
pool, its workers under a small RLIMIT_AS (engine.config's CPU memory cap)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kernelwright.core.jobs import BenchJob, BenchOptions, CandidateRef, Origin, ProblemRef, VerifyJob
from kernelwright.core.jsonable import to_json
from kernelwright.core.site import ModuleSpec, SiteKind
from unit.harness.jobs_subprocess import run_jobs

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

CAP = 4 * 2**30  # RLIMIT_AS of each worker: a torch process maps about 1 GiB of it before any job

BIG_PARAMETER = """import torch
import torch.nn as nn

N = 512 * 2**20  # 2 GiB of float32 (zeros: address space, hardly any memory touched)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(N))

    def forward(self, x):
        return x * 2 + self.w[: x.numel()].view_as(x)


def get_inputs():
    return [torch.randn(64, 64)]


def get_init_inputs():
    return []
"""

TOO_BIG = """import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        scratch = torch.empty(16 * 2**30)  # 64 GiB
        return x + scratch[:1]


def get_inputs():
    return [torch.randn(8)]


def get_init_inputs():
    return []
"""


def job(tmp_path: Path, name: str, reference: str, candidate: str) -> dict[str, object]:
    ref = tmp_path / f"{name}.py"
    ref.write_text(reference)
    cand = tmp_path / f"{name}_new.py"
    cand.write_text(candidate.replace("class Model(", "class ModelNew("))
    problem = ProblemRef(str(ref), reference, "Model", SiteKind.TORCH_MODULE, ModuleSpec())
    payload = to_json(
        VerifyJob(problem, CandidateRef(str(cand), cand.read_text(), origin=Origin.PERSON), device="cpu")
    )
    assert isinstance(payload, dict)
    return payload


def test_a_float64_copy_that_would_not_fit_is_skipped_and_the_bytes_named(tmp_path: Path) -> None:
    (verdict,) = run_jobs(
        [("verify", job(tmp_path, "big_parameter", BIG_PARAMETER, BIG_PARAMETER))],
        env={"KW_TEST_MEMORY_CAP": str(CAP)},
        timeout=600,
    )
    assert verdict["passed"], verdict["message"]
    (note,) = [n for n in verdict["notes"] if n.startswith("precision check skipped")]
    m = re.search(r"needs about ([\d.]+) GiB and ([\d.]+) GiB is free on", note)
    assert m is not None, note
    assert float(m.group(1)) >= 4.0 and float(m.group(2)) < 2 * float(m.group(1))


def test_a_problem_that_does_not_fit_says_what_it_asked_for_and_what_is_free(tmp_path: Path) -> None:
    (verdict,) = run_jobs([("verify", job(tmp_path, "too_big", TOO_BIG, TOO_BIG))], timeout=300)
    assert not verdict["passed"]
    assert verdict["check"] == "memory", verdict["message"]
    message = verdict["message"]
    assert "the problem does not fit on" in message and "the reference asked for 64.00 GiB with" in message
    assert re.search(r"with [\d.]+ GiB free", message) and "smaller inputs" in message


BIG_INPUT = """import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x * 2


def get_inputs():
    return [torch.ones(160 * 2**20)]  # 640 MiB


def get_init_inputs():
    return []
"""


def test_bench_times_with_fewer_input_sets_where_three_do_not_fit_and_says_so(tmp_path: Path) -> None:
    ref = tmp_path / "big_input.py"
    ref.write_text(BIG_INPUT)
    problem = ProblemRef(str(ref), BIG_INPUT, "Model", SiteKind.TORCH_MODULE, ModuleSpec())
    payload = to_json(BenchJob(problem, device="cpu", options=BenchOptions(repeats=3)))
    (reply,) = run_jobs([("bench", payload)], env={"KW_TEST_MEMORY_CAP": str(CAP)}, timeout=600)
    measurement = reply["measurement"]
    assert measurement is not None, reply
    (note,) = [n for n in measurement["notes"] if n.startswith("timed with")]
    m = re.fullmatch(
        r"timed with ([12]) input set\(s\) instead of 3: each takes 0.62 GiB with ([\d.]+) GiB free .*", note
    )
    assert m is not None, note
    assert float(m.group(2)) < 3 * 0.62 / 0.3  # what made three too many for the share inputs may take
