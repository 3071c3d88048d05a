"""Typed jobs over the pool: bench, verify, profile, calibrate and ping in core types, not JSON.

These helpers pick the device, rewrite the job's device to the name the pinned worker sees (`cuda:0`),
attach the stored calibration, and turn a worker death into the answer it means: a candidate that
crashes, hangs or exhausts memory is *rejected* (a Verdict naming what happened), a bench that does so
*failed* (a BenchFailure). Failures that are not the code's fault (the worker did not start, the job was
cancelled) raise JobError.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TypeVar

from kernelwright.core.jobs import (
    BenchJob,
    BenchOptions,
    CalibrateJob,
    CandidateRef,
    JobType,
    Origin,
    ProblemRef,
    VerifyJob,
)
from kernelwright.core.jsonable import JsonValue, from_json, to_json
from kernelwright.core.measure import (
    BenchFailure,
    BenchReply,
    CalibrateReply,
    Calibration,
    CheckName,
    ErrorStage,
    Measurement,
    PingReply,
    Verdict,
)
from kernelwright.core.protocol import ErrorCode, JobErrorInfo
from kernelwright.engine import confinement
from kernelwright.engine.backends import EnginePool
from kernelwright.engine.calibrations import load_calibration
from kernelwright.engine.devices import Device
from kernelwright.engine.job_error import JobError

T = TypeVar("T")
J = TypeVar("J", BenchJob, VerifyJob, CalibrateJob)

TAIL_LINES = 40

# Worker deaths that the code under test caused: they answer the job rather than abort it.
CODE_FAULTS = frozenset(
    {
        ErrorCode.CRASH,
        ErrorCode.EXIT,
        ErrorCode.TIMEOUT,
        ErrorCode.OOM,
        ErrorCode.CUDA_FAULT,
        ErrorCode.EXCEPTION,
    }
)


async def bench(
    pool: EnginePool,
    job: BenchJob,
    *,
    fresh: bool = False,
    timeout: float | None = None,
    calibration_root: Path | None = None,
) -> Measurement | BenchFailure:
    """Measure a site. `fresh=True` when the code is a candidate rather than the person's own."""
    device, job = _pinned(pool, job)
    if job.calibration is None:
        job = dataclasses.replace(job, calibration=await _stored_calibration(pool, device, calibration_root))
    try:
        raw = await pool.submit(JobType.BENCH, to_json(job), fresh=fresh, timeout=timeout, device=device)
    except JobError as err:
        if err.code not in CODE_FAULTS:
            raise
        stage = ErrorStage.MEMORY if err.code is ErrorCode.OOM else ErrorStage.RUN
        return BenchFailure(stage, f"{err.code}: {err.message}", traceback_tail=_tail(err))
    reply = _parse(BenchReply, raw)
    if reply.measurement is not None:
        return reply.measurement
    if reply.failure is not None:
        return reply.failure
    return BenchFailure(ErrorStage.JOB, "the worker's bench reply had neither a measurement nor a failure")


async def verify(
    pool: EnginePool, job: VerifyJob, *, timeout: float | None = None, calibration_root: Path | None = None
) -> Verdict:
    """Verify a candidate in a fresh worker. A crash, hang or fault of the candidate is a rejection."""
    device, job = _pinned(pool, job)
    if job.calibration is None and job.time_candidate:
        job = dataclasses.replace(job, calibration=await _stored_calibration(pool, device, calibration_root))
    try:
        outcome = await pool.execute(JobType.VERIFY, to_json(job), fresh=True, timeout=timeout, device=device)
    except JobError as err:
        if err.code not in CODE_FAULTS:
            raise
        return _redacted(_judge_died(err))
    verdict = _parse(Verdict, outcome.result)
    if outcome.confined is False:
        why = pool.confinement.reason or "no box on this host"
        verdict = dataclasses.replace(verdict, notes=(*verdict.notes, f"ran unconfined: {why}"))
    return _redacted(verdict)


def _judge_died(err: JobError) -> Verdict:
    """The verdict when the judge's own process died. It runs no candidate code (the candidate's process
    reports its own death through the judge), so an exit, crash or fault there is the reference's doing;
    a time-out or running out of memory may be either side's, and says so."""
    if err.code is ErrorCode.TIMEOUT:
        check = CheckName.RUN
        message = (
            f"{check}: the job ran past its time-out ({err.message}); the reference or the candidate hung, "
            "or the job needs more time (--timeout)"
        )
    elif err.code is ErrorCode.OOM:
        check = CheckName.MEMORY
        message = f"{check}: the judge's process ran out of memory ({err.message})"
    elif err.code is ErrorCode.EXCEPTION:
        check = CheckName.RUN
        message = (
            f"{check}: the judge's job raised ({err.message}); this is kernelwright's error, please report it"
        )
    else:
        check = CheckName.PROBLEM
        message = (
            f"{check}: the reference took down the judge's process, which runs no candidate code "
            f"({err.code}: {err.message})"
        )
    return Verdict(
        passed=False,
        check=check,
        message=message,
        traceback_tail=_tail(err),
        worker_error=err.code,
    )


def _redacted(verdict: Verdict) -> Verdict:
    """The verdict with no secret of this process's environment in its text: it goes to the model in
    the next prompt, into the store and onto the screen, and a candidate's own words are in it."""
    values = confinement.secret_values(os.environ)
    if not values:
        return verdict
    return dataclasses.replace(
        verdict,
        message=confinement.redact(verdict.message, values),
        traceback_tail=None
        if verdict.traceback_tail is None
        else confinement.redact(verdict.traceback_tail, values),
        notes=tuple(confinement.redact(n, values) for n in verdict.notes),
    )


@dataclasses.dataclass(frozen=True)
class Profile:
    """A profile of a person's site: its bench outcome, and whether it still behaves as before."""

    outcome: Measurement | BenchFailure
    # Why the code no longer matches the version that last ran well; None when it does or was not checked.
    mismatch: str | None = None


async def profile(
    pool: EnginePool,
    problem: ProblemRef,
    device: str,
    options: BenchOptions,
    *,
    last_good: str | None = None,
) -> Profile:
    """Bench the person's code; first, when `last_good` (the whole file as it was when the site last
    ran well) is given, verify the code now against it, so an edit that changes results shows up."""
    mismatch = None
    if last_good is not None:
        candidate = CandidateRef(
            path=problem.path,
            source=problem.source,
            symbol=problem.symbol,
            spec=problem.spec,
            origin=Origin.PERSON,  # the person's own edit: it may run unconfined where no box can be made
        )
        reference = dataclasses.replace(problem, source=last_good)
        verdict = await verify(pool, VerifyJob(reference, candidate, device=device))
        mismatch = None if verdict.passed else verdict.message
    return Profile(await bench(pool, BenchJob(problem, device, options)), mismatch)


async def calibrate(
    pool: EnginePool, job: CalibrateJob | None = None, *, timeout: float | None = None
) -> Calibration | BenchFailure:
    """Measure the device's copy bandwidth and matmul peaks (the caller stores them: save_calibration)."""
    device, job = _pinned(pool, job or CalibrateJob())
    try:
        raw = await pool.submit(JobType.CALIBRATE, to_json(job), fresh=False, timeout=timeout, device=device)
    except JobError as err:
        if err.code not in CODE_FAULTS:
            raise
        return BenchFailure(ErrorStage.RUN, f"{err.code}: {err.message}", traceback_tail=_tail(err))
    reply = _parse(CalibrateReply, raw)
    if reply.calibration is not None:
        return reply.calibration
    return reply.failure or BenchFailure(ErrorStage.JOB, "the worker's calibrate reply was empty")


async def ping(pool: EnginePool, device: Device) -> PingReply:
    """The device's name, versions and tools, from the hello of its workers (or a ping job if none yet)."""
    hello = pool.hello(device)
    raw = hello.info if hello is not None else await pool.submit(JobType.PING, {}, fresh=False, device=device)
    return _parse(PingReply, raw)


async def _stored_calibration(pool: EnginePool, device: Device, root: Path | None) -> Calibration | None:
    if device.is_cpu:
        return None
    reply = await ping(pool, device)
    return load_calibration(reply.device.name, root)


def _pinned(pool: EnginePool, job: J) -> tuple[Device, J]:
    """The device the job goes to, and the job renamed for the worker pinned to it (`cuda:0`)."""
    device = pool.pick(_wanted(job.device))
    return device, dataclasses.replace(job, device=device.local)


def _wanted(device: str) -> str | None:
    return None if device == "auto" else device


def _tail(err: JobError) -> str | None:
    # Enough lines to hold faulthandler's whole stack on a segfault, which names the candidate's line.
    return err.output.last_lines(TAIL_LINES) or err.info.traceback or None


def _parse(cls: type[T], raw: JsonValue) -> T:
    try:
        return from_json(cls, raw)
    except (TypeError, ValueError, KeyError) as exc:
        why = f"the worker's reply is not a {cls.__name__}: {exc}; is the worker's kernelwright the server's?"
        raise JobError(JobErrorInfo(ErrorCode.PROTOCOL, why)) from None
