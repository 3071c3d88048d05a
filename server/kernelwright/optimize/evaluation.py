"""How the loop evaluates a candidate: the verify job it sends to the pool, what the verdict means to
the provider (outcome, feedback message), and when a run cannot start (no box for model code, the
device's facts)."""

from __future__ import annotations

from typing import Protocol

from kernelwright.core.candidate import Candidate
from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import BenchOptions, CandidateRef, Origin, ProblemRef, VerifyJob
from kernelwright.core.measure import (
    Calibration,
    CheckName,
    DeviceInfo,
    DeviceKind,
    TimingMethod,
    Verdict,
)
from kernelwright.core.settings import ProviderName
from kernelwright.core.site import Convention
from kernelwright.engine import client
from kernelwright.engine.backends import EnginePool
from kernelwright.engine.calibrations import load_calibration
from kernelwright.optimize.providers.base import Provider
from kernelwright.optimize.request import DeviceFacts, Outcome


class Evaluator(Protocol):
    """Verifies and times one candidate against the reference."""

    async def evaluate(self, candidate: Candidate) -> Verdict: ...


class PoolEvaluator:
    """Verify jobs with timing, through the engine's typed client (fresh worker per candidate)."""

    def __init__(
        self,
        pool: EnginePool,
        reference: ProblemRef,
        device: str = "auto",
        trials: int = 3,
        timeout: float | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.pool = pool
        self.reference = reference
        self.device = device
        self.trials = trials
        self.timeout = timeout
        self.calibration = calibration  # measured peaks for roofline fractions (else the peak table)
        # Candidates are compared with each other, not with torch.compile: skip that baseline and the
        # line profile, which cost time per candidate and are not used here.
        self.options = BenchOptions(compile_baseline=False, profile_lines=False)

    async def evaluate(self, candidate: Candidate) -> Verdict:
        spec = None
        if self.reference.spec.convention is Convention.CUDA:
            from kernelwright.analysis import analyze

            site = analyze(candidate.source, self.reference.path).site(candidate.symbol)
            spec = site.spec if site is not None else None
        job = VerifyJob(
            reference=self.reference,
            candidate=CandidateRef(
                self.reference.path, candidate.source, candidate.symbol, spec, origin=origin(candidate)
            ),
            device=self.device,
            trials=self.trials,
            time_candidate=True,
            options=self.options,
            calibration=self.calibration,
        )
        return await client.verify(self.pool, job, timeout=self.timeout)


def outcome(verdict: Verdict) -> Outcome:
    if verdict.passed:
        return Outcome.PASSED
    if verdict.check in (CheckName.LOAD, CheckName.COMPILE):
        return Outcome.LOAD_FAILED
    if verdict.worker_error is not None:
        return Outcome.CRASHED
    return Outcome.CHECK_FAILED


def timings(verdict: Verdict) -> tuple[float | None, float | None, float | None]:
    """(candidate median µs, the reference's median timed in the same run, roofline fraction)."""
    m = verdict.measurement
    if m is None or m.timing.method is TimingMethod.NOT_TIMED or m.timing.median_us <= 0:
        return None, None, None
    fraction = m.roofline.fraction if m.roofline is not None else None
    ref = verdict.reference_measurement
    if ref is None or ref.timing.method is TimingMethod.NOT_TIMED or ref.timing.median_us <= 0:
        return m.timing.median_us, None, fraction
    return m.timing.median_us, ref.timing.median_us, fraction


def origin(candidate: Candidate) -> Origin:
    """Who wrote it: the original is the person's code, the builtin search's rewrites are ours, the rest
    are a model's (and run only in the box)."""
    if candidate.is_baseline:
        return Origin.PERSON
    return Origin.BUILTIN if candidate.provider is ProviderName.BUILTIN else Origin.MODEL


def unboxed_refusal(pool: EnginePool | None, provider: Provider) -> str | None:
    """Why a run must not start (a model's candidates, no box, no consent), else None."""
    if pool is None or provider.name is ProviderName.BUILTIN or pool.config.allow_unconfined:
        return None
    support = pool.confinement
    if support.available:
        return None
    return support.refusal(f"{provider.name.value}'s candidates are model-written and")


def reference_failure(cand: Candidate, verdict: Verdict, path: str) -> str | None:
    """Why the run cannot go on when the reference itself fails (to load, to run, to pass as the
    baseline candidate), else None: every candidate's verdict would be measured against it."""
    if verdict.check is CheckName.PROBLEM:
        return (
            f"the original code could not be run as the reference: {verdict.message}. Fix it (try "
            f"`kernelwright bench {path}`), then run optimize again"
        )
    if cand.is_baseline and not verdict.passed:
        return (
            f"the original code, checked as a candidate against itself, was rejected ({verdict.message}); "
            "candidates cannot be verified against code that does not pass its own check. Try "
            f"`kernelwright bench {path}` to see it run"
        )
    return None


def feedback_message(verdict: Verdict) -> str:
    message = verdict.message
    if verdict.traceback_tail and not verdict.passed:
        message += "\n" + verdict.traceback_tail.strip()
    if verdict.flags:
        message += " Flags: " + ", ".join(f.value for f in verdict.flags) + "."
    return message


async def device_facts(
    pool: EnginePool, device: str, calibration: Calibration | None
) -> tuple[DeviceFacts, Calibration | None]:
    """What the prompt says about the device, and its calibration: the one given, else the one
    `kernelwright calibrate` stored for this device model (which bench and verify jobs read too)."""
    info: DeviceInfo | None = None
    try:
        info = (await client.ping(pool, pool.pick(None if device == "auto" else device))).device
    except (KernelwrightError, RuntimeError):
        info = None
    if info is None:
        return DeviceFacts(name="unknown device"), calibration
    bandwidth: float | None = None
    peaks: tuple[tuple[str, float], ...] = ()
    cal = calibration
    if cal is None and info.kind is DeviceKind.CUDA:
        cal = load_calibration(info.name)
    if cal is not None:
        bandwidth = cal.bandwidth_bytes_per_s
        peaks = tuple(sorted(cal.matmul_flops_per_s.items()))
    facts = DeviceFacts(
        name=info.label,
        kind=info.kind,
        sm_count=info.sm_count,
        memory_bytes=info.memory_bytes,
        bandwidth_bytes_per_s=bandwidth,
        peak_flops=peaks,
    )
    return facts, cal
