"""Where a verify or bench job's wall time goes: exclusive per-phase seconds on every verdict and
measurement, so a slow candidate can be diagnosed from its result alone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kernelwright.core.jobs import BenchJob, BenchOptions, CandidateRef, VerifyJob
from kernelwright.core.jsonable import from_json, to_json
from kernelwright.core.measure import BenchReply, JobPhase, Verdict
from kernelwright.harness import clock
from kernelwright.harness.timing import PhaseClock
from unit.harness.jobs_subprocess import ADVERSARIAL, run_jobs
from unit.harness.test_adversarial import SOFTMAX

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

FAST = BenchOptions(profile_lines=False, compile_baseline=False, min_time_s=0.05, max_time_s=0.3)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    now = [100.0]
    monkeypatch.setattr(clock, "perf_counter", lambda: now[0])
    yield now


def test_nested_phases_are_exclusive_and_sum_to_the_whole(fake_clock: list[float]) -> None:
    phases = PhaseClock()
    with phases(JobPhase.TRIALS):
        fake_clock[0] += 1.0
        with phases(JobPhase.POISON):
            fake_clock[0] += 0.25
        fake_clock[0] += 2.0
        with phases(JobPhase.POISON):
            fake_clock[0] += 0.5
    assert phases.seconds == {"trials": 3.0, "poison": 0.75}


def test_a_phase_left_by_an_exception_still_counts(fake_clock: list[float]) -> None:
    phases = PhaseClock({"static": 0.5})
    with pytest.raises(ValueError), phases(JobPhase.LOAD_CANDIDATE):
        fake_clock[0] += 2.0
        raise ValueError("load failed")
    assert phases.merged({"timing": 1.0, "static": 0.25}) == {
        "static": 0.75,
        "load_candidate": 2.0,
        "timing": 1.0,
    }


def _verify_job(candidate: str, time_candidate: bool) -> tuple[str, object]:
    path = ADVERSARIAL / candidate
    job = VerifyJob(
        SOFTMAX, CandidateRef(str(path), path.read_text()), time_candidate=time_candidate, options=FAST
    )
    return ("verify", to_json(job))


def test_verdicts_and_measurements_carry_their_phase_seconds() -> None:
    started = time.perf_counter()
    passed, rejected, bench = run_jobs(
        [
            _verify_job("honest_softmax.py", time_candidate=True),
            _verify_job("cheat_zeros.py", time_candidate=False),
            ("bench", to_json(BenchJob(SOFTMAX, options=FAST))),
        ]
    )
    wall = time.perf_counter() - started

    verdict = from_json(Verdict, passed)
    assert verdict.passed, verdict.message
    verify_phases = {"static", "load_reference", "load_candidate", "reference_checks", "null_check"}
    verify_phases |= {"trials", "precision", "refill"}
    timing_phases = {"first_call", "timing_reference", "timing_candidate", "timed_output_check"}
    assert verify_phases | timing_phases <= set(verdict.phase_seconds)
    assert all(s >= 0 for s in verdict.phase_seconds.values())
    # The interleaved run lasts at least min_time_s; the phases sum to no more than the whole run.
    timed = verdict.phase_seconds["timing_reference"] + verdict.phase_seconds["timing_candidate"]
    assert timed >= FAST.min_time_s
    assert sum(verdict.phase_seconds.values()) < wall
    assert verdict.measurement is not None
    assert set(verdict.measurement.phase_seconds) >= {"timing_candidate", "timing_reference"}
    assert verdict.reference_measurement is not None
    assert verdict.reference_measurement.phase_seconds == {}
    assert from_json(Verdict, to_json(verdict)) == verdict

    rejection = from_json(Verdict, rejected)
    assert not rejection.passed and rejection.check is not None
    assert {"load_candidate", "trials"} <= set(rejection.phase_seconds)
    assert "timing" not in rejection.phase_seconds

    reply = from_json(BenchReply, bench)
    assert reply.measurement is not None
    assert {"load", "inputs", "first_call", "timing"} <= set(reply.measurement.phase_seconds)
