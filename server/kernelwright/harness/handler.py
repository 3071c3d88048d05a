"""The worker's entry point: `handle(job_type, payload) -> reply`, all JSON values.

Errors in the person's code come back as typed replies (a Verdict with check LOAD/RUN/..., a BenchReply
with a BenchFailure), never as exceptions. A malformed job (the engine's bug) raises MalformedJob.
"""

from __future__ import annotations

import traceback
from typing import Any

import torch

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.jobs import BenchJob, CalibrateJob, JobType, check_device
from kernelwright.core.jsonable import JsonValue, from_json, to_json
from kernelwright.core.judging import JudgeJob
from kernelwright.core.measure import (
    BenchFailure,
    BenchReply,
    CalibrateReply,
    CheckName,
    ErrorStage,
    PingReply,
    Verdict,
)
from kernelwright.harness import clock  # first: references to the clocks before any candidate loads
from kernelwright.harness import device as devices
from kernelwright.harness.cuda_build import install_load_inline_wrapper

__all__ = ["MalformedJob", "handle"]
assert clock.perf_counter is not None

install_load_inline_wrapper()


class MalformedJob(KernelwrightError):
    """The job payload itself is malformed: a bug on the engine's side, not in the person's code."""


def _parse(cls: type[Any], payload: JsonValue) -> Any:
    try:
        job = from_json(cls, payload)
    except (TypeError, ValueError, KeyError) as exc:
        raise MalformedJob(f"malformed {cls.__name__} payload: {exc}") from None
    try:
        check_device(job.verify.device if isinstance(job, JudgeJob) else job.device)
    except KernelwrightError as exc:
        raise MalformedJob(str(exc)) from None
    return job


def handle(job_type: str, payload: JsonValue) -> JsonValue:
    try:
        kind = JobType(job_type)
    except ValueError:
        raise MalformedJob(
            f"unknown job type `{job_type}`: one of {', '.join(t.value for t in JobType)}"
        ) from None
    if kind is JobType.PING:
        return to_json(ping())
    if kind is JobType.VERIFY:
        return to_json(run_verify(_parse_judge(payload)))
    if kind is JobType.CANDIDATE:
        from kernelwright.harness import candidate_worker

        try:
            return candidate_worker.handle(payload)
        except (candidate_worker.BadQuestion, TypeError, ValueError, KeyError) as exc:
            raise MalformedJob(f"malformed candidate question: {exc}") from None
    if kind is JobType.BENCH:
        return to_json(run_bench(_parse(BenchJob, payload)))
    return to_json(run_calibrate(_parse(CalibrateJob, payload)))


_warmed = False


def _warm_up(target: devices.Target) -> None:
    """One-time costs paid before the worker says hello (hidden: standby workers start ahead of time),
    so the first candidate job does not pay them: the verify and bench modules, and on a GPU torch's
    flop counter, whose first use in a process costs about a second, and Triton's first launch."""
    global _warmed
    if _warmed:
        return
    _warmed = True
    import kernelwright.harness.bench
    import kernelwright.harness.candidate_worker
    import kernelwright.harness.interleave
    import kernelwright.harness.verify  # noqa: F401

    if target.is_cuda:
        from kernelwright.harness.roofline import count_flops
        from kernelwright.harness.triton_warmup import warm_triton

        a = torch.ones(8, 8, device=target.device)
        count_flops(lambda: a @ a)
        warm_triton(target.device)


def ping() -> PingReply:
    target = devices.resolve("auto")
    _warm_up(target)
    return PingReply(
        device=target.info,
        versions=devices.versions(),
        devices=devices.all_cuda_devices(),
        nvcc=devices.nvcc_path(),
        ncu=devices.ncu_path(),
    )


def _parse_judge(payload: JsonValue) -> JudgeJob:
    if not (isinstance(payload, dict) and "verify" in payload):
        raise MalformedJob("a verify job reaches its worker as a JudgeJob (the engine's pool builds it)")
    job: JudgeJob = _parse(JudgeJob, payload)
    return job


def run_verify(judge_job: JudgeJob) -> Verdict:
    """Judge a candidate: this process is the judge; the candidate runs in the job's candidate worker."""
    from kernelwright.harness.verify import verify

    job = judge_job.verify
    try:
        target = devices.resolve(job.device)
    except devices.NoGpuError as exc:
        return Verdict(passed=False, check=CheckName.NO_GPU, message=f"no_gpu: {exc}")
    try:
        return verify(judge_job, target)
    except Exception as exc:  # a harness bug must still answer, with enough to report it
        return Verdict(
            passed=False,
            check=CheckName.RUN,
            message=f"run: verification stopped on an internal error {type(exc).__name__}: {exc}",
            traceback_tail=_internal_error_tail(),
            device=target.info,
        )


def run_bench(job: BenchJob) -> BenchReply:
    from kernelwright.harness.bench import bench

    try:
        target = devices.resolve(job.device)
    except devices.NoGpuError as exc:
        return BenchReply(failure=BenchFailure(ErrorStage.NO_GPU, str(exc)))
    try:
        return bench(job, target)
    except Exception as exc:
        return BenchReply(
            failure=BenchFailure(
                ErrorStage.RUN,
                f"internal error {type(exc).__name__}: {exc}",
                traceback_tail=_internal_error_tail(),
            )
        )


def _internal_error_tail() -> str:
    """The end of the exception being handled: where a harness bug struck, for the bug report."""
    return "\n".join(traceback.format_exc().splitlines()[-12:])


def run_calibrate(job: CalibrateJob) -> CalibrateReply:
    from kernelwright.harness.calibrate import calibrate

    try:
        target = devices.resolve(job.device)
    except devices.NoGpuError as exc:
        return CalibrateReply(failure=BenchFailure(ErrorStage.NO_GPU, str(exc)))
    if not target.is_cuda:
        return CalibrateReply(
            failure=BenchFailure(
                ErrorStage.NO_GPU,
                "calibrate measures a GPU's copy bandwidth and matmul peak; this "
                "worker has no GPU. Run it on the GPU machine.",
            )
        )
    return CalibrateReply(calibration=calibrate(target))
