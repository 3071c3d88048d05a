"""Bench: load a site, run it once, time it honestly, add baselines, roofline, line costs and ncu metrics.

A candidate is never timed here: the judge times it against its reference, interleaved and across two
processes (harness.interleave).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from kernelwright.core.jobs import BenchJob, BenchOptions
from kernelwright.core.measure import (
    Baseline,
    BaselineKind,
    BenchFailure,
    BenchReply,
    Calibration,
    ErrorStage,
    JobPhase,
    Measurement,
    TimingStats,
    content_key,
)
from kernelwright.core.site import CudaSpec, FunctionSpec
from kernelwright.harness import clock
from kernelwright.harness.compare import problem_size, tensors_in
from kernelwright.harness.cuda_build import CompileError
from kernelwright.harness.device import Target, free_bytes, gib, machine_lacks, triton_interpreted, versions
from kernelwright.harness.faults import is_out_of_memory
from kernelwright.harness.line_cost import profile_call
from kernelwright.harness.problem import Problem, RefusedError
from kernelwright.harness.roofline import (
    FlopCount,
    compute_dtype,
    count_flops,
    masked_note,
    moved_bytes,
    roofline,
)
from kernelwright.harness.source import LoadError, error_place
from kernelwright.harness.timing import (
    PhaseClock,
    TimingPlan,
    few_calls,
    l2_note,
    not_timed,
    suspicious,
    time_calls,
)
from kernelwright.harness.verify import load_side

TIMING_SEED = 777
MAX_INPUT_SETS = 8
INPUT_MEMORY_SHARE = 0.3  # at most this share of free device memory goes to rotated input sets


class Stop(Exception):
    def __init__(self, failure: BenchFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def load_problem(job: BenchJob, target: Target) -> Problem:
    p = job.problem
    return load_side(p, p.path, p.source, p.symbol, target, "bench", job.options)


def _load_or_stop(job: BenchJob, target: Target) -> Problem:
    try:
        return load_problem(job, target)
    except LoadError as exc:
        raise Stop(BenchFailure(ErrorStage.LOAD, str(exc), traceback_tail=exc.tail, line=exc.line)) from None
    except CompileError as exc:
        raise Stop(BenchFailure(ErrorStage.COMPILE, str(exc), log=exc.log, line=exc.line)) from None
    except RefusedError as exc:
        stage = ErrorStage.NO_GPU if isinstance(job.problem.spec, CudaSpec) else ErrorStage.REFUSED
        raise Stop(BenchFailure(stage, str(exc))) from None


def _guard(problem: Problem, stage: ErrorStage, fn: Callable[[], Any], target: Target) -> Any:
    try:
        return fn()
    except Exception as exc:
        raise _stop(problem, stage, exc, target) from None


def _stop(problem: Problem, stage: ErrorStage, exc: Exception, target: Target) -> Stop:
    """The bench's end when `stage` raised `exc`: whose failure it is (the file's, the machine's)."""
    if isinstance(exc, LoadError):  # an input factory the file does not define
        return Stop(BenchFailure(ErrorStage.LOAD, str(exc), traceback_tail=exc.tail, line=exc.line))
    lacks = machine_lacks(exc, target, problem.symbol)
    if lacks is not None:
        return Stop(BenchFailure(ErrorStage(lacks[0]), lacks[1]))
    place = error_place(exc, problem.path)
    where = f" at line {place.line + 1}" if place.line is not None else ""
    return Stop(
        BenchFailure(stage, f"{type(exc).__name__}{where}: {exc}", traceback_tail=place.tail, line=place.line)
    )


def timing_input_sets(
    problem: Problem, target: Target, first: tuple[Any, ...]
) -> tuple[list[tuple[Any, ...]], str | None]:
    """Input sets at distinct addresses, made before any timed call (docs/PITFALLS.md 3), and a note when
    fewer than wanted fit: at most INPUT_MEMORY_SHARE of the free memory goes to the extra sets, and one
    whose drawing runs out of memory ends the drawing (timing with fewer sets beats not timing at all)."""
    sets = [first]
    wanted = MAX_INPUT_SETS if target.is_cuda else 3
    want = wanted
    per_set = sum(t.numel() * t.element_size() for t in tensors_in(first))
    free = free_bytes(target)
    if per_set > 0 and free is not None:
        want = max(1, min(want, 1 + int(INPUT_MEMORY_SHARE * free // per_set)))
    for seed in range(TIMING_SEED + 1, TIMING_SEED + want):
        drawn = _extra_set(problem, seed, target)
        if drawn is None:
            break
        sets.append(drawn)
    if len(sets) >= wanted:
        return sets, None
    room = f" with {gib(free)} free" if free is not None else ""
    return sets, (
        f"timed with {len(sets)} input set(s) instead of {wanted}: each takes {gib(per_set)}{room} on "
        f"{target.info.name} (fewer sets let caches warm between calls; smaller inputs avoid that)"
    )


def _extra_set(problem: Problem, seed: int, target: Target) -> tuple[Any, ...] | None:
    """One more input set, or None when it does not fit in memory (other failures stop the bench)."""
    try:
        return problem.draw(seed)
    except Exception as exc:
        if is_out_of_memory(exc):
            return None
        raise _stop(problem, ErrorStage.INPUTS, exc, target) from None


def _plan(options: BenchOptions) -> TimingPlan:
    return TimingPlan(
        warmup=options.warmup,
        repeats=options.repeats,
        min_time_s=options.min_time_s,
        max_time_s=options.max_time_s,
    )


def _flops(problem: Problem, first: tuple[Any, ...], baseline_of: Problem | None) -> FlopCount | None:
    """FLOPs of one call. Torch's flop counter cannot see inside a Triton kernel, so when it counts
    nothing and the directive names a torch `reference=` implementation, that is counted instead."""
    flops = count_flops(lambda: problem(first))
    spec = problem.spec
    if flops is not None or not isinstance(spec, FunctionSpec) or not spec.reference:
        return flops
    for module in (problem.module, baseline_of.module if baseline_of else None):
        oracle = getattr(module, spec.reference, None) if module is not None else None
        if callable(oracle):
            return count_flops(functools.partial(oracle, *first))
    return None


def measure(
    problem: Problem,
    source: str,
    target: Target,
    options: BenchOptions,
    calibration: Calibration | None,
    baseline_of: Problem | None = None,
) -> Measurement:
    """Time `problem`; with `baseline_of`, time that (the reference) in the same run as the eager baseline.
    Raises Stop with a BenchFailure for the person when something of theirs fails.
    The measurement's `phase_seconds` say where its wall time went (not the load, which callers add)."""
    phases = PhaseClock()
    notes = list(problem.notes)
    with phases(JobPhase.INPUTS):
        first = _guard(problem, ErrorStage.INPUTS, lambda: problem.draw(TIMING_SEED), target)
    with phases(JobPhase.FIRST_CALL):
        outputs = _guard(problem, ErrorStage.RUN, lambda: _call_once(problem, first, target), target)
    size = problem_size(first)
    interpreted = problem.uses_triton and triton_interpreted()
    if interpreted:
        notes.append("not timed (Triton interpreter): ran for correctness only")
        return Measurement(
            symbol=problem.symbol,
            source_hash=content_key(source),
            device=target.info,
            timing=not_timed(),
            versions=versions(),
            created_at=time.time(),
            problem_size=size,
            notes=tuple(notes),
            phase_seconds=phases.merged({}),
        )
    with phases(JobPhase.INPUTS):
        sets, sets_note = timing_input_sets(problem, target, first)
        if sets_note is not None:
            notes.append(sets_note)
    plan = _plan(options)
    with phases(JobPhase.TIMING):
        timing = _guard(problem, ErrorStage.TIMING, lambda: time_calls(problem, sets, target, plan), target)
    notes.extend(note for note in (suspicious(timing), few_calls(timing), l2_note(timing)) if note)
    with phases(JobPhase.ROOFLINE):
        module = problem.target if isinstance(problem.target, torch.nn.Module) else None
        nbytes = moved_bytes(first, outputs, module, skip=problem.output_args)
        # Only a GPU figure gets a roofline, and the flop counter's first use in a worker costs ~1 s.
        counted = target.is_cuda and not problem.output_args
        flops = _flops(problem, first, baseline_of) if counted else None
        if note := masked_note(flops):
            notes.append(note)
        roof = (
            roofline(
                nbytes,
                flops.total if flops else None,
                compute_dtype(first, flops),
                timing.median_us,
                target.info,
                calibration,
            )
            if target.is_cuda
            else None
        )
    if not target.is_cuda:
        notes.append("timed on the CPU: no roofline (CPU figures are not GPU figures)")
    baselines = _baselines(problem, baseline_of, sets, target, plan, timing, options, phases)
    if not options.compile_baseline and options.compile_off_by and _is_torch_site(baseline_of or problem):
        # Said, not only left out: a figure beside no torch.compile one reads as the best there is
        # (docs/PITFALLS.md 6).
        notes.append(
            f"torch.compile not timed beside it ({options.compile_off_by}): nothing here compares it "
            f"with what people would use instead"
        )
    kernels: tuple[Any, ...] = ()
    lines: tuple[Any, ...] = ()
    if options.profile_lines and not problem.output_args:
        try:
            with phases(JobPhase.PROFILE):
                prof = profile_call(lambda: problem(first), problem.path, target.is_cuda, source)
            kernels, lines = prof.kernels, prof.line_costs
            if not target.is_cuda:  # profiler overhead inflates CPU op times: keep shares, scale to timing
                lines = tuple(replace(c, time_us=c.share * timing.median_us) for c in lines)
        except Exception as exc:  # profiling is a bonus: its failure must not lose the timing
            notes.append(f"line profile unavailable: {type(exc).__name__}: {exc}")
    return Measurement(
        symbol=problem.symbol,
        source_hash=content_key(source),
        device=target.info,
        timing=timing,
        versions=versions(),
        created_at=time.time(),
        problem_size=size,
        roofline=roof,
        baselines=baselines,
        kernels=kernels,
        line_costs=lines,
        notes=tuple(notes),
        phase_seconds=phases.merged({}),
    )


def _call_once(problem: Problem, args: tuple[Any, ...], target: Target) -> Any:
    with torch.inference_mode():
        out = problem(args)
    if target.is_cuda:
        clock.cuda_synchronize(target.device)
    return out


def _is_torch_site(problem: Problem) -> bool:
    return not problem.uses_triton and not problem.output_args


def _baselines(
    problem: Problem,
    reference: Problem | None,
    sets: list[tuple[Any, ...]],
    target: Target,
    plan: TimingPlan,
    timing: TimingStats,
    options: BenchOptions,
    phases: PhaseClock,
) -> tuple[Baseline, ...]:
    out: list[Baseline] = []
    eager = reference or problem
    if reference is not None and options.eager_baseline:
        with phases(JobPhase.TIMING_REFERENCE):
            t = time_calls(reference, sets, target, plan)
        out.append(Baseline(BaselineKind.EAGER, t, _ratio(t, timing)))
    if options.compile_baseline and _is_torch_site(eager):
        try:
            compiled = torch.compile(eager.target)
            with phases(JobPhase.TIMING_COMPILE):
                t = time_calls(lambda args: compiled(*args), sets, target, plan)
            out.append(Baseline(BaselineKind.COMPILE, t, _ratio(t, timing)))
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            out.append(
                Baseline(
                    BaselineKind.COMPILE,
                    None,
                    None,
                    error=f"torch.compile failed: {type(exc).__name__}: {first}",
                )
            )
    return tuple(out)


def _ratio(baseline: TimingStats, timing: TimingStats) -> float | None:
    """Baseline median / measured median (> 1: the measured code is faster); None for a zero median."""
    return baseline.median_us / timing.median_us if timing.median_us else None


def bench(job: BenchJob, target: Target) -> BenchReply:
    phases = PhaseClock()
    try:
        with phases(JobPhase.LOAD):
            problem = _load_or_stop(job, target)
        m = measure(problem, job.problem.source, target, job.options, job.calibration)
    except Stop as stop:
        return BenchReply(failure=stop.failure)
    finally:
        clock.restore()
    if job.options.ncu and target.is_cuda:
        from kernelwright.harness.ncu import collect

        with phases(JobPhase.NCU):
            metrics, note = collect(job)
        m = replace(m, kernel_metrics=metrics, notes=m.notes + ((note,) if note else ()))
    elif job.options.ncu:
        m = replace(m, notes=(*m.notes, "ncu needs a GPU: not run"))
    return BenchReply(measurement=replace(m, phase_seconds=phases.merged(m.phase_seconds)))
