"""Verification, as the judge does it: a candidate passes only if every check holds; a rejection names
the check that failed.

The judge (this module, in a worker that never runs candidate code) loads the reference, draws every
input, computes the reference's outputs and decides. The candidate runs in its own worker, which the
judge asks through `CandidateLine`: it draws the same inputs from the judge's seeds, calls the candidate
on NaN-poisoned memory and writes the outputs to a file the judge parses as untrusted data.

Order per job: static tamper and fallback scans of the candidate's text; load the reference here and the
candidate there; the reference's own error (twice for determinism, in float64 for precision); null-
candidate refusal; trials on inputs from seeds the candidate cannot know in advance (outputs, input
checksums before and after); the same buffers refilled in place must give new correct results (replay);
then, when asked, the interleaved timing (harness.interleave).
"""

from __future__ import annotations

import functools
import os
import secrets
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from kernelwright.core.jobs import BenchOptions, ProblemRef, VerifyJob, candidate_symbol
from kernelwright.core.judging import CandidateLoad, JudgeJob
from kernelwright.core.measure import CheckName, Flag, JobPhase, Verdict
from kernelwright.core.site import CudaSpec, FunctionSpec, ModuleSpec
from kernelwright.harness.candidate_line import CandidateLine
from kernelwright.harness.compare import (
    compare,
    error_norms,
    map_tensors,
    tensors_in,
    tolerances,
)
from kernelwright.harness.cuda_build import CompileError, check_with_nvcc
from kernelwright.harness.device import Target
from kernelwright.harness.problem import (
    Problem,
    RefusedError,
    build_cuda_problem,
    build_python_problem,
    call_seed,
    seed_all,
)
from kernelwright.harness.source import LoadError
from kernelwright.harness.tamper import static_fallback, static_tamper
from kernelwright.harness.trials import SHAPE_TRIALS, Trials, run_guarded
from kernelwright.harness.verify_context import Context, Rejected

BASE_SEED = 20_251


def load_side(
    ref: ProblemRef,
    path: str,
    source: str,
    symbol: str,
    target: Target,
    role: str,
    options: BenchOptions,
    spec_override: CudaSpec | None = None,
    inputs_module: types.ModuleType | None = None,
) -> Problem:
    spec = ref.spec
    if isinstance(spec, CudaSpec):
        cspec = spec_override or spec
        if symbol != cspec.kernel:
            cspec = replace(cspec, kernel=symbol)
        return build_cuda_problem(
            path=path, source=source, spec=cspec, kind=ref.kind, device=target.device, role=role
        )
    assert isinstance(spec, ModuleSpec | FunctionSpec)
    return build_python_problem(
        path=path,
        source=source,
        symbol=symbol,
        spec=spec,
        kind=ref.kind,
        device=target.device,
        role=role,
        inputs_module=inputs_module,
    )


def _null_candidates(ref_out: Any, args: tuple[Any, ...]) -> list[tuple[str, Any]]:
    def like(fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
        return map_tensors(ref_out, fn)

    nulls: list[tuple[str, Any]] = [
        ("all zeros", like(torch.zeros_like)),
        (
            "random noise",
            like(lambda t: torch.randn_like(t) if t.is_floating_point() else torch.zeros_like(t)),
        ),
    ]
    # Each input in turn: a problem whose output is its second input must be refused as one whose output
    # is its first (the output's leaves that match no input's shape and dtype are zeros).
    for position, arg in enumerate(args, start=1):
        if isinstance(arg, torch.Tensor):
            nulls.append((f"a copy of input {position}", like(functools.partial(_copy_if_like, arg))))
    return nulls


def _copy_if_like(source: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    if source.shape == leaf.shape and source.dtype == leaf.dtype:
        return source.clone()
    return torch.zeros_like(leaf)


def _refuse_null_problem(ref_out: Any, args: tuple[Any, ...], atol: float | None, rtol: float | None) -> None:
    for name, null in _null_candidates(ref_out, args):
        if compare(null, ref_out, atol, rtol) is None:
            raise Rejected(
                CheckName.PROBLEM,
                f"problem refused: a null candidate ({name}) would pass this problem's checks, so passing "
                f"them would prove nothing. Choose inputs whose outputs are not {name} within the tolerances "
                f"(larger values, other sizes), or tighten atol/rtol in the directive.",
            )


def verify(job: JudgeJob, target: Target) -> Verdict:
    """Judge a candidate that runs in another process (the job's candidate worker, asked through
    harness.channel): this process loads only the reference and decides the verdict from data."""
    ctx = Context(target)
    try:
        return _verify(job, ctx)
    except (Rejected, RefusedError, LoadError) as exc:
        rej = _as_rejection(exc)
        worker_error = rej.kw.get("worker_error")
        return Verdict(
            passed=False,
            check=rej.check,
            message=f"{rej.check.value}: {rej}",
            flags=tuple(ctx.flags),
            details=rej.kw.get("details", {}),
            device=target.info,
            trials=int(rej.kw.get("trial", 0)),
            traceback_tail=rej.kw.get("traceback_tail"),
            line=rej.kw.get("line"),
            notes=tuple(ctx.notes),
            worker_error=worker_error,
            phase_seconds=ctx.phases.merged({}),
        )


def _as_rejection(exc: Rejected | RefusedError | LoadError) -> Rejected:
    """The judge's own failures to run the reference (its input factory, here, on this machine) blame
    the problem or the machine, never the candidate."""
    if isinstance(exc, Rejected):
        return exc
    if isinstance(exc, RefusedError):
        return Rejected(CheckName.NO_GPU, str(exc))
    # The line is in the reference's file (the message names it), not the candidate's.
    return Rejected(CheckName.PROBLEM, f"the problem did not run: {exc}", traceback_tail=exc.tail)


def _compile_check_candidate(path: str, source: str) -> None:
    try:
        check_with_nvcc(source, path)
    except CompileError as exc:
        raise _did_not_compile(exc) from None


def _did_not_compile(exc: CompileError) -> Rejected:
    return Rejected(
        CheckName.COMPILE,
        f"the candidate did not compile: {exc}",
        line=exc.line,
        traceback_tail=exc.log[-4000:],
    )


def _verify(judge_job: JudgeJob, ctx: Context) -> Verdict:
    job = judge_job.verify
    ref, cand = job.reference, job.candidate
    target = ctx.target
    symbol = candidate_symbol(ref, cand)

    with ctx.phases(JobPhase.STATIC):
        _static_checks(ref, cand.source, symbol, ctx)
    with ctx.phases(JobPhase.LOAD_REFERENCE):
        reference = _load_reference(job, ctx)
    ctx.notes.extend(reference.notes)
    if target.device.type == "cpu":
        ctx.flag(Flag.CPU_ONLY)
    line = CandidateLine(ctx, judge_job.exchange_view or judge_job.exchange_dir)
    with ctx.phases(JobPhase.LOAD_CANDIDATE):
        loaded = line.load(CandidateLoad(job, judge_job.exchange_dir))
    if loaded.uses_triton and os.environ.get("TRITON_INTERPRET") == "1":
        ctx.flag(Flag.INTERPRETER)

    atol, rtol = tolerances(ref)

    # The reference against itself: determinism, float64 error level, null candidates.
    with ctx.phases(JobPhase.REFERENCE_CHECKS):
        args0 = reference.draw(BASE_SEED)
        ref_out = run_guarded(reference, args0, target, "reference")
        if not tensors_in(ref_out):
            raise Rejected(
                CheckName.PROBLEM, "the reference returns no tensor, so there is nothing to compare"
            )
        ref_again = run_guarded(reference, reference.draw(BASE_SEED), target, "reference")
        slack = 1.0
        spread = max(error_norms(ref_again, ref_out), default=0.0)
        if compare(ref_again, ref_out, 0.0, 0.0) is not None:
            ctx.flag(Flag.NON_DETERMINISTIC)
            ctx.notes.append(
                f"the reference is non-deterministic: two runs differ by relative error norm {spread:.3g}"
            )
            base_rtol = max((rtol or 0.0), 1e-12)
            slack = max(1.0, 10.0 * spread / base_rtol)
        _check_rng_dependence(ctx, reference, ref_out, target)
    with ctx.phases(JobPhase.NULL_CHECK):
        # Against the inputs as drawn, not as the call left them: a CUDA kernel's output buffer is an
        # argument, and after the call it holds the reference's own result.
        _refuse_null_problem(ref_out, reference.draw(BASE_SEED), atol, rtol)
    del ref_again, args0

    # Seeds the candidate cannot know before it is asked: no table of answers for them can be ready.
    seeds = _secret_seeds(max(1, job.trials) + 1 + SHAPE_TRIALS)
    check = Trials(job, ctx, reference, line, ref_out, slack)
    with ctx.phases(JobPhase.TRIALS):
        ref_err = check.trials(seeds[: -1 - SHAPE_TRIALS])
    with ctx.phases(JobPhase.REFILL):
        check.refill(seeds[-1 - SHAPE_TRIALS])
    with ctx.phases(JobPhase.TRIALS):
        shapes = check.other_shapes(seeds[-SHAPE_TRIALS:])
    trials = max(1, job.trials)
    where = target.info.label
    also = ""
    if shapes:
        also = f", and {SHAPE_TRIALS} at other shapes"
        ctx.notes.append(f"also right at other shapes (from `{reference.shapes_from}`): {shapes}")
    verdict = Verdict(
        passed=True,
        check=None,
        message=f"passed {trials} trials, the first again and the in-place refill{also} on {where}",
        flags=tuple(ctx.flags),
        device=target.info,
        trials=trials,
        notes=tuple(ctx.notes),
        details={"reference_error_fp64": ref_err} if ref_err is not None else {},
        phase_seconds=ctx.phases.merged({}),
    )
    if job.time_candidate:
        from kernelwright.harness.interleave import timed_verdict

        verdict = timed_verdict(job, ctx, reference, line, ref_out, slack, verdict)
    if verdict.passed:
        line.confirm_held()  # its processes stayed stopped while the judge worked (engine.freeze)
    return verdict


def _check_rng_dependence(ctx: Context, reference: Problem, ref_out: Any, target: Target) -> None:
    """The reference on the same inputs from another generator state: if its outputs change, they depend on
    torch's random generator (dropout, sampling), and the candidate must draw the same numbers in the same
    order. Both sides' generators are seeded alike before every call (problem.call_seed)."""
    if Flag.NON_DETERMINISTIC in ctx.flags:
        return  # it changes anyway: whether the generator is why cannot be told this way
    args = reference.draw(BASE_SEED)
    seed_all(call_seed(BASE_SEED + 1))
    if compare(run_guarded(reference, args, target, "reference"), ref_out, 0.0, 0.0) is None:
        return
    ctx.flag(Flag.RNG_DEPENDENT)
    ctx.notes.append(
        "the reference's outputs depend on torch's random generator (dropout or sampling): it is seeded "
        "alike before the reference's and the candidate's calls, so a candidate must draw the same random "
        "numbers in the same order (the same torch ops) to match"
    )


def _secret_seeds(n: int) -> list[int]:
    rng = secrets.SystemRandom()
    return [rng.randrange(1, 2**31 - 1) for _ in range(n)]


def _static_checks(ref: ProblemRef, source: str, symbol: str, ctx: Context) -> None:
    """Tampering is rejected before the candidate's code ever runs; a fallback is noted."""
    for hit in static_tamper(source):
        ctx.flag(Flag.TAMPER)
        raise Rejected(
            CheckName.TAMPER,
            f"tamper ({hit.rule}) at line {hit.line + 1}: assigns to `{hit.target}`; {hit.rationale}",
            line=hit.line,
        )
    ref_names = {ref.symbol}
    if isinstance(ref.spec, FunctionSpec) and ref.spec.reference:
        ref_names.add(ref.spec.reference)
    if isinstance(ref.spec, ModuleSpec):
        ref_names.add(ref.spec.model)
    fallbacks = static_fallback(source, ref_names, own=symbol)
    if fallbacks:
        ctx.flag(Flag.FALLBACK)
        ctx.notes.append(
            f"fallback: line {fallbacks[0].line + 1} {fallbacks[0].reason}; a candidate that runs the "
            f"reference is not a kernel"
        )


def _load_reference(job: VerifyJob, ctx: Context) -> Problem:
    ref, cand = job.reference, job.candidate
    try:
        reference = load_side(ref, ref.path, ref.source, ref.symbol, ctx.target, "ref", job.options)
    except RefusedError as exc:
        if isinstance(ref.spec, CudaSpec):
            _compile_check_candidate(cand.path, cand.source)  # its compile errors still help without a GPU
        raise Rejected(CheckName.NO_GPU, str(exc)) from None
    except (LoadError, CompileError) as exc:
        check = CheckName.PROBLEM
        raise Rejected(check, f"the reference did not load: {exc}", line=getattr(exc, "line", None)) from None
    # The reference's functional form: with reference=NAME, that implementation is the oracle.
    if isinstance(ref.spec, FunctionSpec) and ref.spec.reference:
        oracle_obj = getattr(reference.module, ref.spec.reference, None)
        if not callable(oracle_obj):
            raise Rejected(CheckName.PROBLEM, f"reference={ref.spec.reference} is not defined in {ref.path}")
        reference = replace(reference, target=oracle_obj)
    return reference
