"""Every call the harness times or checks runs under torch.inference_mode (docs/PITFALLS.md 17), on both
sides of the judge and in bench's baselines: samples/semantics/inference_only_reference.py raises when
called with autograd on, and its rewrite does the same. The verify job (trials, the repeat, the refill,
the timed blocks) is in test_semantics.py's catalogue; here bench, with the eager and torch.compile
baselines, and the timing loops themselves."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from kernelwright.core.jobs import BenchJob, BenchOptions
from kernelwright.core.jsonable import to_json
from kernelwright.harness.device import resolve
from kernelwright.harness.timing import BlockTimer, TimingPlan, time_cpu
from support.adversarial import SEMANTICS, load_cases
from unit.harness.jobs_subprocess import run_jobs

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)


def test_bench_times_the_problem_and_both_baselines_in_inference_mode() -> None:
    reference = load_cases(SEMANTICS)["inference_only_rewrite.py"].reference
    options = BenchOptions(compile_baseline=True, profile_lines=False, max_time_s=0.5)
    (reply,) = run_jobs([("bench", to_json(BenchJob(reference, device="cpu", options=options)))], timeout=600)
    assert reply.get("failure") is None, reply["failure"]
    baselines = {b["kind"]: b for b in reply["measurement"]["baselines"]}
    assert baselines["compile"]["timing"] is not None, baselines["compile"].get("error")
    assert reply["measurement"]["timing"]["inference_mode"] is True


def test_both_timing_loops_call_in_inference_mode() -> None:
    seen: list[bool] = []

    def fn(args: tuple[Any, ...]) -> Any:
        seen.append(torch.is_inference_mode_enabled())
        return args[0] + 1

    time_cpu(fn, [(torch.zeros(4),)], TimingPlan(warmup=2, repeats=5))
    timer = BlockTimer(dataclasses.replace(resolve("cpu")))
    timer.warm(fn, lambda seed: (torch.zeros(4),), [1, 2])
    timer.block(fn, lambda seed: (torch.zeros(4),), [3, 4, 5])
    assert len(seen) == 2 + 5 + 2 + 3 and all(seen), seen
